import type { Session } from 'next-auth';
import type { JWT } from 'next-auth/jwt';
import type { REFRESH_ERROR } from '../server/sessionTokens';

// Server-only: what of the session reaches the page (the `session` callback). How the access token is
// kept fresh (next-auth's `jwt` callback after sign-in): ../server/sessionTokens.

export {
  REFRESH_ERROR,
  REFRESH_MARGIN_SECONDS,
  refreshAccessToken,
  refreshIfDue,
  scopesOf,
  type RefreshOptions,
  type TokenFetch,
} from '../server/sessionTokens';

declare module 'next-auth' {
  interface Session {
    accessToken?: string;
    /** Seconds since the epoch. */
    expiresAt?: number;
    scopes: string[];
    error?: typeof REFRESH_ERROR;
  }
}

/** The `session` callback: what the page may read (the access token for graphql-ws, scopes, the error). */
export function sessionOf(session: Pick<Session, 'expires' | 'user'>, token: JWT): Session {
  return {
    expires: session.expires,
    user: { name: token.userName ?? token.name ?? null, email: session.user?.email ?? null },
    scopes: token.scopes ?? [],
    ...(token.accessToken ? { accessToken: token.accessToken } : {}),
    ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
    ...(token.error ? { error: token.error } : {}),
  };
}
