import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@openpks/config';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, SharedSecrets, type RoleDeps, type RunningRole } from '@openpks/role';
import { NsxClient } from './client.js';
import { createNsxRole, loadNsxSimCredentials, nsxProxyFor } from './role.js';

describe('the nsx role (embedded simulator)', () => {
  let db: TestDatabase;
  let deps: RoleDeps;
  let running: RunningRole | undefined;
  const config = parseConfig({ roles: { nsx: { host: '127.0.0.1', port: 0 } } }, { env: {} });

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'openpks-nsx-role-'));
    const dataDir = await DataDirectory.open(root);
    db = await testDatabaseBackends()[0]!.open();
    deps = {
      dataDir,
      tls: await TlsAuthority.load(dataDir, { hostnames: ['127.0.0.1', 'localhost'] }),
      secrets: await SecretBox.fromDataDirectory(dataDir),
      sharedSecrets: new SharedSecrets(db, await SecretBox.fromDataDirectory(dataDir), dataDir),
      db,
      logger: createLogger({ level: 'silent', pretty: false }),
      endpoints: { url: () => running!.url },
      adminPassword: 'unused-admin-password',
    };
  });
  afterAll(async () => {
    await running?.stop();
    await db?.close();
  });

  it('serves the seeded Policy API over HTTPS with a generated password, and restarts without reseeding twice', async () => {
    running = await createNsxRole().start(config, deps);
    expect(running.banner?.nsx).toContain('sim');
    const client = new NsxClient({
      url: running.url,
      ca: deps.tls.caPem,
      ...(await loadNsxSimCredentials(deps)),
    });
    expect((await client.ipBlocks.list()).map((b) => b.id)).toEqual([
      'pks-node-ip-block',
      'pks-pod-ip-block',
    ]);
    await running.stop();
    running = await createNsxRole().start(config, deps);
    const again = new NsxClient({
      url: running.url,
      ca: deps.tls.caPem,
      ...(await loadNsxSimCredentials(deps)),
    });
    expect(await again.tier0s.list()).toHaveLength(1);
    // The API's proxy finds the simulator through the endpoints with the same credentials.
    const proxy = await nsxProxyFor(config, deps);
    const details = await proxy.provision('role-test');
    expect(details.node_subnet).toBe('172.24.0.0/24');
    await proxy.release('role-test');
  });

  it("gives an API replica on another machine (another data directory) the simulator's password through the database", async () => {
    const other = await DataDirectory.open(await mkdtemp(join(tmpdir(), 'openpks-nsx-other-')));
    const box = await SecretBox.fromDataDirectory(deps.dataDir);
    const elsewhere = { ...deps, dataDir: other, sharedSecrets: new SharedSecrets(db, box, other) };
    expect(await loadNsxSimCredentials(elsewhere)).toEqual(await loadNsxSimCredentials(deps));
    const proxy = await nsxProxyFor(config, elsewhere);
    const details = await proxy.provision('role-test-elsewhere');
    expect(details.node_subnet).toMatch(/^172\.24\./);
    await proxy.release('role-test-elsewhere');
  });
});
