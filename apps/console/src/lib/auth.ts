import type { NextAuthOptions } from 'next-auth';
import type { JWT } from 'next-auth/jwt';
import type { OAuthConfig } from 'next-auth/providers/oauth';

// Server-only: the next-auth configuration for signing in through the bundled UAA as the public client
// `pks_console` (authorization code + PKCE, no secret). The session (an encrypted, http-only cookie)
// holds the UAA access and refresh tokens; the access token is refreshed before it expires.

/** Scopes asked for; the UAA grants the intersection with the user's groups. */
const SCOPES = 'openid profile email roles pks.clusters.admin pks.clusters.admin.read pks.clusters.manage';
/** Refresh this long before the access token expires (the session is polled every minute). */
const REFRESH_MARGIN_SECONDS = 120;
export const REFRESH_ERROR = 'RefreshAccessTokenError';

declare module 'next-auth' {
  interface Session {
    accessToken?: string;
    /** Seconds since the epoch. */
    expiresAt?: number;
    scopes: string[];
    error?: typeof REFRESH_ERROR;
  }
}

declare module 'next-auth/jwt' {
  interface JWT {
    accessToken?: string;
    refreshToken?: string;
    expiresAt?: number;
    scopes?: string[];
    userName?: string;
    error?: typeof REFRESH_ERROR;
  }
}

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

function scopesOf(scope: unknown): string[] {
  if (typeof scope !== 'string') return [];
  return scope.split(/[\s,]+/).filter(Boolean);
}

/** Exchanges the refresh token for a new access token; on failure the session carries REFRESH_ERROR. */
export async function refreshAccessToken(token: JWT): Promise<JWT> {
  if (!token.refreshToken) return { ...token, error: REFRESH_ERROR };
  try {
    const response = await fetch(`${uaaUrl()}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token.refreshToken,
        client_id: 'pks_console',
      }),
      cache: 'no-store',
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== 'string') return { ...token, error: REFRESH_ERROR };
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 600;
    const { error: _previous, ...rest } = token;
    return {
      ...rest,
      accessToken: body.access_token,
      // UAA keeps the refresh token by default (refreshTokenRotate=false); keep ours unless it sends one.
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : token.refreshToken,
      expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
      scopes: typeof body.scope === 'string' ? scopesOf(body.scope) : token.scopes,
    };
  } catch {
    return { ...token, error: REFRESH_ERROR };
  }
}

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
        if (token.error) return token;
        if (token.expiresAt && Date.now() / 1000 < token.expiresAt - REFRESH_MARGIN_SECONDS) return token;
        return refreshAccessToken(token);
      },
      session({ session, token }) {
        return {
          expires: session.expires,
          user: { name: token.userName ?? token.name ?? null, email: session.user?.email ?? null },
          scopes: token.scopes ?? [],
          ...(token.accessToken ? { accessToken: token.accessToken } : {}),
          ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
          ...(token.error ? { error: token.error } : {}),
        };
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
