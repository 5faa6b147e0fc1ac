/**
 * The testing door of `@openpks/uaa`: a real UAA on 127.0.0.1 (port 0) with a temporary data directory and
 * an isolated database, for tests of components that need real UAA tokens (the API, the Director).
 *
 * ```ts
 * const uaa = await startTestUaa();
 * const { access_token } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
 * await uaa.stop();
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends, type TestDatabaseBackend } from '@openpks/db/testing';
import { DataDirectory, SecretBox, TlsAuthority, generatePassword } from '@openpks/pki';
import { createLogger, SharedSecrets, type Logger } from '@openpks/role';
import { systemClock, type Clock } from '../clock.js';
import { UaaClientId } from '../constants.js';
import type { LockoutPolicy, PasswordPolicy } from '../context.js';
import { startUaaServer } from '../server.js';
import type { TokenResponse } from '../tokenService.js';
import { httpsFetch, type HttpsFetchInit } from './httpsFetch.js';

export { httpsFetch } from './httpsFetch.js';
export type { HttpsFetchInit } from './httpsFetch.js';

export interface TestUaaOptions {
  /** Database backend (default: PGlite in memory); the database is opened fresh and closed on stop. */
  backend?: TestDatabaseBackend;
  /** Use this database instead (not closed on stop). */
  db?: Database;
  clock?: Clock;
  accessTokenValidity?: number;
  refreshTokenValidity?: number;
  consoleRedirectUris?: string[];
  lockout?: LockoutPolicy;
  passwordPolicy?: PasswordPolicy;
  adminPassword?: string;
  /** Keep the data directory here instead of a fresh temporary one (restarts reuse keys and secrets). */
  dataDir?: string;
  logger?: Logger;
  /** `roles.uaa.url`: where every replica is reached (a load balancer), which names the issuer. */
  sharedUrl?: string;
}

export type TokenRequest =
  | { username: string; password: string; clientId?: string; clientSecret?: string; scope?: string }
  | { clientId: string; clientSecret: string; scope?: string };

