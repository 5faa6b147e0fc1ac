import type { NextAuthOptions } from 'next-auth';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { refreshIfDue, revokeRefreshToken, scopesOf, sessionOf, type RefreshOptions } from './session';

// Server-only: the next-auth configuration for signing in through the bundled UAA as the public client
// `pks_console` (authorization code + PKCE, no secret). The session (an encrypted, http-only cookie)
// holds the UAA access and refresh tokens; the access token is refreshed before it expires, and the
// refresh token is revoked at sign-out (./session). The page sees neither.

/** Scopes asked for; the UAA grants the intersection with the user's groups. */
const SCOPES = 'openid profile email roles pks.clusters.admin pks.clusters.admin.read pks.clusters.manage';

interface UaaProfile extends Record<string, unknown> {
  sub: string;
  user_name?: string;
  email?: string;
}

export function uaaUrl(): string {
  const url = process.env.PKS_UAA_URL;
  if (!url) throw new Error('PKS_UAA_URL is not set (the console is started by pks-server)');
  return url.replace(/\/+$/, '');
}

export function apiUrl(): string {
  const url = process.env.PKS_API_URL;
  if (!url) throw new Error('PKS_API_URL is not set (the console is started by pks-server)');
  return url.replace(/\/+$/, '');
}

export function consoleUrl(): string {
  return (process.env.NEXTAUTH_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
}

/** UAA's logout, which ends the UAA session too and then returns to the console's sign-in page. */
export function uaaLogoutUrl(): string {
  const params = new URLSearchParams({ redirect: `${consoleUrl()}/signin`, client_id: 'pks_console' });
  return `${uaaUrl()}/logout.do?${params}`;
}

function uaaProvider(): OAuthConfig<UaaProfile> {
  return {
    id: 'uaa',
    name: 'UAA',
    type: 'oauth',
    wellKnown: `${uaaUrl()}/.well-known/openid-configuration`,
    clientId: 'pks_console',
    client: { token_endpoint_auth_method: 'none' },
    authorization: { params: { scope: SCOPES } },
    checks: ['pkce', 'state'],
    idToken: true,
    profile: (profile) => ({
      id: profile.sub,
      name: profile.user_name ?? profile.sub,
      email: profile.email ?? null,
    }),
  };
}

/** Refreshes through UAA's token endpoint with the server's fetch (never cached by Next). */
function refreshOptions(): RefreshOptions {
  return {
    uaaUrl: uaaUrl(),
    fetch: (url, init) => fetch(url, { ...init, cache: 'no-store' }),
  };
}

/** A UAA that does not answer must not hold the person's sign-out up for long. */
const REVOKE_TIMEOUT_MS = 5_000;

let options: NextAuthOptions | undefined;

/** Built on first use: the UAA URL and secret arrive in the environment when the server starts. */
export function authOptions(): NextAuthOptions {
  options ??= {
    secret: process.env.NEXTAUTH_SECRET,
    providers: [uaaProvider()],
    // Plain-HTTP consoles (loopback) cannot set Secure cookies; an https:// console URL gets them.
    useSecureCookies: consoleUrl().startsWith('https://'),
    session: { strategy: 'jwt' },
    pages: { signIn: '/signin', error: '/signin' },
    events: {
      // Runs on the server inside next-auth's sign-out POST (CSRF-checked), before the session cookie is
      // cleared: a refresh token copied out of the cookie is worthless afterwards. Whatever UAA says,
      // sign-out goes on (next-auth ends the session next, then UAA's logout ends the UAA session).
      async signOut({ token }) {
        if (!token) return;
        const deadline = AbortSignal.timeout(REVOKE_TIMEOUT_MS);
        const outcome = await revokeRefreshToken(token, {
          uaaUrl: uaaUrl(),
          fetch: (url, init) => fetch(url, { ...init, cache: 'no-store', signal: deadline }),
        });
        if (!outcome.revoked)
          console.warn(
            `sign-out of ${token.userName ?? token.sub ?? 'a user'}: the refresh token was not revoked at UAA: ${outcome.reason}`,
          );
      },
    },
    callbacks: {
      async jwt({ token, account, profile }) {
        if (account) {
          return {
            name: token.name,
            sub: token.sub,
            userName: (profile as UaaProfile | undefined)?.user_name ?? token.name ?? undefined,
            accessToken: account.access_token,
            refreshToken: account.refresh_token,
            expiresAt: account.expires_at,
            scopes: scopesOf(account.scope),
          };
        }
        return refreshIfDue(token, refreshOptions());
      },
      session({ session, token }) {
        return sessionOf(session, token);
      },
      redirect({ url, baseUrl }) {
        // Same-origin targets, and UAA's logout (sign-out ends the UAA session too).
        if (url.startsWith('/')) return `${baseUrl}${url}`;
        if (url.startsWith(`${uaaUrl()}/logout.do?`)) return url;
        return new URL(url).origin === baseUrl ? url : baseUrl;
      },
    },
  };
  return options;
}
