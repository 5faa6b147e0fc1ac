import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { startTestBroker, type OsbResponse, type TestBroker } from '../testing/index.js';

// OSB: a PATCH or DELETE re-sent while the operation it started runs is answered as the original was
// (202, the same `operation`), so a platform that timed out or crashed can ask again without failing
// the operation; only a different request conflicts (422 ConcurrencyError).

/** The small plan with one worker; a different worker VM type makes an upgrade change the manifest. */
const plansWith = (workerVmType: string): Plan[] =>
  parseConfig({
    plans: {
      small: { master: { instances: 1 }, worker: { instances: 1, max_instances: 10, vm_type: workerVmType } },
    },
  }).plans;

describe.each(testDatabaseBackends())('re-sent OSB requests on $name', (backend) => {
  let uaa: TestUaa;
  let db: Database;
  let bosh: TestDirector;
  let broker: TestBroker;
  let planId = '';

  beforeAll(async () => {
    uaa = await startTestUaa();
    db = await backend.open();
    // Slow VMs keep an operation running while its request is sent again.
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: '127.1.64.0/24',
      sim: { latencyMs: { create_vm: 400 } },
    });
    const plans = plansWith('medium');
    planId = plans[0]!.id;
    broker = await startTestBroker({ uaa, bosh, db, plans });
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
    await bosh?.stop();
    await db?.close();
    await uaa?.stop();
  });

  const identity = (user: string) =>
    `pks ${Buffer.from(JSON.stringify({ user_id: user })).toString('base64')}`;

  /** The body the PKS API sends for a change (`clusterService.#change`). */
  const updateBody = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    service_id: PKS_SERVICE_ID,
    plan_id: planId,
    context: { platform: 'pks', cluster_name: 'c', owner: 'alana' },
    parameters,
    previous_values: { plan_id: planId },
    ...extra,
  });

  const patch = (id: string, body: unknown, user = 'alana') =>
    broker.osb('PATCH', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body,
      headers: { 'X-Broker-API-Originating-Identity': identity(user) },
    });

  async function waitFor(id: string, operation: string): Promise<OsbResponse> {
    for (;;) {
      const res = await broker.osb(
        'GET',
        `/v2/service_instances/${id}/last_operation?operation=${encodeURIComponent(operation)}`,
      );
      if (res.status !== 200 || res.body.state !== 'in progress') return res;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function provisioned(host: string): Promise<string> {
    const id = randomUUID();
    const created = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body: {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: host, kubernetes_worker_instances: 1 },
      },
    });
    expect(created.status).toBe(202);
    expect((await waitFor(id, created.body.operation)).body.state).toBe('succeeded');
    return id;
  }

  const operationsOf = async (id: string, type: string) =>
    (
      await db.query<{ id: string }>(
        'SELECT id FROM broker.operations WHERE instance_id = $1 AND type = $2 ORDER BY created_at',
        [id, type],
      )
    ).rows.map((r) => r.id);

  it('answers an update re-sent while it runs with 202 and the same operation; a different one with 422', async () => {
    const id = await provisioned('idem-a.example.com');
    const first = await patch(id, updateBody({ kubernetes_worker_instances: 2 }));
    expect(first.status).toBe(202);

    // The same request from another user, its keys in another order: the platform re-sending it.
    const { parameters, ...rest } = updateBody({ kubernetes_worker_instances: 2 });
    const again = await patch(
      id,
      { parameters, ...Object.fromEntries(Object.entries(rest).reverse()) },
      'bob',
    );
    expect(again.status).toBe(202);
    expect(again.body.operation).toBe(first.body.operation);
    expect(again.body.dashboard_url).toBe(first.body.dashboard_url);

    const different = await patch(id, updateBody({ kubernetes_worker_instances: 3 }));
    expect(different.status).toBe(422);
    expect(different.body).toEqual({
      error: 'ConcurrencyError',
      description: 'An operation is in progress for your service instance. Please try again later.',
    });
    // An upgrade of the same parameters is another request too.
    const upgrade = await patch(
      id,
      updateBody({ kubernetes_worker_instances: 2 }, { maintenance_info: { version: '1.6.0' } }),
    );
    expect(upgrade.status).toBe(422);
    expect(upgrade.body.error).toBe('ConcurrencyError');

    expect(await operationsOf(id, 'update')).toEqual([JSON.parse(first.body.operation).BoshContextID]);
    expect((await waitFor(id, first.body.operation)).body.state).toBe('succeeded');
    expect(
      (await bosh.client.instances(`service-instance_${id}`)).filter((i) => i.job === 'worker'),
    ).toHaveLength(2);

    // Once applied, the same request is answered as one whose changes have been applied (OSB: 200 `{}`),
    // and starts nothing; a different one is a new update.
    const applied = await patch(id, updateBody({ kubernetes_worker_instances: 2 }));
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({});
    expect(await operationsOf(id, 'update')).toHaveLength(1);
    const next = await patch(id, updateBody({ kubernetes_worker_instances: 3 }));
    expect(next.status).toBe(202);
    expect(next.body.operation).not.toBe(first.body.operation);
    expect((await waitFor(id, next.body.operation)).body.state).toBe('succeeded');
  }, 120_000);

  it('answers identical updates that race each other with the one operation both started', async () => {
    const id = await provisioned('idem-b.example.com');
    const body = updateBody({ kubernetes_worker_instances: 2 });
    const answers = await Promise.all([patch(id, body), patch(id, body), patch(id, body, 'bob')]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.operation)).size).toBe(1);
    expect(await operationsOf(id, 'update')).toHaveLength(1);
    expect((await waitFor(id, answers[0]!.body.operation)).body.state).toBe('succeeded');
  }, 120_000);

  it('answers an upgrade re-sent while it runs with 202 and the same operation', async () => {
    const id = await provisioned('idem-c.example.com');
    // The operator changed the plan: an upgrade renders a different manifest.
    const credentials = broker.credentials;
    await broker.stop();
    broker = await startTestBroker({ uaa, bosh, db, plans: plansWith('large'), credentials });
    // The PKS API's upgrade: no parameters, this installation's maintenance_info.
    const body = updateBody({}, { maintenance_info: { version: '1.6.0-openpks' } });
    const first = await patch(id, body);
    expect(first.status).toBe(202);
    const again = await patch(id, body);
    expect(again.status).toBe(202);
    expect(again.body.operation).toBe(first.body.operation);
    // A plain update with no parameters is not the upgrade being run.
    const plain = await patch(id, updateBody({}));
    expect(plain.status).toBe(422);
    expect(plain.body.error).toBe('ConcurrencyError');
    expect(await operationsOf(id, 'update')).toHaveLength(1);
    expect((await waitFor(id, first.body.operation)).body.state).toBe('succeeded');
    // Applied: the same upgrade changes nothing more.
    expect((await patch(id, body)).status).toBe(200);
  }, 120_000);

  it('answers a deprovision re-sent while it runs with 202 and the same operation', async () => {
    const id = await provisioned('idem-d.example.com');
    const path = `/v2/service_instances/${id}?service_id=${PKS_SERVICE_ID}&plan_id=${planId}&accepts_incomplete=true`;
    const first = await broker.osb('DELETE', path);
    expect(first.status).toBe(202);
    const again = await broker.osb('DELETE', path);
    expect(again.status).toBe(202);
    expect(again.body.operation).toBe(first.body.operation);
    expect(await operationsOf(id, 'delete')).toHaveLength(1);
    expect((await waitFor(id, first.body.operation)).body.state).toBe('succeeded');
    expect((await broker.osb('DELETE', path)).status).toBe(410);
  }, 120_000);
});
