import { purgeExpiredRevocations } from '@openpks/auth';
import type { Queryable } from '@openpks/db';

export interface RefreshTokenRow {
  token_hash: string;
  jti: string;
  user_id: string;
  client_id: string;
  scope: string[];
  grant_type: string;
  rev_sig: string;
  auth_time: Date;
  pkce: boolean;
  created: Date;
  expires_at: Date;
}

export async function insertRefreshToken(q: Queryable, row: RefreshTokenRow): Promise<void> {
  await q.query(
    `INSERT INTO uaa.refresh_tokens (token_hash, jti, user_id, client_id, scope, grant_type, rev_sig, auth_time, pkce, created, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      row.token_hash,
      row.jti,
      row.user_id,
      row.client_id,
      row.scope,
      row.grant_type,
      row.rev_sig,
      row.auth_time,
      row.pkce,
      row.created,
      row.expires_at,
    ],
  );
}

export async function findRefreshToken(
  q: Queryable,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  const { rows } = await q.query<RefreshTokenRow>(`SELECT * FROM uaa.refresh_tokens WHERE token_hash = $1`, [
    tokenHash,
  ]);
  return rows[0];
}

export async function deleteRefreshTokens(
  q: Queryable,
  where: { tokenHash?: string; jti?: string; userId?: string; clientId?: string },
): Promise<number> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['token_hash', where.tokenHash],
    ['jti', where.jti],
    ['user_id', where.userId],
    ['client_id', where.clientId],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    clauses.push(`${column} = $${params.length}`);
  }
  if (clauses.length === 0) return 0;
  const { rowCount } = await q.query(`DELETE FROM uaa.refresh_tokens WHERE ${clauses.join(' AND ')}`, params);
  return rowCount;
}

export async function revokeJti(q: Queryable, jti: string, expiresAt: Date): Promise<void> {
  await q.query(
    `INSERT INTO uaa.revoked_tokens (jti, expires_at) VALUES ($1, $2)
     ON CONFLICT (jti) DO UPDATE SET expires_at = greatest(uaa.revoked_tokens.expires_at, EXCLUDED.expires_at)`,
    [jti, expiresAt],
  );
}

export async function isJtiRevoked(q: Queryable, jti: string): Promise<boolean> {
  const { rows } = await q.query(`SELECT 1 FROM uaa.revoked_tokens WHERE jti = $1`, [jti]);
  return rows.length > 0;
}

export interface AuthorizationCodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string | null;
  scope: string[];
  code_challenge: string | null;
  code_challenge_method: string | null;
  nonce: string | null;
  auth_time: Date;
  expires_at: Date;
}

export async function insertAuthorizationCode(q: Queryable, row: AuthorizationCodeRow): Promise<void> {
  await q.query(
    `INSERT INTO uaa.authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge,
       code_challenge_method, nonce, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      row.code_hash,
      row.client_id,
      row.user_id,
      row.redirect_uri,
      row.scope,
      row.code_challenge,
      row.code_challenge_method,
      row.nonce,
      row.auth_time,
      row.expires_at,
    ],
  );
}

/** Takes a code out: a code works once, even when two requests race with it. */
export async function consumeAuthorizationCode(
  q: Queryable,
  codeHash: string,
): Promise<AuthorizationCodeRow | undefined> {
  const { rows } = await q.query<AuthorizationCodeRow>(
    `DELETE FROM uaa.authorization_codes WHERE code_hash = $1 RETURNING *`,
    [codeHash],
  );
  return rows[0];
}

export interface SessionRow {
  session_hash: string;
  user_id: string;
  auth_time: Date;
  expires_at: Date;
  /** See `credentialBinding`: the user's credentials at sign-in, compared on every use. */
  credential_binding: string;
}

export async function insertSession(q: Queryable, row: SessionRow): Promise<void> {
  await q.query(
    `INSERT INTO uaa.sessions (session_hash, user_id, auth_time, expires_at, credential_binding)
     VALUES ($1, $2, $3, $4, $5)`,
    [row.session_hash, row.user_id, row.auth_time, row.expires_at, row.credential_binding],
  );
}

export async function findSession(
  q: Queryable,
  sessionHash: string,
  now: Date,
): Promise<SessionRow | undefined> {
  const { rows } = await q.query<SessionRow>(
    `SELECT * FROM uaa.sessions WHERE session_hash = $1 AND expires_at > $2`,
    [sessionHash, now],
  );
  return rows[0];
}

export async function deleteSession(q: Queryable, sessionHash: string): Promise<void> {
  await q.query(`DELETE FROM uaa.sessions WHERE session_hash = $1`, [sessionHash]);
}

export async function deleteUserSessions(q: Queryable, userId: string): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM uaa.sessions WHERE user_id = $1`, [userId]);
  return rowCount;
}

export async function deleteUserAuthorizationCodes(q: Queryable, userId: string): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM uaa.authorization_codes WHERE user_id = $1`, [userId]);
  return rowCount;
}

/** Drops what has expired (and failures older than `failuresBefore`); run now and then so tables stay small. */
export async function purgeExpired(q: Queryable, now: Date, failuresBefore: Date): Promise<void> {
  await q.query(`DELETE FROM uaa.login_failures WHERE failed_at < $1`, [failuresBefore]);
  await q.query(`DELETE FROM uaa.refresh_tokens WHERE expires_at <= $1`, [now]);
  await q.query(`DELETE FROM uaa.revoked_tokens WHERE expires_at <= $1`, [now]);
  await q.query(`DELETE FROM uaa.authorization_codes WHERE expires_at <= $1`, [now]);
  await q.query(`DELETE FROM uaa.sessions WHERE expires_at <= $1`, [now]);
  await purgeExpiredRevocations(q, now);
}
