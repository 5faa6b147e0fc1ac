'use client';

import { signIn } from 'next-auth/react';
import { useState } from 'react';

export function SignInButton({ callbackUrl }: { callbackUrl: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="button primary"
      disabled={busy}
      onClick={() => {
        setBusy(true);
        void signIn('uaa', { callbackUrl });
      }}
    >
      {busy ? 'Opening UAA…' : 'Sign in with UAA'}
    </button>
  );
}
