import type { Metadata } from 'next';
import { SignInButton } from './SignInButton';

export const metadata: Metadata = { title: 'Sign in' };

const MESSAGES: Record<string, string> = {
  SessionExpired: 'Your session has ended. Sign in again.',
  OAuthCallback: 'The sign-in with UAA did not complete. Try again.',
  OAuthSignin: 'The console could not reach UAA to sign you in.',
  Callback: 'The sign-in with UAA did not complete. Try again.',
};

export default async function SignIn({
  searchParams,
}: {
  searchParams: Promise<{ error?: string; callbackUrl?: string }>;
}) {
  const { error, callbackUrl } = await searchParams;
  const target = callbackUrl?.startsWith('/') ? callbackUrl : '/clusters';
  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1>openpks</h1>
        <p>Kubernetes clusters on demand. Sign in with your UAA account.</p>
        {error ? (
          <p role="alert" className="form-error">
            {MESSAGES[error] ?? 'Signing in failed. Try again.'}
          </p>
        ) : null}
        <SignInButton callbackUrl={target} />
      </div>
    </main>
  );
}
