import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type PksConfig } from '@openpks/config';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, SharedSecrets, type RoleDeps } from '@openpks/role';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CLIENT_SECRET_FILE, loadDirectorClientSecret, uaaRole, UAA_URL_FILE } from './index.js';
import { httpsFetch } from './testing/index.js';

describe('the uaa role', () => {
  let root: string;
  let db: TestDatabase;
  let config: PksConfig;
  let deps: RoleDeps;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'openpks-uaa-role-'));
    db = await testDatabaseBackends()[0]!.open();
    const dataDir = await DataDirectory.open(root);
    config = parseConfig(
      { external_host: '127.0.0.1', roles: { uaa: { port: 0 } } },
      { env: { PKS_DATA_DIR: root } },
    );
    deps = {
      dataDir,
      tls: await TlsAuthority.load(dataDir),
      secrets: await SecretBox.fromDataDirectory(dataDir),
      sharedSecrets: new SharedSecrets(db, await SecretBox.fromDataDirectory(dataDir), dataDir),
      db,
      logger: createLogger({ level: 'silent', pretty: false }),
      endpoints: { url: () => 'https://127.0.0.1:1' },
      adminPassword: 'the-admin-password',
    };
  });
  afterAll(async () => {
    await db?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('starts on the bound port, seeds the admin, and keeps keys and secrets across a restart', async () => {
    const first = await uaaRole.start(config, deps);
    const fetch = httpsFetch(deps.tls.caPem);
    expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.url).not.toMatch(/:8443$/);
    expect(first.banner).toMatchObject({
      'UAA issuer': `${first.url}/oauth/token`,
      'UAA admin client': `admin (secret in ${deps.dataDir.path(ADMIN_CLIENT_SECRET_FILE)})`,
    });
    expect(Object.values(first.banner!).join(' ')).not.toContain('the-admin-password');
    expect((await stat(deps.dataDir.path(ADMIN_CLIENT_SECRET_FILE))).mode & 0o777).toBe(0o600);
    expect((await deps.dataDir.read(UAA_URL_FILE))?.toString().trim()).toBe(first.url);
    expect(await loadDirectorClientSecret(deps)).toMatch(/^\w{32}$/);

    const health = await fetch(`${first.url}/healthz`);
    expect(await health.json()).toMatchObject({ role: 'uaa', status: 'ok', checks: { database: 'ok' } });

    const login = await fetch(`${first.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'pks_cli',
        username: 'admin',
        password: 'the-admin-password',
      }),
    });
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    await first.stop();

    const second = await uaaRole.start(config, { ...deps, adminPassword: 'ignored-after-seeding' });
    try {
      const jwks = createRemoteJWKSet(new URL(`${second.url}/token_keys`), { [customFetch]: fetch as never });
      // Same signing key after the restart; the issuer moved with the port, the key did not.
      await expect(jwtVerify(access_token, jwks, { algorithms: ['RS256'] })).resolves.toBeTruthy();
      const again = await fetch(`${second.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'pks_cli',
          username: 'admin',
          password: 'the-admin-password',
        }),
      });
      expect(again.status).toBe(200);
      const users = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM uaa.users WHERE username = 'admin'`,
      );
      expect(users.rows[0]!.n).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
