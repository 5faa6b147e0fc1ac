import type { Queryable } from '@openpks/db';
import type { UaaContext } from './context.js';
import { burnVerification, verifySecret } from './crypto.js';
import { oauthErrors, scimErrors } from './errors.js';
import { findClient, type ClientRow } from './store/clients.js';
import {
  clearLoginFailures,
  findUserByName,
  recentLoginFailures,
  recordLoginFailure,
  recordLogon,
  type UserRow,
} from './store/users.js';

/**
 * Authenticates a client by id and secret. A public client (no stored secret) authenticates with no or
 * an empty secret; anything else needs the right secret. Every failure looks the same to the caller.
 */
export async function authenticateClient(
  q: Queryable,
  clientId: string,
  secret: string | undefined,
): Promise<ClientRow> {
  const client = await findClient(q, clientId);
  if (!client) {
    if (secret) await burnVerification(secret);
    throw oauthErrors.badClientCredentials();
  }
  if (client.secret_hash === null) {
    if (secret) throw oauthErrors.badClientCredentials();
    return client;
  }
  if (secret === undefined || !(await verifySecret(secret, client.secret_hash))) {
    throw oauthErrors.badClientCredentials();
  }
  return client;
}

/** Whether the user is locked out now, per the policy; the window and the period both count from failures. */
export async function isLockedOut(ctx: UaaContext, q: Queryable, userId: string): Promise<boolean> {
  const now = ctx.clock.now();
  const { count, last } = await recentLoginFailures(
    q,
    userId,
    new Date(now.getTime() - ctx.lockout.countFailuresWithinSeconds * 1000),
  );
  return (
    count >= ctx.lockout.lockoutAfterFailures &&
    last !== null &&
    now.getTime() < last.getTime() + ctx.lockout.lockoutPeriodSeconds * 1000
  );
}

/**
 * Checks a user's password under the lockout policy. Failures are recorded outside any transaction the
 * caller may roll back, so they count even though the request fails.
 */
export async function authenticateUser(
  ctx: UaaContext,
  username: string,
  password: string,
): Promise<UserRow> {
  const user = await findUserByName(ctx.db, username);
  if (!user || user.password_hash === null) {
    await burnVerification(password);
    throw oauthErrors.badUserCredentials();
  }
  if (await isLockedOut(ctx, ctx.db, user.id)) throw oauthErrors.accountLocked();
  if (!(await verifySecret(password, user.password_hash))) {
    await recordLoginFailure(ctx.db, user.id, ctx.clock.now());
    ctx.logger.info({ user_id: user.id }, 'failed login');
    if (await isLockedOut(ctx, ctx.db, user.id)) throw oauthErrors.accountLocked();
    throw oauthErrors.badUserCredentials();
  }
  if (!user.active) throw oauthErrors.accountInactive();
  await clearLoginFailures(ctx.db, user.id);
  // An administrator asked for a new password (PATCH /Users/{id}/status); no token until it is set.
  if (user.password_change_required) throw oauthErrors.passwordChangeRequired();
  await recordLogon(ctx.db, user.id, ctx.clock.now());
  return user;
}

/** The password policy; SCIM answers a violation with 422 `invalid_password` as UAA does. */
export function checkPasswordPolicy(ctx: UaaContext, password: unknown): string {
  const { minLength, maxLength } = ctx.passwordPolicy;
  if (typeof password !== 'string' || password.length === 0) {
    throw scimErrors.invalidPassword('Password must be provided.');
  }
  if (password.length < minLength) {
    throw scimErrors.invalidPassword(`Password must be at least ${minLength} characters in length.`);
  }
  if (password.length > maxLength) {
    throw scimErrors.invalidPassword(`Password must be no more than ${maxLength} characters in length.`);
  }
  return password;
}
