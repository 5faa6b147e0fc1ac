import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kuboManifest, startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { startTestBroker, type TestBroker } from '../testing/index.js';
import type { UpgradeRun as WireUpgradeRun } from '../contract/upgradeRuns.js';

/** A run as the broker holds it (times are Dates; on the wire they are strings). */
type UpgradeRun = WireUpgradeRun<Date>;

/** The small plan with one worker (fast to deploy) and a worker VM type we can change to force upgrades. */
const plansWith = (workerVmType: string): Plan[] =>
  parseConfig({
    plans: {
      small: { master: { instances: 1 }, worker: { instances: 1, max_instances: 10, vm_type: workerVmType } },
    },
  }).plans;

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
let broker: TestBroker;
const upgrades = { leaseMs: 800, scanMs: 50 };
// A crashed broker's operations, like its runs, go to the next broker once their short lease runs out.
const driving = { leaseMs: 800, scanMs: 50 };
const instances: string[] = [];
let planId = '';

async function restartBroker(plans: Plan[], { crash = false } = {}): Promise<void> {
  const credentials = broker.credentials;
  await broker.stop({ release: !crash });
  broker = await startTestBroker({ uaa, bosh, db, plans, credentials, upgrades, operations: driving });
}

async function until<T>(what: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const runOf = (id: string) => broker.broker.upgrades.get(id);
const finished = (run: UpgradeRun) => ['succeeded', 'failed', 'cancelled'].includes(run.state);

beforeAll(async () => {
  uaa = await startTestUaa();
  db = await testDatabaseBackends()[0]!.open();
  bosh = await startTestDirector({
    uaa,
    db,
    ipRange: '127.1.62.0/24',
    workers: 8,
    sim: { latencyMs: { create_vm: 100 } },
  });
  const plans = plansWith('medium');
  planId = plans[0]!.id;
  broker = await startTestBroker({ uaa, bosh, db, plans, upgrades, operations: driving });
  const operations: string[] = [];
  for (let i = 0; i < 20; i++) {
    const id = randomUUID();
    instances.push(id);
    const res = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
      body: {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: `c${i}.example.com` },
      },
    });
    expect(res.status).toBe(202);
    operations.push(JSON.parse(res.body.operation).BoshContextID);
  }
  for (const op of operations) {
    await until(
      () => broker.broker.service.operationState(op),
      (s) => s?.state !== 'in progress',
      120_000,
    );
  }
}, 240_000);
afterAll(async () => {
  await broker?.stop();
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

describe('the management API', () => {
  it('lists instances, answers 204 for an instance already current, 404 for an unknown one, 410 for an orphan', async () => {
    const list = await broker.osb('GET', '/mgmt/service_instances');
    expect(list.status).toBe(200);
    expect(list.body.map((i: { service_instance_id: string }) => i.service_instance_id).sort()).toEqual(
      [...instances].sort(),
    );
    expect(
      (await broker.osb('PATCH', `/mgmt/service_instances/${instances[0]}?operation_type=upgrade`)).status,
    ).toBe(204);
    expect(
      (await broker.osb('PATCH', `/mgmt/service_instances/${randomUUID()}?operation_type=upgrade`)).status,
    ).toBe(404);
    expect(
      (await broker.osb('PATCH', `/mgmt/service_instances/${instances[0]}?operation_type=sideways`)).status,
    ).toBe(400);

    const orphan = randomUUID();
    const task = await bosh.client.deploy(
      kuboManifest({ name: `service-instance_${orphan}`, masters: 1, workers: 1 }),
    );
    await bosh.client.waitForTask(task.id);
    expect((await broker.osb('GET', '/mgmt/orphan_deployments')).body).toEqual([
      { deployment_name: `service-instance_${orphan}` },
    ]);
    expect(
      (await broker.osb('PATCH', `/mgmt/service_instances/${orphan}?operation_type=upgrade`)).status,
    ).toBe(410);
    await bosh.client.waitForTask((await bosh.client.deleteDeployment(`service-instance_${orphan}`)).id);
  });

  it('recreates with 202 and OperationData, and answers 409 while it runs', async () => {
    const res = await broker.osb('PATCH', `/mgmt/service_instances/${instances[1]}?operation_type=recreate`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      OperationType: 'recreate',
      PlanID: planId,
      BoshTaskID: expect.any(Number),
    });
    expect(
      (await broker.osb('PATCH', `/mgmt/service_instances/${instances[1]}?operation_type=recreate`)).status,
    ).toBe(409);
    await until(
      () => broker.broker.service.operationState(res.body.BoshContextID),
      (s) => s?.state === 'succeeded',
    );
  });
});

describe('upgrade-all over instances already current', () => {
  it('skips them all in its first step, past max_in_flight, and ends succeeded', async () => {
    // Skipped instances free their slot at once: the step reads on past its first page of max_in_flight.
    const run = await broker.broker.upgrades.start({
      instances: instances.slice(2, 12),
      max_in_flight: 2,
      operation_type: 'upgrade',
    });
    expect(run.state).toBe('succeeded');
    expect(run.description).toBe('0 instances upgraded, 10 already up to date');
    expect(run.instances.map((i) => i.state)).toEqual(Array(10).fill('skipped'));
  });
});

describe('upgrade-all as a durable job', () => {
  it('upgrades 20 instances: canaries first and serially, then at most max_in_flight, surviving a broker crash', async () => {
    // One instance is busy with an update when the run starts: it is retried, not failed. The update's new
    // worker needs a persistent disk, whose creation hangs until the run has found the instance busy (the
    // upgrades only change VM types and create no disk).
    const busy = instances[10]!;
    bosh.director.cpi.injectFault({ method: 'create_disk', hang: true, nth: 1, times: 1 });
    const update = await broker.osb('PATCH', `/v2/service_instances/${busy}?accepts_incomplete=true`, {
      body: { service_id: PKS_SERVICE_ID, parameters: { kubernetes_worker_instances: 2 } },
    });
    expect(update.status).toBe(202);
    await restartBroker(plansWith('large'));

    const run = await broker.broker.upgrades.start({
      canaries: 2,
      max_in_flight: 4,
      attempt_limit: 50,
      attempt_interval_ms: 100,
      polling_interval_ms: 50,
    });
    expect(run.instances.filter((i) => i.is_canary).map((i) => i.instance_id)).toEqual(instances.slice(0, 2));
    await until(
      () => runOf(run.id),
      (r) => r.instances.find((i) => i.instance_id === busy)!.attempts >= 1,
    );
    // The hung disk creation fails once let go, and so does the update: the instance is free for the run.
    bosh.director.cpi.releaseHangs();
    const updated = JSON.parse(update.body.operation).BoshContextID as string;
    expect(
      (
        await until(
          () => broker.broker.service.operationState(updated),
          (s) => s?.state !== 'in progress',
        )
      )?.state,
    ).toBe('failed');

    // Crash the broker once the canaries are through and the rest are under way; another picks the run up.
    await until(
      () => runOf(run.id),
      (r) => r.instances.filter((i) => i.state === 'succeeded').length >= 4,
    );
    await restartBroker(plansWith('large'), { crash: true });
    const done = await until(() => runOf(run.id), finished, 120_000);
    expect(done.state).toBe('succeeded');
    expect(done.instances.map((i) => i.state)).toEqual(Array(20).fill('succeeded'));
    // Over HTTP, with and without the instances.
    const summary = await broker.osb('GET', `/mgmt/upgrade_runs/${run.id}?instances=false`, {
      version: null,
    });
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({
      id: run.id,
      state: 'succeeded',
      instance_counts: { succeeded: 20 },
    });
    expect(summary.body).not.toHaveProperty('instances');
    const active = await broker.osb('GET', '/mgmt/upgrade_runs?active=false&instances=false', {
      version: null,
    });
    expect((active.body as { id: string; instances?: unknown }[]).find((r) => r.id === run.id)).toMatchObject(
      {
        instance_counts: { succeeded: 20 },
      },
    );
    const full = await broker.osb('GET', `/mgmt/upgrade_runs/${run.id}`, { version: null });
    expect((full.body as { instances: unknown[] }).instances).toHaveLength(20);
    const bad = await broker.osb('GET', `/mgmt/upgrade_runs/${run.id}?instances=some`, { version: null });
    expect(bad.status).toBe(400);
    expect(done.instances.find((i) => i.instance_id === busy)!.attempts).toBeGreaterThan(1);

    const span = (i: UpgradeRun['instances'][number]) =>
      [i.started_at!.getTime(), i.finished_at!.getTime()] as const;
    const [canary1, canary2] = done.instances.slice(0, 2).map(span);
    expect(canary1![1]).toBeLessThanOrEqual(canary2![0]); // serially
    const rest = done.instances.slice(2).map(span);
    expect(Math.min(...rest.map(([start]) => start))).toBeGreaterThanOrEqual(canary2![1]); // canaries first
    const overlaps = rest.map(([start]) => rest.filter(([s, e]) => s <= start && start < e).length);
    expect(Math.max(...overlaps)).toBeLessThanOrEqual(4);
    expect(Math.max(...overlaps)).toBeGreaterThan(1);

    // each instance was upgraded once, even across the crash
    const { rows } = await db.query<{ instance_id: string; n: number }>(
      `SELECT instance_id, count(*)::int AS n FROM broker.operations WHERE type = 'upgrade' GROUP BY instance_id`,
    );
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const deployed = await bosh.client.manifest(`service-instance_${instances[19]}`);
    expect(deployed).toMatch(/vm_type: large/);
    // The Director rolled the workers onto new VMs of the new type, as BOSH does.
    const { rows: workerVms } = await db.query<{ vm_type: string }>(
      `SELECT DISTINCT cloud_properties->>'vm_type' AS vm_type FROM director.sim_vms WHERE instance_group = 'worker'`,
    );
    expect(workerVms).toEqual([{ vm_type: 'large' }]);
  }, 240_000);

  it('stops on a canary failure, lets no new upgrade start, and cancels the rest', async () => {
    await restartBroker(plansWith('xlarge'));
    // The worker vm_type changes, so the canary's worker VM is recreated; its create_vm fails, and so does
    // the canary's upgrade.
    bosh.director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'worker', nth: 1, times: 1 });
    const run = await broker.broker.upgrades.start({
      canaries: 1,
      max_in_flight: 4,
      polling_interval_ms: 50,
    });

    const done = await until(() => runOf(run.id), finished);
    expect(done.state).toBe('failed');
    expect(done.description).toBe(`a canary failed: ${instances[0]}`);
    expect(done.instances[0]!.state).toBe('failed');
    expect(done.instances.slice(1).every((i) => i.state === 'cancelled' && i.operation_id === null)).toBe(
      true,
    );
    expect(done.instances[1]!.description).toBe('not started: a canary failed');
  }, 120_000);

  it('cancel stops the pending instances and lets the running ones finish', async () => {
    await restartBroker(plansWith('medium'));
    const run = await broker.broker.upgrades.start({ max_in_flight: 2, polling_interval_ms: 50 });
    await until(
      () => runOf(run.id),
      (r) => r.instances.some((i) => i.state === 'in progress'),
    );
    const cancelled = await broker.broker.upgrades.cancel(run.id);
    expect(cancelled.instances.some((i) => i.state === 'cancelled')).toBe(true);
    const done = await until(() => runOf(run.id), finished);
    expect(done.state).toBe('cancelled');
    expect(done.instances.filter((i) => i.state === 'succeeded').length).toBeGreaterThanOrEqual(1);
    expect(done.instances.filter((i) => i.state === 'succeeded').length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('goes on past a canary whose deployment is gone: orphaned, like skipped, not a failure', async () => {
    await restartBroker(plansWith('small'));
    const [gone, next] = [instances[19]!, instances[18]!];
    await bosh.client.waitForTask((await bosh.client.deleteDeployment(`service-instance_${gone}`)).id);
    const run = await broker.broker.upgrades.start({
      instances: [gone, next],
      canaries: [gone],
      polling_interval_ms: 50,
    });
    const done = await until(() => runOf(run.id), finished);
    expect(done.instances.map((i) => i.state)).toEqual(['orphaned', 'succeeded']);
    expect(done.state).toBe('succeeded');
    expect(done.description).toBe('1 instances upgraded, 1 orphaned');
  }, 120_000);
});
