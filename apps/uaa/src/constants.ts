/** Client ids seeded on first start (DESIGN.md §6). Other components refer to them by these names. */
export const UaaClientId = {
  /** The `pks` CLI: password and refresh_token grants, empty secret. */
  PKS_CLI: 'pks_cli',
  /** The web console: authorization code with PKCE. */
  PKS_CONSOLE: 'pks_console',
  /** The OIDC client written into kubeconfigs: password and refresh_token grants, empty secret. */
  PKS_CLUSTER_CLIENT: 'pks_cluster_client',
  /** The API's identity towards the BOSH Director: client credentials with `bosh.admin`. */
  PKS_DIRECTOR: 'pks_director',
  /** UAA administration (SCIM, clients); used by `pks-admin`. */
  ADMIN: 'admin',
} as const;
export type UaaClientId = (typeof UaaClientId)[keyof typeof UaaClientId];

/** The PKS scopes (PKS-REFERENCE §3); a scope is a UAA group of the same name. */
export const PksScope = {
  CLUSTERS_ADMIN: 'pks.clusters.admin',
  CLUSTERS_ADMIN_READ: 'pks.clusters.admin.read',
  CLUSTERS_MANAGE: 'pks.clusters.manage',
} as const;
export type PksScope = (typeof PksScope)[keyof typeof PksScope];

export const BoshScope = {
  ADMIN: 'bosh.admin',
  READ: 'bosh.read',
} as const;
export type BoshScope = (typeof BoshScope)[keyof typeof BoshScope];

/** UAA's own administration scopes. */
export const UaaScope = {
  OPENID: 'openid',
  PROFILE: 'profile',
  EMAIL: 'email',
  ROLES: 'roles',
  USER_ATTRIBUTES: 'user_attributes',
  UAA_USER: 'uaa.user',
  UAA_ADMIN: 'uaa.admin',
  UAA_RESOURCE: 'uaa.resource',
  UAA_OFFLINE_TOKEN: 'uaa.offline_token',
  SCIM_READ: 'scim.read',
  SCIM_WRITE: 'scim.write',
  SCIM_CREATE: 'scim.create',
  SCIM_ME: 'scim.me',
  SCIM_USERIDS: 'scim.userids',
  PASSWORD_WRITE: 'password.write',
  CLIENTS_READ: 'clients.read',
  CLIENTS_WRITE: 'clients.write',
  CLIENTS_SECRET: 'clients.secret',
  CLIENTS_ADMIN: 'clients.admin',
  TOKENS_REVOKE: 'tokens.revoke',
  TOKENS_LIST: 'tokens.list',
} as const;
export type UaaScope = (typeof UaaScope)[keyof typeof UaaScope];

/**
 * The `aud` base names: UAA puts the part of each scope before the first dot into `aud`, so a PKS token
 * carries `pks` and a Director token `bosh`. Resource servers check for these.
 */
export const UaaAudience = {
  PKS: 'pks',
  BOSH: 'bosh',
} as const;

/** Groups every new user joins (UAA's `oauth.user.authorities`). */
export const DEFAULT_USER_GROUPS: readonly string[] = [
  UaaScope.OPENID,
  UaaScope.PROFILE,
  UaaScope.EMAIL,
  UaaScope.ROLES,
  UaaScope.USER_ATTRIBUTES,
  UaaScope.UAA_USER,
  UaaScope.UAA_OFFLINE_TOKEN,
  UaaScope.PASSWORD_WRITE,
  UaaScope.SCIM_ME,
  UaaScope.SCIM_USERIDS,
];

/** The zone id UAA puts in `zid`; openpks has one zone. */
export const UAA_ZONE_ID = 'uaa';
/** The identity-provider origin of local users. */
export const UAA_ORIGIN = 'uaa';

/** The generated `admin` client secret: shared through the database, with a copy here (0600). */
export const ADMIN_CLIENT_SECRET = 'uaa.admin-client-secret';
export const ADMIN_CLIENT_SECRET_FILE = 'secrets/uaa-admin-client-secret';
/**
 * The generated `pks_director` client secret, shared through the database. Installations from before it
 * was shared kept it in this file, sealed; it is taken over from there.
 */
export const DIRECTOR_CLIENT_SECRET = 'uaa.pks-director-client-secret';
export const DIRECTOR_CLIENT_SECRET_FILE = 'secrets/uaa-pks-director-client-secret.sealed';
export const DIRECTOR_CLIENT_SECRET_CONTEXT = 'uaa.client-secret.pks_director';
/** Where a started UAA writes its base URL, so tools on the same machine (`pks-admin`) find it. */
export const UAA_URL_FILE = 'uaa/url';
