import type { Database, Queryable } from '@openpks/db';
import { generatePassword } from '@openpks/pki';
import type { SharedSecrets } from '@openpks/role';
import {
  ADMIN_CLIENT_SECRET,
  ADMIN_CLIENT_SECRET_FILE,
  BoshScope,
  DEFAULT_USER_GROUPS,
  DIRECTOR_CLIENT_SECRET,
  DIRECTOR_CLIENT_SECRET_CONTEXT,
  DIRECTOR_CLIENT_SECRET_FILE,
  PksScope,
  UaaClientId,
  UaaScope,
  UAA_ORIGIN,
} from './constants.js';
import { hashSecret } from './crypto.js';
import { findClient, insertClient, type ClientFields } from './store/clients.js';
import { addMember, findGroupByName, insertGroup, MemberType } from './store/groups.js';
import { findUserByName, insertUser } from './store/users.js';

const PKS_SCOPES = Object.values(PksScope);

const SEEDED_GROUPS: readonly string[] = [
  ...PKS_SCOPES,
  ...Object.values(BoshScope),
  ...new Set([...Object.values(UaaScope), ...DEFAULT_USER_GROUPS]),
];

/** The authorities of the `admin` client, as the PKS tile gives it. */
export const ADMIN_CLIENT_AUTHORITIES: readonly string[] = [
  UaaScope.CLIENTS_READ,
  UaaScope.CLIENTS_SECRET,
  UaaScope.CLIENTS_WRITE,
  UaaScope.UAA_ADMIN,
  UaaScope.CLIENTS_ADMIN,
  UaaScope.SCIM_WRITE,
  UaaScope.SCIM_READ,
  UaaScope.PASSWORD_WRITE,
  UaaScope.TOKENS_REVOKE,
  UaaScope.TOKENS_LIST,
  UaaScope.UAA_RESOURCE,
];

export interface SeedOptions {
  db: Database;
  sharedSecrets: SharedSecrets;
  adminPassword: string;
  consoleRedirectUris: readonly string[];
  now: Date;
}

export interface SeedResult {
  adminClientSecret: string;
  directorClientSecret: string;
}

/**
 * First-start seeding: the groups (scopes), the `admin` user and the PKS clients. Idempotent: what exists
 * is left alone (an operator's changes survive restarts); missing pieces are created in one transaction.
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const { db, sharedSecrets, now } = options;
  // Shared through the database: a UAA replica on another machine seeds nothing new and hands out the
  // same secrets.
  const adminClientSecret = await sharedSecrets.loadOrCreate(
    ADMIN_CLIENT_SECRET,
    () => generatePassword(32),
    {
      file: ADMIN_CLIENT_SECRET_FILE,
    },
  );
  const directorClientSecret = await sharedSecrets.loadOrCreate(
    DIRECTOR_CLIENT_SECRET,
    () => generatePassword(32),
    { file: DIRECTOR_CLIENT_SECRET_FILE, fileSealedAs: DIRECTOR_CLIENT_SECRET_CONTEXT },
  );

  // Hash outside the transaction: scrypt is slow and PGlite serialises everything behind an open one.
  const needsAdminUser = !(await findUserByName(db, 'admin'));
  const adminPasswordHash = needsAdminUser ? await hashSecret(options.adminPassword) : undefined;
  const missing = new Set<string>();
  for (const id of Object.values(UaaClientId)) if (!(await findClient(db, id))) missing.add(id);
  const hashIfMissing = async (id: string, secret: string) => (missing.has(id) ? hashSecret(secret) : null);
  const clients: ClientFields[] = [
    {
      clientId: UaaClientId.PKS_CLI,
      name: 'PKS CLI',
      secretHash: null,
      scope: [...PKS_SCOPES],
      authorities: [],
      authorizedGrantTypes: ['password', 'refresh_token'],
      redirectUri: [],
      autoapprove: ['true'],
      allowPublic: true,
    },
    {
      clientId: UaaClientId.PKS_CONSOLE,
      name: 'PKS console',
      secretHash: null,
      scope: [UaaScope.OPENID, UaaScope.PROFILE, UaaScope.EMAIL, UaaScope.ROLES, ...PKS_SCOPES],
      authorities: [],
      authorizedGrantTypes: ['authorization_code', 'refresh_token'],
      redirectUri: [...options.consoleRedirectUris],
      autoapprove: ['true'],
      allowPublic: true,
    },
    {
      clientId: UaaClientId.PKS_CLUSTER_CLIENT,
      name: 'PKS cluster OIDC',
      secretHash: null,
      scope: [UaaScope.OPENID, UaaScope.ROLES, ...PKS_SCOPES],
      authorities: [],
      authorizedGrantTypes: ['password', 'refresh_token'],
      redirectUri: [],
      autoapprove: ['true'],
      allowPublic: true,
    },
    {
      clientId: UaaClientId.PKS_DIRECTOR,
      name: 'PKS director access',
      secretHash: await hashIfMissing(UaaClientId.PKS_DIRECTOR, directorClientSecret),
      scope: [],
      authorities: [BoshScope.ADMIN],
      authorizedGrantTypes: ['client_credentials'],
      redirectUri: [],
      autoapprove: [],
    },
    {
      clientId: UaaClientId.ADMIN,
      name: 'Pks Uaa Management Admin Client',
      secretHash: await hashIfMissing(UaaClientId.ADMIN, adminClientSecret),
      scope: [],
      authorities: [...ADMIN_CLIENT_AUTHORITIES],
      authorizedGrantTypes: ['client_credentials'],
      redirectUri: [],
      autoapprove: [],
    },
  ];

  await db.transaction(async (tx) => {
    // Replicas starting together on an empty database both find everything missing: one seeds, and the
    // other, let in after it committed, finds it all there (each check below reads again under the lock).
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('uaa.seed'))`);
    for (const name of SEEDED_GROUPS) await ensureGroup(tx, name, now);
    if (adminPasswordHash !== undefined && !(await findUserByName(tx, 'admin'))) {
      const admin = await insertUser(
        tx,
        { username: 'admin', email: 'admin', origin: UAA_ORIGIN, passwordHash: adminPasswordHash },
        now,
      );
      for (const name of [...DEFAULT_USER_GROUPS, PksScope.CLUSTERS_ADMIN]) {
        const group = await ensureGroup(tx, name, now);
        await addMember(tx, group, { id: admin.id, type: MemberType.USER, origin: UAA_ORIGIN }, now);
      }
    }
    for (const client of clients) {
      if (missing.has(client.clientId) && !(await findClient(tx, client.clientId)))
        await insertClient(tx, client, now);
    }
  });
  return { adminClientSecret, directorClientSecret };
}

async function ensureGroup(q: Queryable, name: string, now: Date): Promise<string> {
  const existing = await findGroupByName(q, name);
  if (existing) return existing.id;
  return (await insertGroup(q, { displayName: name, description: `${name} scope` }, now)).id;
}
