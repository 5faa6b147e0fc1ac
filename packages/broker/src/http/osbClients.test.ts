import { execFile } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { DataDirectory, SecretBox } from '@openpks/pki';
import { createLogger } from '@openpks/role';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { loadOrCreateClientCa } from '../bindings/clientCa.js';
import { KubeAdmin } from '../bindings/kubeAdmin.js';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { configServerClusterCa } from '../service/clusterCa.js';
import { startTestBroker, type OsbResponse, type TestBroker } from '../testing/index.js';

const run = promisify(execFile);
const kubectlOnPath = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
);

const small = parseConfig({}).plans.find((p) => p.name === 'small')!;

/**
 * Every field each response may carry at OSB 2.13, read from the v2.13 spec.md (the response tables of
 * each endpoint, and the Service and Plan objects). Written out here rather than taken from the broker's
 * own version table, so the broker cannot agree with itself.
 */
const SPEC_2_13 = {
  catalog: ['services'],
  service: [
    'name',
    'id',
    'description',
    'tags',
    'requires',
    'bindable',
    'metadata',
    'dashboard_client',
    'plan_updateable',
    'plans',
  ],
  plan: ['id', 'name', 'description', 'metadata', 'free', 'bindable', 'schemas'],
  provision: ['dashboard_url', 'operation'],
  update: ['operation'],
  deprovision: ['operation'],
  lastOperation: ['state', 'description'],
  bind: ['credentials', 'syslog_drain_url', 'route_service_url', 'volume_mounts'],
  unbind: [] as string[],
  error: ['error', 'description'],
};

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
let broker: TestBroker;
const logLines: string[] = [];

