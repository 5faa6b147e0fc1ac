import type { JWT } from 'next-auth/jwt';

// Server-only: the UAA tokens the console's session holds (inside next-auth's encrypted session cookie),
// how they are kept fresh and how sign-out gives them back. Shared by the Next app (next-auth's `jwt`
// callback, sign-out) and the console's own server (the GraphQL WebSocket), so it lives beside the
// server and depends on nothing of Next's. None of these values ever reaches the page.

/** Refresh this long before the access token expires (the page polls its session every minute). */
export const REFRESH_MARGIN_SECONDS = 120;
export const REFRESH_ERROR = 'RefreshAccessTokenError';

declare module 'next-auth/jwt' {
  interface JWT {
    accessToken?: string;
    refreshToken?: string;
    /** Seconds since the epoch. */
    expiresAt?: number;
    scopes?: string[];
    userName?: string;
    error?: typeof REFRESH_ERROR;
  }
}

/** A request to UAA (the server's `fetch`; tests pass one that trusts their CA). */
export type TokenFetch = (
  url: string,
  init: {
    method: 'POST' | 'DELETE';
    headers: Record<string, string>;
    body?: URLSearchParams;
  },
) => Promise<Response>;

export interface RefreshOptions {
  /** UAA's base URL, e.g. `https://localhost:8443`. */
  uaaUrl: string;
  fetch: TokenFetch;
  /** Seconds since the epoch (default: the system clock). */
  now?: () => number;
}

const systemNow = () => Date.now() / 1000;

export function scopesOf(scope: unknown): string[] {
  if (typeof scope !== 'string') return [];
  return scope.split(/[\s,]+/).filter(Boolean);
}

/** Exchanges the refresh token for a new access token; on failure the session carries REFRESH_ERROR. */
export async function refreshAccessToken(token: JWT, options: RefreshOptions): Promise<JWT> {
  if (!token.refreshToken) return { ...token, error: REFRESH_ERROR };
  try {
    const response = await options.fetch(`${options.uaaUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token.refreshToken,
        client_id: 'pks_console',
      }),
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
      expiresAt: Math.floor((options.now ?? systemNow)()) + expiresIn,
      scopes: typeof body.scope === 'string' ? scopesOf(body.scope) : token.scopes,
    };
  } catch {
    return { ...token, error: REFRESH_ERROR };
  }
}

/**
 * The token as it is while the access token has more than REFRESH_MARGIN_SECONDS left, else refreshed
 * (next-auth's `jwt` callback on every session read, and the WebSocket before it connects). A failed
 * refresh is final (the layout sends the user to sign in again), so a token carrying the error is not
 * tried again.
 */
export async function refreshIfDue(token: JWT, options: RefreshOptions): Promise<JWT> {
  if (token.error) return token;
  const now = (options.now ?? systemNow)();
  if (token.expiresAt && now < token.expiresAt - REFRESH_MARGIN_SECONDS) return token;
  return refreshAccessToken(token, options);
}

/**
 * What UAA's revocation endpoint takes for a refresh token: the `jti` of a JWT refresh token, the value
 * itself of an opaque one (UAA's default, `<jti>-r…`; UAA finds it by the value's hash).
 */
export function refreshTokenId(refreshToken: string): string {
  const parts = refreshToken.split('.');
  if (parts.length === 3) {
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
      const jti = (claims as { jti?: unknown } | null)?.jti;
      if (typeof jti === 'string' && jti !== '') return jti;
    } catch {
      // Not a JWT after all: fall through to the value.
    }
  }
  return refreshToken;
}

export type RevocationOutcome = { revoked: true } | { revoked: false; reason: string };

/**
 * Revokes the session's refresh token at UAA (`DELETE /oauth/token/revoke/{id}`), authorised by the
 * user's own access token: UAA lets a user revoke their own refresh tokens. An access token too close to
 * expiry is renewed first, with the very refresh token about to go. Never throws: sign-out goes on
 * whatever UAA says, and the caller logs the reason.
 */
export async function revokeRefreshToken(token: JWT, options: RefreshOptions): Promise<RevocationOutcome> {
  if (!token.refreshToken) return { revoked: false, reason: 'the session holds no refresh token' };
  const current = await refreshIfDue(token, options);
  if (current.error || !current.accessToken)
    return {
      revoked: false,
      reason:
        'no access token to authorise the revocation: the refresh token was refused (already revoked or expired)',
    };
  const url = `${options.uaaUrl}/oauth/token/revoke/${encodeURIComponent(refreshTokenId(token.refreshToken))}`;
  try {
    const response = await options.fetch(url, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${current.accessToken}`, Accept: 'application/json' },
    });
    if (response.ok) return { revoked: true };
    const body = (await response.json().catch(() => ({}))) as {
      error?: unknown;
      error_description?: unknown;
    };
    const detail = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ');
    return { revoked: false, reason: `UAA answered ${response.status}${detail ? ` (${detail})` : ''}` };
  } catch (error) {
    return {
      revoked: false,
      reason: `UAA could not be reached: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
