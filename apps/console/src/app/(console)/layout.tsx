import { getServerSession } from 'next-auth';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { Providers } from '@/components/Providers';
import { Shell } from '@/components/Shell';
import { authOptions, uaaLogoutUrl } from '@/lib/auth';

// Every console page needs a signed-in user; a missing session, or one whose refresh failed, goes to
// the sign-in page (which sends the browser to UAA's own login page).
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const session = await getServerSession(authOptions());
  if (!session) redirect('/signin');
  if (session.error) redirect('/signin?error=SessionExpired');
  return (
    <Providers session={session}>
      <Shell logoutUrl={uaaLogoutUrl()}>{children}</Shell>
    </Providers>
  );
}
