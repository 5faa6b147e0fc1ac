import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorClient, directorRole } from '@openpks/bosh';
import { parseConfig, Role, type PksConfig } from '@openpks/config';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, SharedSecrets, type RoleDeps, type RunningRole } from '@openpks/role';
import { loadDirectorClientSecret, uaaRole } from '@openpks/uaa';
import { httpsFetch } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from './service/catalog.js';
import { brokerRole, loadBrokerCredentials } from './role.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** An HTTPS request trusting only the installation CA (and, for sim masters, a servername). */
function call(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    ca: string;
    servername?: string;
  },
): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        ...(options.servername ? { servername: options.servername } : {}),
        headers: {
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the broker role', () => {
  let root: string;
  let db: TestDatabase;
  let config: PksConfig;
  let deps: RoleDeps;
  const running: RunningRole[] = [];
  const urls = new Map<Role, string>();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'openpks-broker-role-'));
    db = await testDatabaseBackends()[0]!.open();
    const dataDir = await DataDirectory.open(root);
    config = parseConfig(
      {
        external_host: '127.0.0.1',
        roles: { uaa: { port: 0 }, director: { port: 0 }, broker: { port: 0 } },
        director: { type: 'embedded', workers: 3, sim: { ip_range: '127.1.63.0/24' } },
        broker: { oidc: { username_prefix: 'pks:' }, upgrades: { canaries: 1, max_in_flight: 2 } },
        plans: { small: { master: { instances: 1 }, worker: { instances: 1, max_instances: 3 } } },
      },
      { env: { PKS_DATA_DIR: root } },
    );
    deps = {
      dataDir,
      tls: await TlsAuthority.load(dataDir),
      secrets: await SecretBox.fromDataDirectory(dataDir),
      sharedSecrets: new SharedSecrets(db, await SecretBox.fromDataDirectory(dataDir), dataDir),
      db,
      logger: createLogger({ level: 'silent', pretty: false }),
      endpoints: {
        url: (role) => {
          const url = urls.get(role);
          if (url === undefined) throw new Error(`role ${role} is not running`);
          return url;
        },
      },
      adminPassword: 'the-admin-Passw0rd',
    };
    for (const role of [uaaRole, directorRole, brokerRole]) {
      const started = await role.start(config, deps);
      urls.set(role.name, started.url);
      running.unshift(started);
    }
  }, 120_000);
  afterAll(async () => {
    for (const role of running) await role.stop();
    await db?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('provisions and binds over HTTPS with its generated credentials; the kubeconfig verifies the sim master', async () => {
    const ca = deps.tls.caPem;
    const broker = urls.get(Role.BROKER)!;
    const credentials = await loadBrokerCredentials(deps);
    const auth = {
      Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
      'X-Broker-API-Version': '2.17',
    };
    expect(
      (await call(`${broker}/v2/catalog`, { ca, headers: { 'X-Broker-API-Version': '2.17' } })).status,
    ).toBe(401);
    const catalog = await call(`${broker}/v2/catalog`, { ca, headers: auth });
    expect(catalog.status).toBe(200);
    const plan = catalog.body.services[0].plans.find((p: Json) => p.name === 'small');

    const id = randomUUID();
    const path = `${broker}/v2/service_instances/${id}`;
    const created = await call(`${path}?accepts_incomplete=true`, {
      method: 'PUT',
      ca,
      headers: auth,
      body: {
        service_id: PKS_SERVICE_ID,
        plan_id: plan.id,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: 'role-cluster.example.com' },
      },
    });
    expect(created.status).toBe(202);
    const query = new URLSearchParams({
      service_id: PKS_SERVICE_ID,
      plan_id: plan.id,
      operation: created.body.operation,
    });
    let state: Json;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      state = (await call(`${path}/last_operation?${query}`, { ca, headers: auth })).body;
      if (state.state !== 'in progress') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state).toMatchObject({ state: 'succeeded' });

    // The admin user's tokens for pks_cluster_client become the kubeconfig's OIDC user.
    const fetch = httpsFetch(ca);
    const tokenResponse = await fetch(`${urls.get(Role.UAA)}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('pks_cluster_client:').toString('base64')}`,
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: deps.adminPassword }),
    });
    const tokens = (await tokenResponse.json()) as { id_token: string; refresh_token: string };
    const bound = await call(`${path}/service_bindings/${randomUUID()}`, {
      method: 'PUT',
      ca,
      headers: auth,
      body: {
        service_id: PKS_SERVICE_ID,
        plan_id: plan.id,
        parameters: {
          user_name: 'admin',
          id_token: tokens.id_token,
          refresh_token: tokens.refresh_token,
          cluster_name: 'role-cluster',
        },
      },
    });
    expect(bound.status).toBe(201);
    const kubeconfig = bound.body.credentials.kubeconfig;
    const cluster = kubeconfig.clusters[0].cluster;
    expect(cluster['tls-server-name']).toBe('role-cluster.example.com');
    expect(cluster.server).toMatch(/^https:\/\/127\.1\.63\.\d+:8443$/);

    // kubectl's way in: the master's IP, the cluster CA from the config server, the external hostname.
    const nodes = await call(`${cluster.server}/api/v1/nodes`, {
      ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
      servername: cluster['tls-server-name'],
      headers: { Authorization: `Bearer ${kubeconfig.users[0].user['auth-provider'].config['id-token']}` },
    });
    expect(nodes.status).toBe(200);
    expect(nodes.body.items).toHaveLength(1);

    // pks.yaml's broker.oidc reaches the cluster's kube-apiserver.
    const director = new DirectorClient({
      url: urls.get(Role.DIRECTOR)!,
      ca,
      client: { id: 'pks_director', secret: (await loadDirectorClientSecret(deps))! },
    });
    const manifest = await director.manifest(`service-instance_${id}`);
    director.close();
    expect(manifest).toMatch(/username-prefix: "?pks:"?/);
    expect(manifest).toMatch(/groups-prefix: "?oidc:"?/);

    // and pks.yaml's broker.upgrades are the defaults of an upgrade run.
    const run = await call(`${broker}/mgmt/upgrade_runs`, { method: 'POST', ca, headers: auth, body: {} });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ max_in_flight: 2, attempt_limit: 5 });
    expect(run.body.instances.filter((i: Json) => i.is_canary)).toHaveLength(1);
  }, 120_000);
});
