import type { Session } from 'next-auth';
import type { JWT } from 'next-auth/jwt';
import type { REFRESH_ERROR } from '../server/sessionTokens';

// Server-only: what of the session reaches the page (next-auth's `session` callback, which answers
// `/api/auth/session` and `useSession`). The UAA tokens themselves stay in the encrypted, http-only
// session cookie: queries go through the console's GraphQL route and the WebSocket through the console's
// server, both of which add the access token on the server. How the tokens are refreshed and revoked:
// ../server/sessionTokens.

export {
  REFRESH_ERROR,
  REFRESH_MARGIN_SECONDS,
  refreshAccessToken,
  refreshIfDue,
  revokeRefreshToken,
  scopesOf,
  type RefreshOptions,
  type RevocationOutcome,
  type TokenFetch,
} from '../server/sessionTokens';

declare module 'next-auth' {
  interface Session {
    scopes: string[];
    error?: typeof REFRESH_ERROR;
  }
}

/**
 * The `session` callback: the user's name, their scopes (which actions the console offers) and whether
 * the refresh failed. No access, refresh or ID token: script on the page never holds a credential.
 */
export function sessionOf(session: Pick<Session, 'expires' | 'user'>, token: JWT): Session {
  return {
    expires: session.expires,
    user: { name: token.userName ?? token.name ?? null, email: session.user?.email ?? null },
    scopes: token.scopes ?? [],
    ...(token.error ? { error: token.error } : {}),
  };
}
