import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectorRole } from '@openpks/bosh';
import { brokerRole } from '@openpks/broker';
import { parseConfig, type Role } from '@openpks/config';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { nsxRole } from '@openpks/nsx';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, SharedSecrets, type RoleDeps, type RunningRole } from '@openpks/role';
import { uaaRole } from '@openpks/uaa';
import { httpsFetch } from '@openpks/uaa/testing';
import { apiRole } from './index.js';

// The api role as pks-server starts it: after uaa, director, broker and nsx, from the same data directory,
// finding them through the endpoints and reading the broker's credentials and the Director client secret.

describe('the api role', () => {
  let db: TestDatabase;
  const running: RunningRole[] = [];
  const urls = new Map<Role, string>();
  let caPem: string;
  let adminPassword: string;

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'openpks-api-role-'));
    const config = parseConfig(
      {
        external_host: '127.0.0.1',
        roles: Object.fromEntries(
          ['uaa', 'api', 'broker', 'director', 'nsx'].map((r) => [r, { host: '127.0.0.1', port: 0 }]),
        ),
      },
      { env: { PKS_DATA_DIR: root } },
    );
    const dataDir = await DataDirectory.open(root);
    const tls = await TlsAuthority.load(dataDir, { hostnames: ['127.0.0.1', 'localhost'] });
    caPem = tls.caPem;
    db = await testDatabaseBackends()[0]!.open();
    adminPassword = 'role-test-admin-password-1';
    const deps: RoleDeps = {
      dataDir,
      tls,
      secrets: await SecretBox.fromDataDirectory(dataDir),
      sharedSecrets: new SharedSecrets(db, await SecretBox.fromDataDirectory(dataDir), dataDir),
      db,
      logger: createLogger({ level: 'silent', pretty: false }),
      endpoints: { url: (role) => urls.get(role) ?? `https://127.0.0.1:${config.roles[role].port}` },
      adminPassword,
    };
    const director = createDirectorRole({ sim: { ipRange: '127.1.74.0/24' } });
    for (const role of [uaaRole, director, brokerRole, nsxRole, apiRole]) {
      const started = await role.start(config, deps);
      running.push(started);
      urls.set(role.name, started.url);
    }
  }, 120_000);

  afterAll(async () => {
    for (const role of running.reverse()) await role.stop();
    await db?.close();
  });

  it('serves GraphQL with UAA tokens and creates a cluster through the broker and the Director', async () => {
    const fetch = httpsFetch(caPem);
    const token = (await (
      await fetch(`${urls.get('uaa')}/oauth/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from('pks_cli:').toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: 'admin',
          password: adminPassword,
        }).toString(),
      })
    ).json()) as { access_token: string };
    const gql = async (query: string) =>
      (await (
        await fetch(`${urls.get('api')}/graphql`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.access_token}` },
          body: JSON.stringify({ query }),
        })
      ).json()) as { data?: Record<string, { lastActionState?: string }>; errors?: unknown[] };
    expect((await gql('{ me { name changesAllClusters } }')).data?.me).toEqual({
      name: 'admin',
      changesAllClusters: true,
    });
    const created = await gql(
      'mutation{ createCluster(input:{name:"via-role", planName:"small", externalHostname:"via-role.example.test", numNodes:1}){ lastActionState } }',
    );
    expect(created.errors).toBeUndefined();
    let state = 'in progress';
    for (let i = 0; i < 200 && state === 'in progress'; i++) {
      await new Promise((r) => setTimeout(r, 150));
      state =
        (await gql('{ cluster(name:"via-role"){ lastActionState } }')).data?.cluster?.lastActionState ?? '';
    }
    expect(state).toBe('succeeded');
    // Its node network came from the embedded NSX simulator through the nsx role.
    const nsx = (await gql('{ cluster(name:"via-role"){ nsxDetails { nodeSubnet } } }')).data
      ?.cluster as unknown as {
      nsxDetails: { nodeSubnet: string };
    };
    expect(nsx.nsxDetails.nodeSubnet).toMatch(/^172\.2[4-7]\.\d+\.0\/24$/);
  }, 60_000);
});