export interface TestUaa {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** `<url>/oauth/token` (or `<sharedUrl>/oauth/token`), the `iss` of every token. */
  issuer: string;
  /** The CA that signed the UAA's certificate (trust it; never disable verification). */
  caPem: string;
  dataDir: string;
  adminPassword: string;
  adminClientSecret: string;
  directorClientSecret: string;
  /** A fetch that trusts `caPem`. */
  fetch: (url: string | URL, init?: HttpsFetchInit) => Promise<Response>;
  /** A token by password grant (default client `pks_cli`) or client credentials; throws on an error answer. */
  tokenFor(request: TokenRequest): Promise<TokenResponse>;
  /** Creates a user through SCIM and adds it to the named groups (scopes); returns its id. */
  createUser(username: string, password: string, groups?: readonly string[]): Promise<string>;
  /** An access token of the `admin` client (SCIM and client administration). */
  adminToken(): Promise<string>;
  rotateSigningKey(options?: { retireNow?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestUaa(options: TestUaaOptions = {}): Promise<TestUaa> {
  const root = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'openpks-uaa-')));
  const dataDir = await DataDirectory.open(root);
  const secrets = await SecretBox.fromDataDirectory(dataDir);
  const tls = await TlsAuthority.load(dataDir);
  const ownDb = options.db === undefined;
  const db = options.db ?? (await (options.backend ?? testDatabaseBackends()[0]!).open());
  const config = parseConfig(
    {
      external_host: '127.0.0.1',
      roles: {
        uaa: { host: '127.0.0.1', port: 0, ...(options.sharedUrl ? { url: options.sharedUrl } : {}) },
      },
      uaa: {
        ...(options.accessTokenValidity !== undefined
          ? { access_token_validity: options.accessTokenValidity }
          : {}),
        ...(options.refreshTokenValidity !== undefined
          ? { refresh_token_validity: options.refreshTokenValidity }
          : {}),
        ...(options.consoleRedirectUris ? { console_redirect_uris: options.consoleRedirectUris } : {}),
      },
    },
    { env: { PKS_DATA_DIR: root } },
  );
  const adminPassword = options.adminPassword ?? generatePassword();
  let server;
  try {
    server = await startUaaServer({
      config,
      db,
      dataDir,
      secrets,
      sharedSecrets: new SharedSecrets(db, secrets, dataDir),
      tls,
      logger: options.logger ?? createLogger({ level: 'silent', pretty: false }),
      adminPassword,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.lockout ? { lockout: options.lockout } : {}),
      ...(options.passwordPolicy ? { passwordPolicy: options.passwordPolicy } : {}),
    });
  } catch (error) {
    if (ownDb) await db.close();
    throw error;
  }
  const fetch = httpsFetch(tls.caPem);

  const tokenFor = async (request: TokenRequest): Promise<TokenResponse> => {
    const form = new URLSearchParams();
    let clientId: string;
    let clientSecret = request.clientSecret ?? '';
    if ('username' in request) {
      clientId = request.clientId ?? UaaClientId.PKS_CLI;
      form.set('grant_type', 'password');
      form.set('username', request.username);
      form.set('password', request.password);
    } else {
      clientId = request.clientId;
      clientSecret = request.clientSecret;
      form.set('grant_type', 'client_credentials');
    }
    if (request.scope) form.set('scope', request.scope);
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        accept: 'application/json',
      },
      body: form,
    });
    const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
    if (!response.ok)
      throw new Error(`token request failed (${response.status}): ${body.error}: ${body.error_description}`);
    return body;
  };

  // Cached: every client-credentials grant pays a scrypt check, and tests ask for this token often. The
  // UAA's clock decides expiry (a test may have moved it), so the cache reads the same clock.
  const clock = options.clock ?? systemClock;
  let cachedAdmin: { token: string; issuedAt: number; until: number } | undefined;
  const adminToken = async () => {
    const now = clock.now().getTime();
    if (cachedAdmin && now >= cachedAdmin.issuedAt && now < cachedAdmin.until) return cachedAdmin.token;
    const response = await tokenFor({ clientId: UaaClientId.ADMIN, clientSecret: server.adminClientSecret });
    cachedAdmin = {
      token: response.access_token,
      issuedAt: now - 1000,
      until: now + (response.expires_in - 30) * 1000,
    };
    return response.access_token;
  };

  const scim = async (
    path: string,
    init: { method: string; body?: unknown },
  ): Promise<Record<string, unknown>> => {
    const response = await fetch(`${server.url}${path}`, {
      method: init.method,
      headers: {
        authorization: `Bearer ${await adminToken()}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok)
      throw new Error(`${init.method} ${path} failed (${response.status}): ${JSON.stringify(body)}`);
    return body;
  };

  const createUser = async (
    username: string,
    password: string,
    groups: readonly string[] = [],
  ): Promise<string> => {
    const user = await scim('/Users', {
      method: 'POST',
      body: { userName: username, password, emails: [{ value: `${username}@example.com`, primary: true }] },
    });
    for (const name of groups) {
      const found = await scim(`/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`, {
        method: 'GET',
      });
      let group = (found.resources as { id: string }[])[0];
      group ??= (await scim('/Groups', { method: 'POST', body: { displayName: name } })) as { id: string };
      await scim(`/Groups/${group.id}/members`, {
        method: 'POST',
        body: { value: user.id, type: 'USER', origin: 'uaa' },
      });
    }
    return user.id as string;
  };

  return {
    url: server.url,
    issuer: server.issuer,
    caPem: tls.caPem,
    dataDir: root,
    adminPassword,
    adminClientSecret: server.adminClientSecret,
    directorClientSecret: server.directorClientSecret,
    fetch,
    tokenFor,
    createUser,
    adminToken,
    rotateSigningKey: (rotation) => server.rotateSigningKey(rotation),
    stop: async () => {
      await server.stop();
      if (ownDb) await db.close();
      if (options.dataDir === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}

export { TestBrowser, hiddenInput } from './browser.js';
export { TestClock } from './clock.js';
