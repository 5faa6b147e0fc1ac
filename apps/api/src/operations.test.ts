import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { adoptedOperationStringOf, OperationType } from '@openpks/broker';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import type { Database } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { parseConfig } from '@openpks/config';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { collect, startTestApi, type TestApi, type TestApiOptions } from './testing/index.js';

// Durable operations: a restart mid-create, another replica resuming, operations whose other side is
// gone, and upgrade runs. Every component is real and on loopback.

describe.each(testDatabaseBackends())('durable operations on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  let admin: string;
  const apis: TestApi[] = [];
  let base: TestApiOptions;

  const start = async (holder: string, database: Database = db) => {
    const api = await startTestApi({ ...base, db: database, holder });
    apis.push(api);
    return api;
  };

  const waitFor = async (
    api: TestApi,
    name: string,
    done: (c: Record<string, string> | undefined) => boolean,
  ) => {
    for (let i = 0; i < 400; i++) {
      const { data } = await api.query(
        admin,
        `{ cluster(name:"${name}"){ lastAction lastActionState lastActionDescription kubernetesMasterIps } }`,
      );
      if (done(data?.cluster)) return data?.cluster as Record<string, unknown>;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`cluster ${name} did not get there`);
  };

  /**
   * A new PKS version: the broker now renders a different worker VM type, so every cluster is out of date
   * (an unchanged manifest is "already current" and the broker's upgrade-all skips it).
   */
  const newPksVersion = async (workerVmType: string): Promise<TestApi> => {
    // Every replica talks to the one broker; replicas left pointing at the old one would claim operations.
    for (const api of apis.splice(0)) await api.stop();
    const credentials = broker.credentials;
    await broker.stop();
    const plans = parseConfig({}).plans.map((p) =>
      p.name === 'small' ? { ...p, worker: { ...p.worker, vmType: workerVmType } } : p,
    );
    broker = await startTestBroker({ uaa, bosh, db, plans, credentials, upgrades: { scanMs: 50 } });
    base = { ...base, broker: { url: broker.url, ...broker.credentials } };
    return start(`replica-${workerVmType}`);
  };

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: `127.1.${backend.name === 'pglite' ? 72 : 73}.0/24`,
    });
    broker = await startTestBroker({ uaa, bosh, db });
    base = { uaa, db, broker: { url: broker.url, ...broker.credentials }, director: bosh.client };
    await uaa.createUser('ops-admin', 'ops-admin-password-1', ['pks.clusters.admin']);
    admin = (await uaa.tokenFor({ username: 'ops-admin', password: 'ops-admin-password-1' })).access_token;
  }, 120_000);

  afterAll(async () => {
    for (const api of apis) await api.stop();
    await broker?.stop();
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('finishes a create after the API is killed mid-create and started again', async () => {
    const first = await start('replica-crashing');
    const created = await first.query(
      admin,
      'mutation{ createCluster(input:{name:"restart", planName:"small", externalHostname:"restart.example.test", numNodes:1}){ lastActionState } }',
    );
    expect(created.data.createCluster.lastActionState).toBe('in progress');
    await first.stop();
    // A crash leaves the operation leased by a process that is gone; the lease has to run out first.
    await db.query(
      `UPDATE api.operations SET holder = 'replica-crashing', lease_expires_at = clock_timestamp() + interval '1 second'
       WHERE state = 'in progress'`,
    );
    const restarted = await start('replica-restarted');
    const done = await waitFor(restarted, 'restart', (c) => c?.lastActionState !== 'in progress');
    expect(done).toMatchObject({ lastAction: 'CREATE', lastActionState: 'succeeded' });
    expect((done.kubernetesMasterIps as string[]).length).toBe(1);
  }, 60_000);

  it('lets a subscriber on one replica see an operation started on another', async () => {
    const replicaDb = await db.replica();
    const a = await start('replica-a');
    const b = await start('replica-b', replicaDb);
    const made = await a.query(
      admin,
      'mutation{ createCluster(input:{name:"shared", planName:"small", externalHostname:"shared.example.test", numNodes:1}){ name } }',
    );
    expect(made.errors).toBeUndefined();
    await waitFor(a, 'shared', (c) => c?.lastActionState === 'succeeded');
    const ws = b.wsClient(admin);
    const events = collect<{ kind: string; lastActionState: string; lastAction: string }>(
      ws,
      'subscription{ clusterEvents(name:"shared"){ kind lastAction lastActionState } }',
      {},
      (e) => e.kind === 'STATE' && e.lastActionState === 'succeeded',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(
      (await a.query(admin, 'mutation{ resizeCluster(name:"shared", numNodes:2){ name } }')).errors,
    ).toBeUndefined();
    const seen = await events.done;
    expect(seen.at(-1)).toMatchObject({ lastAction: 'UPDATE', lastActionState: 'succeeded' });
    await ws.dispose();
  }, 60_000);

  it('ends an operation whose broker side is gone as failed, and the failed create deletes cleanly', async () => {
    const api = apis.at(-1)!;
    const uuid = randomUUID();
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version, last_action, last_action_state)
         VALUES ($1, 'orphan', 'ops-admin', 'small', 'orphan.example.test', 1, 'x', 'CREATE', 'in progress')`,
        [uuid],
      );
      const catalog = await broker.osb('GET', '/v2/catalog');
      const service = catalog.body.services[0];
      await tx.query(
        `INSERT INTO api.operations (id, cluster_uuid, kind, phase, state, request, originating_user)
         VALUES ($1, $2, 'create', 'polling', 'in progress', $3::jsonb, 'ops-admin')`,
        [
          randomUUID(),
          uuid,
          JSON.stringify({ serviceId: service.id, planId: service.plans[0].id, body: {} }),
        ],
      );
    });
    api.server.tracker.wake();
    const failed = await waitFor(api, 'orphan', (c) => c?.lastActionState !== 'in progress');
    expect(failed).toMatchObject({ lastActionState: 'failed' });
    expect(failed.lastActionDescription).toMatch(/broker/);

    expect(
      (await api.query(admin, 'mutation{ deleteCluster(name:"orphan"){ name } }')).errors,
    ).toBeUndefined();
    for (let i = 0; i < 200; i++) {
      const r = await api.query(admin, '{ cluster(name:"orphan"){ name } }');
      if (r.errors?.[0]?.extensions?.code === 'NOT_FOUND') break;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect((await api.query(admin, '{ cluster(name:"orphan"){ name } }')).errors?.[0]?.extensions?.code).toBe(
      'NOT_FOUND',
    );
  }, 60_000);

  it('runs upgradeClusters on the broker: the canary first, then the rest, and taskEvents reports the run to its end', async () => {
    const api = await newPksVersion('large');
    const task = await api.query(
      admin,
      'mutation{ upgradeClusters(input:{clusters:["restart","shared"], canaries:["shared"], maxInFlight:2}){ id status clusters { clusterName isCanary lastActionState } } }',
    );
    expect(task.errors).toBeUndefined();
    const id = task.data.upgradeClusters.id as string;
    expect(task.data.upgradeClusters.clusters).toEqual([
      { clusterName: 'shared', isCanary: true, lastActionState: 'in progress' },
      { clusterName: 'restart', isCanary: false, lastActionState: 'queued' },
    ]);
    const ws = api.wsClient(admin);
    const updates = collect<{ status: string }>(
      ws,
      'subscription($id:ID!){ taskEvents(id:$id){ status clusters { clusterName lastActionState } } }',
      { id },
      (t) => t.status === 'done',
    );
    const seen = await updates.done;
    await ws.dispose();
    expect(seen.at(-1)).toMatchObject({
      status: 'done',
      clusters: [
        { clusterName: 'shared', lastActionState: 'succeeded' },
        { clusterName: 'restart', lastActionState: 'succeeded' },
      ],
    });
    const after = await api.query(admin, `{ task(id:"${id}"){ status } tasks { id } }`);
    expect(after.data.task.status).toBe('done');
    expect(after.data.tasks.map((t: { id: string }) => t.id)).toContain(id);
  }, 90_000);

  it("follows an operator's upgrade-all started on the broker: a task owned by operator, clusters show the upgrade", async () => {
    const api = await newPksVersion('xlarge');
    const uuids = (await db.query<{ uuid: string }>(`SELECT uuid FROM api.clusters WHERE deleted_at IS NULL`))
      .rows;
    // The API learns of an operator's run while it is under way (it lists active runs): wait until this
    // replica follows runs, since the replica killed earlier in this file may still hold the follower
    // lease, and at 0 ms sim latency the run can start and end before that lease runs out.
    for (let i = 0; ; i++) {
      const { rows } = await db.query<{ holder: string }>(
        `SELECT holder FROM api.leases WHERE name = 'task-follower' AND expires_at > now()`,
      );
      if (rows[0]?.holder === 'replica-xlarge') break;
      if (i === 400) throw new Error(`the new replica never followed runs (lease: ${rows[0]?.holder})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = await broker.osb('POST', '/mgmt/upgrade_runs', {
      body: { canaries: 1, max_in_flight: 2 },
      headers: {
        'X-Broker-API-Originating-Identity': `pks ${Buffer.from('{"user_id":"operator"}').toString('base64')}`,
      },
    });
    expect(started.status).toBe(202);
    const runId = (started.body as { id: string }).id;
    let task: { id: string; owner: string; status: string; clusters: { clusterName: string }[] } | undefined;
    for (let i = 0; i < 200 && task?.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const { data, errors } = await api.query(
        admin,
        '{ tasks { id owner status clusters { clusterName } } }',
      );
      expect(errors).toBeUndefined();
      task = data.tasks.find((t: { owner: string }) => t.owner === 'operator');
    }
    expect(task).toMatchObject({ owner: 'operator', status: 'done' });
    expect(task!.clusters.map((c) => c.clusterName).sort()).toEqual(['restart', 'shared']);
    expect(uuids.length).toBe(2);
    for (const name of ['restart', 'shared']) {
      expect(await waitFor(api, name, (c) => c?.lastActionState !== 'in progress')).toMatchObject({
        lastAction: 'UPGRADE',
        lastActionState: 'succeeded',
      });
    }
    const run = await broker.osb('GET', `/mgmt/upgrade_runs/${runId}`);
    expect(run.body).toMatchObject({ state: 'succeeded', created_by: 'operator' });
    // Each adopted upgrade was polled with the contract's operation data for the run's operation.
    for (const instance of (run.body as { instances: { instance_id: string; operation_id: string }[] })
      .instances) {
      const { rows } = await db.query<{ broker_operation: string | null }>(
        `SELECT broker_operation FROM api.operations WHERE cluster_uuid = $1 AND kind = 'upgrade'
          ORDER BY created_at DESC LIMIT 1`,
        [instance.instance_id],
      );
      expect(rows[0]?.broker_operation).toBe(
        adoptedOperationStringOf(instance.operation_id, OperationType.UPGRADE),
      );
    }
  }, 90_000);

  it("records an operator's run that started and ended while no replica followed runs", async () => {
    const stale = await newPksVersion('large');
    await stale.stop();
    apis.splice(apis.indexOf(stale), 1);
    const started = await broker.osb('POST', '/mgmt/upgrade_runs', {
      body: { canaries: 1, max_in_flight: 2 },
      headers: {
        'X-Broker-API-Originating-Identity': `pks ${Buffer.from('{"user_id":"night-shift"}').toString('base64')}`,
      },
    });
    expect(started.status).toBe(202);
    const runId = (started.body as { id: string }).id;
    for (let i = 0; ; i++) {
      const run = await broker.osb('GET', `/mgmt/upgrade_runs/${runId}`);
      if ((run.body as { state: string }).state === 'succeeded') break;
      if (i === 300) throw new Error(`the run did not end: ${JSON.stringify(run.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Only now does a replica start: the run is over, and still becomes a task with its clusters' upgrades.
    const api = await start('replica-late');
    let task: { owner: string; status: string; clusters: { clusterName: string }[] } | undefined;
    for (let i = 0; i < 200 && task?.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const { data, errors } = await api.query(admin, '{ tasks { owner status clusters { clusterName } } }');
      expect(errors).toBeUndefined();
      task = data.tasks.find((t: { owner: string }) => t.owner === 'night-shift');
    }
    expect(task).toMatchObject({ owner: 'night-shift', status: 'done' });
    expect(task!.clusters.map((c) => c.clusterName).sort()).toEqual(['restart', 'shared']);
    for (const name of ['restart', 'shared']) {
      expect(await waitFor(api, name, (c) => c?.lastActionState !== 'in progress')).toMatchObject({
        lastAction: 'UPGRADE',
        lastActionState: 'succeeded',
      });
    }
  }, 90_000);

  it('cancelTask cancels the clusters of a run that have not started', async () => {
    const api = await newPksVersion('medium');
    const run = await api.query(
      admin,
      'mutation{ upgradeClusters(input:{clusters:["restart","shared"], maxInFlight:1}){ id clusters { clusterName lastActionState } } }',
    );
    expect(run.errors).toBeUndefined();
    const id = run.data.upgradeClusters.id as string;
    const canceled = await api.query(
      admin,
      `mutation{ cancelTask(id:"${id}"){ clusters { clusterName lastActionState } } }`,
    );
    expect(canceled.errors).toBeUndefined();
    // The started upgrade goes on (at 0 ms sim latency it may already have finished); the queued one stops.
    const [started, queued] = canceled.data.cancelTask.clusters;
    expect(started.clusterName).toBe('restart');
    expect(['in progress', 'succeeded']).toContain(started.lastActionState);
    expect(queued).toEqual({ clusterName: 'shared', lastActionState: 'canceled' });
    let status = '';
    for (let i = 0; i < 200 && status !== 'canceled'; i++) {
      await new Promise((r) => setTimeout(r, 150));
      status = (await api.query(admin, `{ task(id:"${id}"){ status } }`)).data.task.status;
    }
    expect(status).toBe('canceled');
    expect(await waitFor(api, 'restart', (c) => c?.lastActionState !== 'in progress')).toMatchObject({
      lastAction: 'UPGRADE',
      lastActionState: 'succeeded',
    });
  }, 60_000);
});
