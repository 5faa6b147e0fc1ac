import type { IncomingHttpHeaders } from 'node:http';
import { getToken, type JWT } from 'next-auth/jwt';
import { refreshIfDue, type RefreshOptions } from './sessionTokens.js';

// The console's server reads next-auth's session itself for the one request Next cannot see: the
// GraphQL WebSocket upgrade. The session is an encrypted JWT in an http-only cookie (next-auth splits a
// large one into `.0`, `.1`… chunks); next-auth's own `getToken` finds and decrypts it with the secret.

export interface SessionCookieOptions {
  /** NEXTAUTH_SECRET, the session cookie's encryption secret. */
  secret: string;
  /** Whether the console's URL is https:// (next-auth then names the cookie `__Secure-…`). */
  secureCookie: boolean;
}

/** Cookie header → name/value pairs, as browsers send them (`a=1; b=2`). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const pair = part.trim();
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    try {
      cookies[name] = decodeURIComponent(raw);
    } catch {
      cookies[name] = raw;
    }
  }
  return cookies;
}

/** The decrypted session of a request, or null (no cookie, or one this secret did not seal). */
export async function sessionOfRequest(
  headers: Pick<IncomingHttpHeaders, 'cookie'>,
  options: SessionCookieOptions,
): Promise<JWT | null> {
  return getToken({
    // Only the cookies: getToken would otherwise also take a session from an `Authorization: Bearer`
    // header, which no browser sends on a WebSocket and nothing else should use.
    req: { cookies: parseCookies(headers.cookie), headers: {} } as unknown as Parameters<
      typeof getToken
    >[0]['req'],
    secret: options.secret,
    secureCookie: options.secureCookie,
  });
}

/** Why a request carries no usable access token, in words for the refused client. */
export const SessionRefusal = {
  NO_SESSION: 'no console session: sign in to the console first',
  SESSION_ENDED: 'the console session has ended (UAA refused its refresh token): sign in again',
} as const;
export type SessionRefusal = (typeof SessionRefusal)[keyof typeof SessionRefusal];

/**
 * The access token for a request's session, refreshed first when it is expired or about to be, the way
 * next-auth's `jwt` callback does on every session read. The refreshed token is used, not stored: the
 * page's own session polling writes the cookie.
 */
export async function sessionAccessToken(
  headers: Pick<IncomingHttpHeaders, 'cookie'>,
  options: SessionCookieOptions & { refresh: RefreshOptions },
): Promise<{ accessToken: string } | { refused: SessionRefusal }> {
  const session = await sessionOfRequest(headers, options);
  if (!session) return { refused: SessionRefusal.NO_SESSION };
  const current = await refreshIfDue(session, options.refresh);
  if (current.error || !current.accessToken) return { refused: SessionRefusal.SESSION_ENDED };
  return { accessToken: current.accessToken };
}
