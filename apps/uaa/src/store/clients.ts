import type { Queryable } from '@openpks/db';
import { randomToken } from '../crypto.js';

export interface ClientRow {
  client_id: string;
  name: string | null;
  secret_hash: string | null;
  scope: string[];
  authorities: string[];
  authorized_grant_types: string[];
  redirect_uri: string[];
  autoapprove: string[];
  resource_ids: string[];
  access_token_validity: number | null;
  refresh_token_validity: number | null;
  allow_public: boolean;
  token_salt: string;
  created: Date;
  last_modified: Date;
}

export interface ClientFields {
  clientId: string;
  name?: string | null;
  secretHash: string | null;
  scope: readonly string[];
  authorities: readonly string[];
  authorizedGrantTypes: readonly string[];
  redirectUri: readonly string[];
  autoapprove: readonly string[];
  resourceIds?: readonly string[];
  accessTokenValidity?: number | null;
  refreshTokenValidity?: number | null;
  allowPublic?: boolean;
}

export async function insertClient(q: Queryable, client: ClientFields, now: Date): Promise<ClientRow> {
  const { rows } = await q.query<ClientRow>(
    `INSERT INTO uaa.clients (client_id, name, secret_hash, scope, authorities, authorized_grant_types, redirect_uri,
       autoapprove, resource_ids, access_token_validity, refresh_token_validity, allow_public, token_salt, created, last_modified)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING *`,
    [
      client.clientId,
      client.name ?? null,
      client.secretHash,
      [...client.scope],
      [...client.authorities],
      [...client.authorizedGrantTypes],
      [...client.redirectUri],
      [...client.autoapprove],
      [...(client.resourceIds ?? [])],
      client.accessTokenValidity ?? null,
      client.refreshTokenValidity ?? null,
      client.allowPublic ?? false,
      randomToken(12),
      now,
    ],
  );
  return rows[0]!;
}

/** Replaces a client's settings (not its secret). */
export async function updateClient(
  q: Queryable,
  client: Omit<ClientFields, 'secretHash'>,
  now: Date,
): Promise<ClientRow> {
  const { rows } = await q.query<ClientRow>(
    `UPDATE uaa.clients SET name = $2, scope = $3, authorities = $4, authorized_grant_types = $5, redirect_uri = $6,
       autoapprove = $7, resource_ids = $8, access_token_validity = $9, refresh_token_validity = $10,
       allow_public = $11, last_modified = $12
     WHERE client_id = $1 RETURNING *`,
    [
      client.clientId,
      client.name ?? null,
      [...client.scope],
      [...client.authorities],
      [...client.authorizedGrantTypes],
      [...client.redirectUri],
      [...client.autoapprove],
      [...(client.resourceIds ?? [])],
      client.accessTokenValidity ?? null,
      client.refreshTokenValidity ?? null,
      client.allowPublic ?? false,
      now,
    ],
  );
  return rows[0]!;
}

export async function setClientSecret(
  q: Queryable,
  clientId: string,
  secretHash: string | null,
  now: Date,
): Promise<void> {
  await q.query(`UPDATE uaa.clients SET secret_hash = $2, last_modified = $3 WHERE client_id = $1`, [
    clientId,
    secretHash,
    now,
  ]);
}

export async function renewClientTokenSalt(q: Queryable, clientId: string): Promise<void> {
  await q.query(`UPDATE uaa.clients SET token_salt = $2 WHERE client_id = $1`, [clientId, randomToken(12)]);
}

export async function findClient(
  q: Queryable,
  clientId: string,
  { lock = false } = {},
): Promise<ClientRow | undefined> {
  const { rows } = await q.query<ClientRow>(
    `SELECT * FROM uaa.clients WHERE client_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [clientId],
  );
  return rows[0];
}

export async function listClients(
  q: Queryable,
  offset: number,
  limit: number,
): Promise<{ rows: ClientRow[]; total: number }> {
  const [{ rows }, total] = [
    await q.query<ClientRow>(`SELECT * FROM uaa.clients ORDER BY client_id OFFSET $1 LIMIT $2`, [
      offset,
      limit,
    ]),
    await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM uaa.clients`),
  ];
  return { rows, total: total.rows[0]?.n ?? 0 };
}

export async function deleteClient(q: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await q.query(`DELETE FROM uaa.clients WHERE client_id = $1`, [clientId]);
  return rowCount > 0;
}