beforeAll(async () => {
  uaa = await startTestUaa();
  // With PKS_TEST_DATABASE_URL set this runs on PostgreSQL, otherwise on PGlite.
  db = await testDatabaseBackends().at(-1)!.open();
  bosh = await startTestDirector({ uaa, db, ipRange: '127.1.130.0/24' });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  broker = await startTestBroker({
    uaa,
    bosh,
    db,
    logger: createLogger({ level: 'debug', pretty: false, destination }),
  });
}, 120_000);
afterAll(async () => {
  await broker?.stop();
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

const osb = (
  version: string,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) =>
  broker.osb(method, path, {
    version,
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
  });

async function settle(version: string, instanceId: string, operation: string): Promise<OsbResponse> {
  for (;;) {
    const res = await osb(
      version,
      'GET',
      `/v2/service_instances/${instanceId}/last_operation?operation=${encodeURIComponent(operation)}`,
    );
    if (res.status !== 200 || res.body.state !== 'in progress') return res;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Provisions a cluster at `version` and waits for it. */
async function provisioned(
  version: string,
  host: string,
): Promise<{ id: string; path: string; created: OsbResponse }> {
  const id = randomUUID();
  const path = `/v2/service_instances/${id}`;
  const created = await osb(version, 'PUT', `${path}?accepts_incomplete=true`, {
    service_id: PKS_SERVICE_ID,
    plan_id: small.id,
    organization_guid: 'org-1',
    space_guid: 'space-1',
    parameters: { kubernetes_master_host: host, kubernetes_worker_instances: 1 },
  });
  expect(created.status).toBe(202);
  expect((await settle(version, id, created.body.operation)).body.state).toBe('succeeded');
  return { id, path, created };
}

/** Fails naming the fields a strict 2.13 platform would reject. */
function expectOnly(kind: keyof typeof SPEC_2_13, body: Record<string, unknown>): void {
  const unknown = Object.keys(body).filter((field) => !SPEC_2_13[kind].includes(field));
  expect(unknown, `${kind} fields 2.13 does not define`).toEqual([]);
}

const unbindQuery = `?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}`;

describe('a strict OSB 2.13 platform', () => {
  it('gets no field 2.13 does not define from any endpoint, and 412 from endpoints 2.13 does not have', async () => {
    const v = '2.13';
    const catalog = await osb(v, 'GET', '/v2/catalog');
    expect(catalog.status).toBe(200);
    expectOnly('catalog', catalog.body);
    for (const service of catalog.body.services) {
      expectOnly('service', service);
      for (const plan of service.plans) expectOnly('plan', plan);
    }

    const { id, path, created } = await provisioned(v, 'strict-213.example.com');
    expectOnly('provision', created.body);
    const last = await osb(
      v,
      'GET',
      `${path}/last_operation?operation=${encodeURIComponent(created.body.operation)}`,
    );
    expectOnly('lastOperation', last.body);
    expect(last.headers['retry-after']).toBeUndefined();

    // An identity header a 2.13 platform might send is not answered with a 2.15 header.
    const echoed = await osb(v, 'GET', '/v2/catalog', undefined, { 'X-Broker-API-Request-Identity': 'r-1' });
    expect(echoed.headers['x-broker-api-request-identity']).toBeUndefined();

    const update = await osb(v, 'PATCH', `${path}?accepts_incomplete=true`, {
      service_id: PKS_SERVICE_ID,
      parameters: { kubernetes_worker_instances: 2 },
    });
    expect(update.status).toBe(202);
    expectOnly('update', update.body);
    expect((await settle(v, id, update.body.operation)).body.state).toBe('succeeded');

    for (const fetch of [
      path,
      `${path}/service_bindings/b-1`,
      `${path}/service_bindings/b-1/last_operation`,
    ]) {
      const res = await osb(v, 'GET', fetch);
      expect(res.status, fetch).toBe(412);
      expectOnly('error', res.body);
    }

    const bindingPath = `${path}/service_bindings/${randomUUID()}`;
    const bindBody = { service_id: PKS_SERVICE_ID, plan_id: small.id, bind_resource: { app_guid: 'app-1' } };
    const bound = await osb(v, 'PUT', bindingPath, bindBody);
    expect(bound.status).toBe(201);
    expectOnly('bind', bound.body);
    const again = await osb(v, 'PUT', bindingPath, bindBody);
    expect(again.status).toBe(200);
    expectOnly('bind', again.body);
    const conflict = await osb(v, 'PUT', bindingPath, { ...bindBody, parameters: { user_name: 'x' } });
    expect(conflict.status).toBe(409);
    expectOnly('error', conflict.body);

    const unbound = await osb(v, 'DELETE', `${bindingPath}${unbindQuery}`);
    expect(unbound.status).toBe(200);
    expectOnly('unbind', unbound.body);
    const gone = await osb(v, 'DELETE', `${bindingPath}${unbindQuery}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toBeTypeOf('object');

    const deleted = await osb(v, 'DELETE', `${path}${unbindQuery}&accepts_incomplete=true`);
    expect(deleted.status).toBe(202);
    expectOnly('deprovision', deleted.body);
    const finished = await settle(v, id, deleted.body.operation);
    expect(finished.body.state).toBe('succeeded');
    expectOnly('lastOperation', finished.body);
    const gone2 = await osb(v, 'DELETE', `${path}${unbindQuery}&accepts_incomplete=true`);
    expect(gone2.status).toBe(410);
  }, 120_000);
});

describe('an OSB 2.17 platform', () => {
  it('gets the fields and endpoints 2.14 to 2.17 added', async () => {
    const v = '2.17';
    const [service] = (await osb(v, 'GET', '/v2/catalog')).body.services;
    expect(service).toMatchObject({ instances_retrievable: true, bindings_retrievable: true });
    expect(service.plans[0]).toMatchObject({ plan_updateable: false });

    const { id, path, created } = await provisioned(v, 'osb-217.example.com');
    expect(created.body.dashboard_url).toMatch(/^https:\/\/osb-217\.example\.com:8443\//);
    const echoed = await osb(v, 'GET', '/v2/catalog', undefined, { 'X-Broker-API-Request-Identity': 'r-2' });
    expect(echoed.headers['x-broker-api-request-identity']).toBe('r-2');

    const update = await osb(v, 'PATCH', `${path}?accepts_incomplete=true`, {
      service_id: PKS_SERVICE_ID,
      parameters: { kubernetes_worker_instances: 2 },
    });
    expect(update.status).toBe(202);
    expect(update.body.dashboard_url).toBe(created.body.dashboard_url);
    const running = await osb(
      v,
      'GET',
      `${path}/last_operation?operation=${encodeURIComponent(update.body.operation)}`,
    );
    if (running.body.state === 'in progress') expect(running.headers['retry-after']).toBe('5');
    expect((await settle(v, id, update.body.operation)).body.state).toBe('succeeded');

    const instance = await osb(v, 'GET', path);
    expect(instance.status).toBe(200);
    expect(instance.body).toMatchObject({ service_id: PKS_SERVICE_ID, plan_id: small.id });

    const bindingPath = `${path}/service_bindings/${randomUUID()}`;
    const bindBody = { service_id: PKS_SERVICE_ID, plan_id: small.id };
    const bound = await osb(v, 'PUT', bindingPath, bindBody);
    expect(bound.status).toBe(201);
    expect((await osb(v, 'PUT', bindingPath, bindBody)).status).toBe(200);
    expect((await osb(v, 'PUT', bindingPath, { ...bindBody, parameters: { user_name: 'x' } })).status).toBe(
      409,
    );
    const fetched = await osb(v, 'GET', bindingPath);
    expect(fetched.status).toBe(200);
    expect(fetched.body.credentials).toEqual(bound.body.credentials);
    expect((await osb(v, 'GET', `${bindingPath}/last_operation`)).body).toEqual({
      state: 'succeeded',
      description: 'Binding created',
    });

    expect((await osb(v, 'DELETE', `${bindingPath}${unbindQuery}`)).status).toBe(200);
    expect((await osb(v, 'DELETE', `${bindingPath}${unbindQuery}`)).status).toBe(410);
    expect((await osb(v, 'GET', bindingPath)).status).toBe(404);
    expect((await osb(v, 'GET', `${bindingPath}/last_operation`)).status).toBe(404);

    const deleted = await osb(v, 'DELETE', `${path}${unbindQuery}&accepts_incomplete=true`);
    expect(deleted.status).toBe(202);
    expect((await settle(v, id, deleted.body.operation)).body.state).toBe('succeeded');
  }, 120_000);

  it('answers 412 to a missing or malformed X-Broker-API-Version, and a newer 2.x as 2.17', async () => {
    for (const version of [null, '', 'two', '2', '2.x', '1.17', '3.0', '2.12']) {
      const res = await broker.osb('GET', '/v2/catalog', { version });
      expect(res.status, String(version)).toBe(412);
      expect(res.body.error).toBe('PreconditionFailed');
    }
    const newer = await broker.osb('GET', '/v2/catalog', { version: '2.18' });
    expect(newer.status).toBe(200);
    expect(newer.body.services[0].plans[0].plan_updateable).toBe(false);
  });
});

/** A kubeconfig from a binding, as a real client loads it. */
function kubeClient(kubeconfig: unknown): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromString(stringify(kubeconfig));
  return config.makeApiClient(CoreV1Api);
}

describe('a binding with no parameters', () => {
  it('gives a client certificate that works with real Kubernetes clients until it is unbound, then gets 403', async () => {
    const { path } = await provisioned('2.17', 'no-oidc.example.com');
    const bindingId = randomUUID();
    const bindingPath = `${path}/service_bindings/${bindingId}`;
    const bound = await osb('2.15', 'PUT', bindingPath, { service_id: PKS_SERVICE_ID, plan_id: small.id });
    expect(bound.status).toBe(201);
    const kubeconfig = bound.body.credentials.kubeconfig;
    const user = kubeconfig.users[0].user;
    expect(Object.keys(user).sort()).toEqual(['client-certificate-data', 'client-key-data']);
    const certificate = new X509Certificate(Buffer.from(user['client-certificate-data'], 'base64'));
    expect(certificate.subject).toBe(`CN=pks-binding-${bindingId}\nO=pks-bindings`);
    expect(kubeconfig.users[0].name).toBe(`pks-binding-${bindingId}`);
    expect(kubeconfig.clusters[0].cluster['tls-server-name']).toBe('no-oidc.example.com');

    const nodes = await kubeClient(kubeconfig).listNode();
    expect(nodes.items).toHaveLength(1);

    const dir = await mkdtemp(join(tmpdir(), 'openpks-binding-'));
    try {
      const file = join(dir, 'kubeconfig');
      await writeFile(file, stringify(kubeconfig));
      if (kubectlOnPath) {
        const { stdout } = await run('kubectl', ['--kubeconfig', file, 'get', 'nodes'], { timeout: 20_000 });
        expect(stdout).toMatch(/\sReady\s/);
      }

      expect((await osb('2.15', 'DELETE', `${bindingPath}${unbindQuery}`)).status).toBe(200);
      await expect(kubeClient(kubeconfig).listNode()).rejects.toMatchObject({ code: 403 });
      if (kubectlOnPath) {
        const refused = await run('kubectl', ['--kubeconfig', file, 'get', 'nodes'], {
          timeout: 20_000,
        }).catch((e: { stderr: string }) => e);
        expect((refused as { stderr: string }).stderr).toMatch(/Forbidden|forbidden/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // A second binding of the same cluster is another user: unbinding one leaves the other working.
    const other = await osb('2.15', 'PUT', `${path}/service_bindings/${randomUUID()}`, {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
    });
    expect((await kubeClient(other.body.credentials.kubeconfig).listNode()).items).toHaveLength(1);
    await expect(kubeClient(kubeconfig).listNode()).rejects.toMatchObject({ code: 403 });
  }, 120_000);

  it('refuses (422) to hand out a certificate when the cluster has a ClusterRoleBinding of that name granting something else', async () => {
    const { id, path } = await provisioned('2.17', 'squatted.example.com');
    const bindingId = randomUUID();
    const deployment = `service-instance_${id}`;
    // The broker's own admin access, as an operator holding the data directory could use it.
    const clientCa = await loadOrCreateClientCa(
      db,
      await SecretBox.fromDataDirectory(await DataDirectory.open(uaa.dataDir)),
    );
    const master = (await bosh.client.instances(deployment)).find((i) => i.job === 'master')!;
    const ca = await configServerClusterCa(bosh.client, bosh.configServer).clusterCa(deployment);
    const admin = new KubeAdmin(
      { server: `https://${master.ips[0]}:8443`, ca: ca!, tlsServerName: 'squatted.example.com' },
      clientCa,
    );
    const squat = await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: `pks-binding-${bindingId}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'someone-else' }],
    });
    expect(squat.status).toBe(201);
    const res = await osb('2.17', 'PUT', `${path}/service_bindings/${bindingId}`, {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
    });
    expect(res.status).toBe(422);
    expect(res.body.description).toMatch(/already has a ClusterRoleBinding pks-binding-/);
  }, 120_000);

  it('keeps the private key sealed at rest and out of the log', async () => {
    const { path } = await provisioned('2.17', 'sealed.example.com');
    const bindingId = randomUUID();
    const bound = await osb('2.17', 'PUT', `${path}/service_bindings/${bindingId}`, {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
    });
    expect(bound.status).toBe(201);
    const key = Buffer.from(
      bound.body.credentials.kubeconfig.users[0].user['client-key-data'],
      'base64',
    ).toString();
    const keyBody = key.split('\n')[1]!;
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM broker.bindings WHERE id = $1', [
      bindingId,
    ]);
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(keyBody);
    expect(stored).not.toContain(bound.body.credentials.kubeconfig.users[0].user['client-key-data']);
    const ca = await db.query<Record<string, unknown>>('SELECT * FROM broker.client_ca');
    expect(JSON.stringify(ca.rows)).not.toMatch(/BEGIN PRIVATE KEY/);
    expect(logLines.some((line) => line.includes('binding created'))).toBe(true);
    expect(logLines.join('')).not.toContain(keyBody);
  }, 120_000);

  it('tells a cluster deployed before the broker had its client CA to upgrade, and binds once it is upgraded', async () => {
    const { id, path } = await provisioned('2.17', 'legacy.example.com');
    // The deployment as an older broker rendered it: no client CA for the apiserver.
    const deployment = `service-instance_${id}`;
    const parsed = parse((await bosh.client.manifest(deployment))!) as {
      instance_groups: { name: string; jobs: { name: string; properties?: Record<string, unknown> }[] }[];
    };
    const apiserver = parsed.instance_groups
      .find((g) => g.name === 'master')!
      .jobs.find((j) => j.name === 'kube-apiserver')!;
    expect(apiserver.properties!['client-ca']).toMatch(/BEGIN CERTIFICATE/);
    delete apiserver.properties!['client-ca'];
    const manifest = stringify(parsed, { lineWidth: 0 });
    const task = await bosh.client.deploy(manifest);
    await bosh.client.waitForTask(task.id);
    const res = await osb('2.17', 'PUT', `${path}/service_bindings/${randomUUID()}`, {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
    });
    expect(res.status).toBe(422);
    expect(res.body.description).toMatch(/upgrade it/);

    // An upgrade renders the current manifest, which trusts the broker again.
    const upgrade = await broker.osb('PATCH', `/mgmt/service_instances/${id}?operation_type=upgrade`);
    expect(upgrade.status).toBe(202);
    expect((await settle('2.17', id, JSON.stringify(upgrade.body))).body.state).toBe('succeeded');
    const after = await osb('2.17', 'PUT', `${path}/service_bindings/${randomUUID()}`, {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
    });
    expect(after.status).toBe(201);
    expect((await kubeClient(after.body.credentials.kubeconfig).listNode()).items).toHaveLength(1);
  }, 120_000);
});
