import type { IncomingMessage } from 'node:http';
import type { Queryable } from '@openpks/db';
import type { UaaContext } from './context.js';
import { randomToken, sha256Hex } from './crypto.js';
import { parseCookies } from './http/io.js';
import {
  deleteSession,
  deleteUserAuthorizationCodes,
  deleteUserSessions,
  findSession,
  insertSession,
  type SessionRow,
} from './store/tokens.js';
import { findUserById, type UserRow } from './store/users.js';

/** UAA's name for its browser session cookie. */
export const SESSION_COOKIE = 'uaa_session';

/**
 * What a session is bound to: the user's credentials as they stood at sign-in. A new password (changed by
 * the user or reset by an administrator) changes the hash and `password_last_modified`; a revoke-all
 * renews the token salt. Comparing this snapshot on every use, rather than UAA's "password modified after
 * auth time", needs no agreement between the clocks of several replicas and survives a restart, because
 * both sides of the comparison live in the database.
 */
export function credentialBinding(user: UserRow): string {
  return sha256Hex(
    JSON.stringify([
      user.id,
      user.password_hash,
      user.password_last_modified?.getTime() ?? null,
      user.token_salt,
    ]),
  );
}

/** Starts a browser session for a user who just proved their password; returns the cookie's value. */
export async function startSession(ctx: UaaContext, user: UserRow): Promise<string> {
  const sessionId = randomToken(32);
  const now = ctx.clock.now();
  await insertSession(ctx.db, {
    session_hash: sha256Hex(sessionId),
    user_id: user.id,
    auth_time: now,
    expires_at: new Date(now.getTime() + ctx.sessionValidity * 1000),
    credential_binding: credentialBinding(user),
  });
  return sessionId;
}

/** Why a session that still had a row no longer signs anyone in. */
export const SessionEndReason = {
  /** No row: signed out, expired (and perhaps purged), or never ours. */
  UNKNOWN: 'unknown or expired session',
  USER_DELETED: 'user deleted',
  USER_INACTIVE: 'user deactivated',
  PASSWORD_CHANGE_REQUIRED: 'password change required',
  CREDENTIALS_CHANGED: 'password changed or tokens revoked since sign-in',
} as const;
export type SessionEndReason = (typeof SessionEndReason)[keyof typeof SessionEndReason];

export type SessionState =
  | { kind: 'none' }
  | { kind: 'ended'; reason: SessionEndReason }
  | { kind: 'active'; session: SessionRow; user: UserRow };

/**
 * The session a request's cookie names, checked against the user as the database has it now. A session
 * that no longer holds is deleted here, so whichever replica sees it next finds nothing; the caller
 * clears the cookie (`kind: 'ended'`) and treats the request as not signed in.
 */
export async function resumeSession(ctx: UaaContext, req: IncomingMessage): Promise<SessionState> {
  const sessionId = parseCookies(req).get(SESSION_COOKIE);
  if (!sessionId) return { kind: 'none' };
  const sessionHash = sha256Hex(sessionId);
  const session = await findSession(ctx.db, sessionHash, ctx.clock.now());
  if (!session) return { kind: 'ended', reason: SessionEndReason.UNKNOWN };
  const user = await findUserById(ctx.db, session.user_id);
  const reason = !user
    ? SessionEndReason.USER_DELETED
    : !user.active
      ? SessionEndReason.USER_INACTIVE
      : user.password_change_required
        ? SessionEndReason.PASSWORD_CHANGE_REQUIRED
        : session.credential_binding !== credentialBinding(user)
          ? SessionEndReason.CREDENTIALS_CHANGED
          : undefined;
  if (reason === undefined) return { kind: 'active', session, user: user! };
  await deleteSession(ctx.db, sessionHash);
  ctx.logger.info({ user_id: session.user_id, reason }, 'browser session ended');
  return { kind: 'ended', reason };
}

/**
 * Ends every browser session of a user and drops the authorization codes those sessions minted and no
 * client has redeemed yet (each would otherwise still yield tokens for up to five minutes). Called with
 * the transaction that changes the password, renews the token salt or requires a new password, so the
 * sessions end exactly when the change commits.
 */
export async function endUserSessions(q: Queryable, userId: string): Promise<void> {
  await deleteUserSessions(q, userId);
  await deleteUserAuthorizationCodes(q, userId);
}
