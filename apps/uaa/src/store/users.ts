import { randomUUID } from 'node:crypto';
import type { Queryable } from '@openpks/db';
import { UAA_ORIGIN } from '../constants.js';
import { randomToken } from '../crypto.js';
import type { ScimAttribute } from '../scim/filter.js';
import { countMatching, pageMatching } from './scimQuery.js';

export interface UserRow {
  id: string;
  username: string;
  origin: string;
  external_id: string | null;
  email: string;
  given_name: string | null;
  family_name: string | null;
  phone_number: string | null;
  active: boolean;
  verified: boolean;
  password_hash: string | null;
  password_last_modified: Date | null;
  password_change_required: boolean;
  token_salt: string;
  version: number;
  created: Date;
  last_modified: Date;
  last_logon_time: Date | null;
  previous_logon_time: Date | null;
}

export interface NewUser {
  username: string;
  email: string;
  origin?: string;
  externalId?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  phoneNumber?: string | null;
  active?: boolean;
  verified?: boolean;
  passwordHash: string | null;
}

/** Column map of the SCIM attributes a `/Users` filter may name (lowercased paths). */
export const USER_FILTER_ATTRIBUTES = {
  id: { column: 'u.id::text', type: 'string' },
  username: { column: 'u.username', type: 'string' },
  email: { column: 'u.email', type: 'string' },
  'emails.value': { column: 'u.email', type: 'string' },
  origin: { column: 'u.origin', type: 'string' },
  externalid: { column: 'u.external_id', type: 'string' },
  'name.givenname': { column: 'u.given_name', type: 'string' },
  'name.familyname': { column: 'u.family_name', type: 'string' },
  'phonenumbers.value': { column: 'u.phone_number', type: 'string' },
  active: { column: 'u.active', type: 'boolean' },
  verified: { column: 'u.verified', type: 'boolean' },
  'meta.created': { column: 'u.created', type: 'timestamp' },
  created: { column: 'u.created', type: 'timestamp' },
  'meta.lastmodified': { column: 'u.last_modified', type: 'timestamp' },
  lastmodified: { column: 'u.last_modified', type: 'timestamp' },
  'meta.version': { column: 'u.version', type: 'number' },
  passwordlastmodified: { column: 'u.password_last_modified', type: 'timestamp' },
  lastlogontime: { column: 'u.last_logon_time', type: 'timestamp' },
} as const satisfies Record<string, ScimAttribute>;

export async function insertUser(q: Queryable, user: NewUser, now: Date): Promise<UserRow> {
  const { rows } = await q.query<UserRow>(
    `INSERT INTO uaa.users (id, username, origin, external_id, email, given_name, family_name, phone_number,
       active, verified, password_hash, password_last_modified, token_salt, version, created, last_modified)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $12, $12)
     RETURNING *`,
    [
      randomUUID(),
      user.username,
      user.origin ?? UAA_ORIGIN,
      user.externalId ?? null,
      user.email,
      user.givenName ?? null,
      user.familyName ?? null,
      user.phoneNumber ?? null,
      user.active ?? true,
      user.verified ?? true,
      user.passwordHash,
      now,
      randomToken(12),
    ],
  );
  return rows[0]!;
}

export async function findUserById(
  q: Queryable,
  id: string,
  { lock = false } = {},
): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await q.query<UserRow>(
    `SELECT * FROM uaa.users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function findUserByName(
  q: Queryable,
  username: string,
  origin = UAA_ORIGIN,
  { lock = false } = {},
): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(
    `SELECT * FROM uaa.users WHERE lower(username) = lower($1) AND origin = $2${lock ? ' FOR UPDATE' : ''}`,
    [username, origin],
  );
  return rows[0];
}

export interface UserChanges {
  username?: string;
  email?: string;
  externalId?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  phoneNumber?: string | null;
  active?: boolean;
  verified?: boolean;
}

const CHANGE_COLUMNS: Record<keyof UserChanges, string> = {
  username: 'username',
  email: 'email',
  externalId: 'external_id',
  givenName: 'given_name',
  familyName: 'family_name',
  phoneNumber: 'phone_number',
  active: 'active',
  verified: 'verified',
};

/** Applies changes and bumps the version; the caller checked `If-Match` on the locked row. */
export async function updateUser(
  q: Queryable,
  id: string,
  changes: UserChanges,
  now: Date,
): Promise<UserRow> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [key, column] of Object.entries(CHANGE_COLUMNS) as [keyof UserChanges, string][]) {
    if (changes[key] === undefined) continue;
    params.push(changes[key]);
    sets.push(`${column} = $${params.length}`);
  }
  const { rows } = await q.query<UserRow>(
    `UPDATE uaa.users SET ${[...sets, 'version = version + 1', 'last_modified = $2'].join(', ')} WHERE id = $1 RETURNING *`,
    params,
  );
  return rows[0]!;
}

/** A new password also renews nothing else: the hash is part of `rev_sig`, so old refresh tokens die. */
export async function setUserPassword(
  q: Queryable,
  id: string,
  passwordHash: string,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE uaa.users SET password_hash = $2, password_last_modified = $3, password_change_required = false,
       version = version + 1, last_modified = $3 WHERE id = $1`,
    [id, passwordHash, now],
  );
}

export async function setPasswordChangeRequired(
  q: Queryable,
  id: string,
  required: boolean,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE uaa.users SET password_change_required = $2, version = version + 1, last_modified = $3 WHERE id = $1`,
    [id, required, now],
  );
}

export async function renewUserTokenSalt(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE uaa.users SET token_salt = $2 WHERE id = $1`, [id, randomToken(12)]);
}

export async function recordLogon(q: Queryable, id: string, now: Date): Promise<void> {
  await q.query(
    `UPDATE uaa.users SET previous_logon_time = last_logon_time, last_logon_time = $2 WHERE id = $1`,
    [id, now],
  );
}

export async function deleteUser(q: Queryable, id: string): Promise<void> {
  await q.query(`DELETE FROM uaa.group_members WHERE member_id = $1`, [id]);
  await q.query(`DELETE FROM uaa.users WHERE id = $1`, [id]);
}

export function countUsers(q: Queryable, where: string, params: readonly unknown[]): Promise<number> {
  return countMatching(q, 'uaa.users u', where, params);
}

export function listUsers(
  q: Queryable,
  where: string,
  params: readonly unknown[],
  order: string,
  offset: number,
  limit: number,
): Promise<UserRow[]> {
  return pageMatching<UserRow>(q, 'uaa.users u', 'u', { where, params, order, offset, limit });
}

// Login failures: the lockout policy counts them in a window (UAA's PeriodLockoutPolicy).

export async function recordLoginFailure(q: Queryable, userId: string, at: Date): Promise<void> {
  await q.query(`INSERT INTO uaa.login_failures (user_id, failed_at) VALUES ($1, $2)`, [userId, at]);
}

export async function recentLoginFailures(
  q: Queryable,
  userId: string,
  since: Date,
): Promise<{ count: number; last: Date | null }> {
  const { rows } = await q.query<{ count: number; last: Date | null }>(
    `SELECT count(*)::int AS count, max(failed_at) AS last FROM uaa.login_failures WHERE user_id = $1 AND failed_at > $2`,
    [userId, since],
  );
  return rows[0] ?? { count: 0, last: null };
}

export async function clearLoginFailures(q: Queryable, userId: string): Promise<void> {
  await q.query(`DELETE FROM uaa.login_failures WHERE user_id = $1`, [userId]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
