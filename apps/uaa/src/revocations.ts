import { publishRevocation, type Revocation } from '@openpks/auth';
import type { Queryable } from '@openpks/db';
import type { UaaContext } from './context.js';
import type { ClientRow } from './store/clients.js';
import type { UserRow } from './store/users.js';
import { clientRevocationSignature, userRevocationSignature } from './tokenService.js';

/**
 * Publishes to every role what UAA itself already refuses: access tokens are self-contained JWTs, so
 * without this the API and the Director would accept a revoked one until it expires. Each function is
 * called inside the transaction that makes the change, with the rows as they were *before* it, so the
 * `rev_sig` values named are exactly those that just stopped being valid.
 */

/** The longest an access token issued now or earlier can still be unexpired (seconds). */
export async function longestAccessValidity(ctx: UaaContext, q: Queryable = ctx.db): Promise<number> {
  const { rows } = await q.query<{ v: number | null }>(
    `SELECT max(access_token_validity) AS v FROM uaa.clients`,
  );
  return Math.max(ctx.accessTokenValidity, rows[0]?.v ?? 0);
}

async function publish(
  ctx: UaaContext,
  tx: Queryable,
  revocation: Omit<Revocation, 'expiresAt'>,
  expiresAt?: Date,
) {
  const until =
    expiresAt ?? new Date(ctx.clock.now().getTime() + (await longestAccessValidity(ctx, tx)) * 1000);
  await publishRevocation(ctx.db, { ...revocation, expiresAt: until }, tx);
}

/** One access token, by its `jti`, valid until `expiresAt` at most. */
export async function publishTokenRevoked(
  ctx: UaaContext,
  tx: Queryable,
  jti: string,
  expiresAt?: Date,
): Promise<void> {
  await publish(ctx, tx, { jti }, expiresAt);
}

/** Every token of `user` (revoke-all, a new password, a new user name or email): its signatures with each client. */
export async function publishUserTokensRevoked(ctx: UaaContext, tx: Queryable, user: UserRow): Promise<void> {
  const { rows: clients } = await tx.query<ClientRow>(`SELECT * FROM uaa.clients`);
  const revSigs = clients.map((client) => userRevocationSignature(client, user));
  await publish(ctx, tx, { userId: user.id, revSigs });
}

/** The user is gone: every token naming it. */
export async function publishUserDeleted(ctx: UaaContext, tx: Queryable, userId: string): Promise<void> {
  await publish(ctx, tx, { userId });
}

/** Every token of `client` (revoke-all, a new secret): its own signature and each user's with it. */
export async function publishClientTokensRevoked(
  ctx: UaaContext,
  tx: Queryable,
  client: ClientRow,
): Promise<void> {
  const { rows: users } = await tx.query<UserRow>(`SELECT * FROM uaa.users`);
  const revSigs = [
    clientRevocationSignature(client),
    ...users.map((user) => userRevocationSignature(client, user)),
  ];
  await publish(ctx, tx, { clientId: client.client_id, revSigs });
}

/** The client is gone: every token it was issued. */
export async function publishClientDeleted(ctx: UaaContext, tx: Queryable, clientId: string): Promise<void> {
  await publish(ctx, tx, { clientId });
}

/** The signing keys changed (rotation, a key no longer published): verifiers refetch them. */
export async function publishKeysChanged(ctx: UaaContext, tx: Queryable): Promise<void> {
  await publish(ctx, tx, { keys: true });
}
