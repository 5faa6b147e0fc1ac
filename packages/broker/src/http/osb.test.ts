import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { startTestBroker, type OsbResponse, type TestBroker } from '../testing/index.js';

const plans = parseConfig({}).plans;
const small = plans.find((p) => p.name === 'small')!;
const medium = plans.find((p) => p.name === 'medium')!;

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
let broker: TestBroker;

beforeAll(async () => {
  uaa = await startTestUaa();
  db = await testDatabaseBackends()[0]!.open();
  // VMs take a moment to create, so requests can race an operation in flight.
  bosh = await startTestDirector({
    uaa,
    db,
    ipRange: '127.1.61.0/24',
    sim: { latencyMs: { create_vm: 300 } },
  });
  broker = await startTestBroker({ uaa, bosh, db });
}, 120_000);
afterAll(async () => {
  await broker?.stop();
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

const provisionBody = (parameters: Record<string, unknown>, plan = small) => ({
  service_id: PKS_SERVICE_ID,
  plan_id: plan.id,
  organization_guid: 'org-1',
  space_guid: 'space-1',
  context: { platform: 'pks' },
  parameters,
});

async function waitFor(instanceId: string, operation: string): Promise<OsbResponse> {
  for (;;) {
    const res = await broker.osb(
      'GET',
      `/v2/service_instances/${instanceId}/last_operation?operation=${encodeURIComponent(operation)}`,
    );
    if (res.status !== 200 || res.body.state !== 'in progress') return res;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** GETs the sim master's Kubernetes API with a kubeconfig's CA and id token. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function kubeGet(kubeconfig: any, path: string): Promise<{ status: number; body: any }> {
  const cluster = kubeconfig.clusters[0].cluster;
  const token = kubeconfig.users[0].user['auth-provider'].config['id-token'];
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cluster.server),
      {
        ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
        // As kubectl does: the master's IP, verified against the external hostname (tls-kubernetes' SAN).
        servername: cluster['tls-server-name'],
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the OSB protocol', () => {
  it('requires Basic auth (401) and X-Broker-API-Version 2.13 or newer (412)', async () => {
    expect((await broker.osb('GET', '/v2/catalog', { auth: null })).status).toBe(401);
    expect(
      (await broker.osb('GET', '/v2/catalog', { auth: { username: 'broker', password: 'wrong' } })).status,
    ).toBe(401);
    // Every way of being wrong gets the same answer: user, password, length, empty, non-ASCII.
    const { username, password } = broker.credentials;
    for (const auth of [
      { username: 'brokes', password },
      { username, password: `${password}x` },
      { username, password: password.slice(0, -1) },
      { username: '', password: '' },
      { username: 'bröker', password },
      { username: `${username}:${password}`, password: '' },
    ])
      expect((await broker.osb('GET', '/v2/catalog', { auth })).status).toBe(401);
    const missing = await broker.osb('GET', '/v2/catalog', { version: null });
    expect(missing.status).toBe(412);
    expect(missing.body.description).toBe('X-Broker-API-Version Header not set');
    expect((await broker.osb('GET', '/v2/catalog', { version: '2.12' })).status).toBe(412);
    expect((await broker.osb('GET', '/v2/catalog', { version: '2.13' })).status).toBe(200);
  });

  it('echoes X-Broker-API-Request-Identity and rejects a malformed originating identity', async () => {
    const res = await broker.osb('GET', '/v2/catalog', {
      headers: { 'X-Broker-API-Request-Identity': 'req-42' },
    });
    expect(res.headers['x-broker-api-request-identity']).toBe('req-42');
    const bad = await broker.osb('PUT', `/v2/service_instances/${randomUUID()}?accepts_incomplete=true`, {
      body: provisionBody({ kubernetes_master_host: 'x.example.com' }),
      headers: { 'X-Broker-API-Originating-Identity': 'pks not-base64-json' },
    });
    expect(bad.status).toBe(400);
  });

  it('publishes one lowercase service whose plans carry schemas from the plan', async () => {
    const res = await broker.osb('GET', '/v2/catalog');
    expect(res.status).toBe(200);
    const [service] = res.body.services;
    expect(service).toMatchObject({
      name: 'pks',
      id: PKS_SERVICE_ID,
      bindable: true,
      instances_retrievable: true,
    });
    expect(service.plans.map((p: { name: string }) => p.name)).toEqual(['small', 'medium', 'large']);
    const schema = service.plans[0].schemas.service_instance.create.parameters;
    expect(schema.properties.kubernetes_worker_instances).toMatchObject({ minimum: 1, maximum: 10 });
  });

  it('rejects bad provision requests: 422 AsyncRequired, 400 missing fields, 400 bad parameters', async () => {
    const id = randomUUID();
    const sync = await broker.osb('PUT', `/v2/service_instances/${id}`, {
      body: provisionBody({ kubernetes_master_host: 'a.example.com' }),
    });
    expect(sync.status).toBe(422);
    expect(sync.body.error).toBe('AsyncRequired');
    const { organization_guid: _omit, ...noOrg } = provisionBody({ kubernetes_master_host: 'a.example.com' });
    const missing = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body: noOrg,
    });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: 'BadRequest', description: 'organization_guid: is required' });
    const tooMany = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body: provisionBody({ kubernetes_master_host: 'a.example.com', kubernetes_worker_instances: 11 }),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.description).toBe(
      'kubernetes_worker_instances: Invalid worker count 11: plan small allows 1 to 10 workers (allowed: 1 to 10)',
    );
    expect((await broker.osb('GET', `/v2/service_instances/${id}`)).status).toBe(404);
    const gone = await broker.osb(
      'DELETE',
      `/v2/service_instances/${id}?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}&accepts_incomplete=true`,
    );
    expect(gone.status).toBe(410);
  });

  it('rejects drain settings outside the drain rule with a 400 naming each field, from any platform', async () => {
    const res = await broker.osb('PUT', `/v2/service_instances/${randomUUID()}?accepts_incomplete=true`, {
      body: provisionBody({
        kubernetes_master_host: 'drain.example.com',
        kubernetes_setting_cluster_details: { kubelet_drain_timeout: '2000', kubelet_drain_force: 'maybe' },
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'BadRequest',
      description: [
        'kubernetes_setting_cluster_details.kubelet_drain_timeout: "2000" is not allowed (allowed: an integer from 0 to 1440)',
        'kubernetes_setting_cluster_details.kubelet_drain_force: "maybe" is not allowed (allowed: true or false)',
      ].join('\n'),
    });
    // The catalog publishes the same rule.
    const catalog = await broker.osb('GET', '/v2/catalog');
    const drain =
      catalog.body.services[0].plans[0].schemas.service_instance.update.parameters.properties
        .kubernetes_setting_cluster_details.properties;
    expect(drain.kubelet_drain_timeout.description).toBe(
      'an integer from 0 to 1440: minutes; 0 waits without limit',
    );
    expect(drain.kubelet_drain_force.enum).toEqual(['true', 'false']);
  });

  it('provision → bind → update → unbind → deprovision, with every status code on the way', async () => {
    const id = randomUUID();
    const path = `/v2/service_instances/${id}`;
    const identity = Buffer.from(JSON.stringify({ user_id: 'alana' })).toString('base64');
    const body = provisionBody({
      kubernetes_master_host: 'cluster-a.example.com',
      kubernetes_worker_instances: 1,
    });

    const created = await broker.osb('PUT', `${path}?accepts_incomplete=true`, {
      body,
      headers: { 'X-Broker-API-Originating-Identity': `pks ${identity}` },
    });
    expect(created.status).toBe(202);
    const operation = JSON.parse(created.body.operation);
    expect(operation).toMatchObject({
      OperationType: 'create',
      PlanID: small.id,
      BoshContextID: expect.any(String),
    });
    const { rows } = await db.query<{ originating_identity: unknown }>(
      'SELECT originating_identity FROM broker.operations WHERE id = $1',
      [operation.BoshContextID],
    );
    expect(rows[0]!.originating_identity).toEqual({ platform: 'pks', value: { user_id: 'alana' } });

    // racing the provision: a re-sent PUT gets 202, a different one 409, everything else 422/404
    const resent = await broker.osb('PUT', `${path}?accepts_incomplete=true`, { body });
    expect(resent.status).toBe(202);
    expect(JSON.parse(resent.body.operation).BoshContextID).toBe(operation.BoshContextID);
    const conflicting = await broker.osb('PUT', `${path}?accepts_incomplete=true`, {
      body: provisionBody({ kubernetes_master_host: 'other.example.com' }),
    });
    expect(conflicting.status).toBe(409);
    const racingUpdate = await broker.osb('PATCH', `${path}?accepts_incomplete=true`, {
      body: { service_id: PKS_SERVICE_ID, parameters: { kubernetes_worker_instances: 2 } },
    });
    expect(racingUpdate.status).toBe(422);
    expect(racingUpdate.body.error).toBe('ConcurrencyError');
    const racingDelete = await broker.osb(
      'DELETE',
      `${path}?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}&accepts_incomplete=true`,
    );
    expect(racingDelete.status).toBe(422);
    expect(racingDelete.body.error).toBe('ConcurrencyError');
    expect((await broker.osb('GET', path)).status).toBe(404); // still provisioning

    const done = await waitFor(id, created.body.operation);
    expect(done.body).toEqual({ state: 'succeeded', description: 'Instance provisioning completed' });
    // apply-addons ran after the deploy, chained by the operation's context id
    const tasks = await bosh.client.tasks({ contextId: operation.BoshContextID, verbose: 2 });
    expect(tasks.map((t) => [t.description, t.state]).reverse()).toEqual(
      [
        ['create deployment', 'done'],
        ['run errand apply-addons from deployment service-instance_' + id, 'done'],
      ].map(([d, s]) => [expect.stringContaining(d!.split(' ')[0]!), s]),
    );
    expect(tasks.some((t) => /apply-addons/.test(t.description))).toBe(true);

    expect((await broker.osb('PUT', `${path}?accepts_incomplete=true`, { body })).status).toBe(200);
    const instance = await broker.osb('GET', path);
    expect(instance.status).toBe(200);
    expect(instance.body).toMatchObject({
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
      parameters: { kubernetes_master_host: 'cluster-a.example.com', kubernetes_worker_instances: 1 },
    });

    // bind: a kubeconfig with the user's UAA tokens for pks_cluster_client
    await uaa.createUser('alana', 'Secret-pass-1', ['pks.clusters.manage']);
    const tokens = await uaa.tokenFor({
      username: 'alana',
      password: 'Secret-pass-1',
      clientId: 'pks_cluster_client',
    });
    const bindPath = `${path}/service_bindings/${randomUUID()}`;
    const bindBody = {
      service_id: PKS_SERVICE_ID,
      plan_id: small.id,
      parameters: {
        user_name: 'alana',
        id_token: tokens.id_token,
        refresh_token: tokens.refresh_token,
        cluster_name: 'cluster-a',
      },
    };
    const bound = await broker.osb('PUT', bindPath, { body: bindBody });
    expect(bound.status).toBe(201);
    const kubeconfig = bound.body.credentials.kubeconfig;
    expect(kubeconfig['current-context']).toBe('cluster-a');
    expect(kubeconfig.clusters[0].cluster['tls-server-name']).toBe('cluster-a.example.com');
    expect(kubeconfig.clusters[0].cluster.server).toMatch(/^https:\/\/127\.1\.61\.\d+:8443$/);
    expect(kubeconfig.users[0].user['auth-provider'].config).toMatchObject({
      'client-id': 'pks_cluster_client',
      'idp-issuer-url': uaa.issuer,
      'refresh-token': tokens.refresh_token,
    });
    const nodes = await kubeGet(kubeconfig, '/api/v1/nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.body.items).toHaveLength(1);
    expect((await broker.osb('PUT', bindPath, { body: bindBody })).status).toBe(200);
    expect(
      (
        await broker.osb('PUT', bindPath, {
          body: { ...bindBody, parameters: { ...bindBody.parameters, cluster_name: 'x' } },
        })
      ).status,
    ).toBe(409);
    expect((await broker.osb('GET', bindPath)).body.credentials.kubeconfig).toEqual(kubeconfig);
    const forged = await broker.osb('PUT', `${path}/service_bindings/${randomUUID()}`, {
      body: { ...bindBody, parameters: { ...bindBody.parameters, user_name: 'admin' } },
    });
    expect(forged.status).toBe(400);
    // Some OIDC parameters but not all is the PKS API's path gone wrong, not a generic platform's bind.
    const noTokens = await broker.osb('PUT', `${path}/service_bindings/${randomUUID()}`, {
      body: { service_id: PKS_SERVICE_ID, plan_id: small.id, parameters: { user_name: 'alana' } },
    });
    expect(noTokens.status).toBe(400);
    expect(noTokens.body.description).toMatch(
      /^id_token: is required \(the requesting user's id token from UAA\)/m,
    );

    // update: 200 for a no-op, 422 for a plan change, 400 past the plan maximum, 202 for a resize
    const patch = (b: Record<string, unknown>, q = '?accepts_incomplete=true') =>
      broker.osb('PATCH', `${path}${q}`, { body: { service_id: PKS_SERVICE_ID, ...b } });
    expect((await patch({ parameters: { kubernetes_worker_instances: 1 } })).status).toBe(200);
    expect((await patch({ parameters: { kubernetes_worker_instances: 2 } }, '')).body.error).toBe(
      'AsyncRequired',
    );
    const planChange = await patch({ plan_id: medium.id, parameters: {} });
    expect(planChange.status).toBe(422);
    expect(planChange.body.description).toMatch(/cannot change plans/);
    expect((await patch({ parameters: { kubernetes_worker_instances: 20 } })).status).toBe(400);
    const resized = await patch({ parameters: { kubernetes_worker_instances: 2 } });
    expect(resized.status).toBe(202);
    expect((await broker.osb('GET', path)).body.error).toBe('ConcurrencyError');
    const racingBind = await broker.osb('PUT', `${path}/service_bindings/${randomUUID()}`, {
      body: bindBody,
    });
    expect(racingBind.body).toMatchObject({ error: 'ConcurrencyError' });
    expect((await waitFor(id, resized.body.operation)).body.state).toBe('succeeded');
    expect(
      (await bosh.client.instances(`service-instance_${id}`)).filter((i) => i.job === 'worker'),
    ).toHaveLength(2);
    expect((await broker.osb('GET', path)).body.parameters).toMatchObject({
      kubernetes_master_host: 'cluster-a.example.com',
      kubernetes_worker_instances: 2,
    });

    // unbind: 200, then 410
    const unbindQuery = `?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}`;
    expect((await broker.osb('DELETE', `${bindPath}${unbindQuery}`)).status).toBe(200);
    expect((await broker.osb('DELETE', `${bindPath}${unbindQuery}`)).status).toBe(410);
    expect((await broker.osb('GET', bindPath)).status).toBe(404);

    // deprovision: the drain errand, then the deletion, chained by context id; then 410
    const deleteQuery = `?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}&accepts_incomplete=true`;
    expect(
      (await broker.osb('DELETE', `${path}?service_id=${PKS_SERVICE_ID}&plan_id=${small.id}`)).body.error,
    ).toBe('AsyncRequired');
    expect((await broker.osb('DELETE', `${path}?plan_id=${small.id}&accepts_incomplete=true`)).status).toBe(
      400,
    );
    const deleting = await broker.osb('DELETE', `${path}${deleteQuery}`);
    expect(deleting.status).toBe(202);
    const deleteOp = JSON.parse(deleting.body.operation);
    expect((await broker.osb('DELETE', `${path}${deleteQuery}`)).status).toBe(202);
    expect((await waitFor(id, deleting.body.operation)).body).toEqual({
      state: 'succeeded',
      description: 'Instance deletion completed',
    });
    const deleteTasks = (
      await bosh.client.tasks({ contextId: deleteOp.BoshContextID, verbose: 2 })
    ).reverse();
    expect(deleteTasks.map((t) => t.description)).toEqual([
      expect.stringMatching(/drain-cluster/),
      expect.stringMatching(/delete deployment/),
    ]);
    expect(await bosh.client.manifest(`service-instance_${id}`)).toBeUndefined();
    expect((await broker.osb('DELETE', `${path}${deleteQuery}`)).status).toBe(410);
    expect((await broker.osb('GET', path)).status).toBe(404);
    expect(
      (
        await broker.osb(
          'GET',
          `${path}/last_operation?operation=${encodeURIComponent(deleting.body.operation)}`,
        )
      ).body.state,
    ).toBe('succeeded');
  });

  it('answers last_operation after a broker restart and finishes the chain it started', async () => {
    const id = randomUUID();
    const created = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body: provisionBody({
        kubernetes_master_host: 'cluster-b.example.com',
        kubernetes_worker_instances: 1,
      }),
    });
    expect(created.status).toBe(202);
    const credentials = broker.credentials;
    await broker.stop();
    broker = await startTestBroker({ uaa, bosh, db, credentials });
    expect((await waitFor(id, created.body.operation)).body.state).toBe('succeeded');
    const mgmt = await broker.osb('GET', '/mgmt/service_instances');
    expect(mgmt.body).toContainEqual({ service_instance_id: id, plan_id: small.id });
  });
});
