import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { startTestBroker, type TestBroker } from '../testing/index.js';

// The broker drives its operations itself: a deploy is followed by its lifecycle errand and the operation
// ends, with nobody polling last_operation, across a broker crash, and with two brokers on one database
// starting each step once. Progress is read from the broker's own record (broker.operations) and the
// Director's tasks, never by asking the broker.

/** Small clusters: one master, one worker. */
const plans: Plan[] = parseConfig({
  plans: { small: { master: { instances: 1 }, worker: { instances: 1, max_instances: 10 } } },
}).plans;
const planId = plans[0]!.id;

/** A short lease and scan: a crashed broker's operations are free again in half a second. */
const driving = { leaseMs: 500, scanMs: 50 };

async function until<T>(what: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function provision(broker: TestBroker, host: string): Promise<{ id: string; operation: string }> {
  const id = randomUUID();
  const res = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
    body: {
      service_id: PKS_SERVICE_ID,
      plan_id: planId,
      organization_guid: 'org',
      space_guid: 'space',
      parameters: { kubernetes_master_host: host },
    },
  });
  expect(res.status).toBe(202);
  return { id, operation: JSON.parse(res.body.operation).BoshContextID as string };
}

/** The operation as recorded, read straight from the database (not through the broker). */
async function recorded(db: Database, operation: string) {
  const { rows } = await db.query<{ state: string; description: string; lease_holder: string | null }>(
    'SELECT state, description, lease_holder FROM broker.operations WHERE id = $1',
    [operation],
  );
  return rows[0]!;
}

/** The Director tasks of one operation (its context id), oldest first: what was started, and how it ended. */
async function tasksOf(bosh: TestDirector, operation: string) {
  return (await bosh.client.tasks({ contextId: operation, verbose: 2 }))
    .sort((a, b) => a.id - b.id)
    .map((t) => ({ description: t.description, state: t.state }));
}

const DEPLOY_THEN_ERRAND = [
  { description: 'create deployment', state: 'done' },
  { description: 'run errand apply-addons', state: 'done' },
];

describe.each(testDatabaseBackends().map((backend, index) => ({ ...backend, index })))(
  'the broker on its own, on $name',
  ({ open, index }) => {
    let uaa: TestUaa;
    let db: Database;
    let bosh: TestDirector;

    beforeAll(async () => {
      uaa = await startTestUaa();
      db = await open();
      // VMs take a moment to create, so a broker can be stopped while a deploy runs.
      bosh = await startTestDirector({
        uaa,
        db,
        ipRange: `127.1.${66 + index * 2}.0/24`,
        workers: 8,
        sim: { latencyMs: { create_vm: 400 } },
      });
    }, 120_000);
    afterAll(async () => {
      await bosh?.stop();
      await db?.close();
      await uaa?.stop();
    });

    it('finishes deploy and errand after a broker crash, with nothing polling it', async () => {
      const first = await startTestBroker({ uaa, bosh, db, plans, operations: driving });
      const { operation } = await provision(first, 'alone-a.example.com');
      // Mid-deploy: the Director is creating the VMs.
      await until(
        () => tasksOf(bosh, operation),
        (tasks) => tasks.length === 1 && tasks[0]!.state === 'processing',
      );
      expect((await recorded(db, operation)).lease_holder).toBe(first.broker.operations.holder);
      await first.stop({ release: false }); // a crash: its lease runs out rather than being given up

      const second = await startTestBroker({ uaa, bosh, db, plans, operations: driving });
      try {
        const done = await until(
          () => recorded(db, operation),
          (op) => op.state !== 'in progress',
        );
        expect(done).toEqual({
          state: 'succeeded',
          description: 'Instance provisioning completed',
          lease_holder: null,
        });
        // The errand ran once, started by the second broker after the deploy it never saw begin.
        expect(await tasksOf(bosh, operation)).toEqual(DEPLOY_THEN_ERRAND);
      } finally {
        await second.stop();
      }
    }, 120_000);

    it('lets two brokers on one database start each step once, polled through either or not at all', async () => {
      const a = await startTestBroker({ uaa, bosh, db, plans, operations: { leaseMs: 300, scanMs: 20 } });
      const b = await startTestBroker({
        uaa,
        bosh,
        db,
        plans,
        operations: { leaseMs: 300, scanMs: 20 },
        credentials: a.credentials,
      });
      try {
        const started = [];
        for (let i = 0; i < 6; i++)
          started.push(await provision(i % 2 === 0 ? a : b, `pair-${i}.example.com`));
        // Half are polled, through the broker that did not start them (which may not drive them: it asks
        // the holder's record) and through the one that did; the other half nobody asks about.
        const polling = started.slice(0, 3).map(async ({ id, operation }, i) => {
          for (;;) {
            const res = await (i % 2 === 0 ? b : a).osb(
              'GET',
              `/v2/service_instances/${id}/last_operation?operation=${encodeURIComponent(JSON.stringify({ BoshContextID: operation }))}`,
            );
            if (res.body.state !== 'in progress') return res.body.state as string;
          }
        });
        expect(await Promise.all(polling)).toEqual(['succeeded', 'succeeded', 'succeeded']);
        for (const { operation } of started) {
          expect(
            await until(
              () => recorded(db, operation),
              (op) => op.state !== 'in progress',
            ),
          ).toMatchObject({
            state: 'succeeded',
          });
          expect(await tasksOf(bosh, operation)).toEqual(DEPLOY_THEN_ERRAND);
        }
      } finally {
        await a.stop();
        await b.stop();
      }
    }, 180_000);
  },
);

describe('errand outcomes', () => {
  let uaa: TestUaa;
  let db: Database;
  let bosh: TestDirector;
  let broker: TestBroker;

  beforeAll(async () => {
    uaa = await startTestUaa();
    db = await testDatabaseBackends()[0]!.open();
    // The sim agent runs apply-addons with this outcome on every instance.
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: '127.1.65.0/24',
      sim: {
        errands: {
          'apply-addons': {
            exitCode: 3,
            stdout: 'applying kube-dns\n',
            stderr: 'applying kube-dns\nError: the kube-dns spec was rejected by the apiserver\n',
          },
        },
      },
    });
    broker = await startTestBroker({ uaa, bosh, db, plans });
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
    await bosh?.stop();
    await db?.close();
    await uaa?.stop();
  });

  it('fails the operation when an errand exits non-zero, naming errand, instance, exit code and stderr', async () => {
    const { id, operation } = await provision(broker, 'errand.example.com');
    const failed = await until(
      () => recorded(db, operation),
      (op) => op.state !== 'in progress',
    );
    const tasks = await bosh.client.tasks({ contextId: operation, verbose: 2 });
    const errand = tasks.find((t) => t.description.startsWith('run errand apply-addons'))!;
    // The Director's task itself is done: the errand ran, and failed on the instance.
    expect(errand.state).toBe('done');
    const [result] = await bosh.client.taskResult<{ instance: { group: string; id: string } }>(errand.id);
    expect(failed.state).toBe('failed');
    expect(failed.description).toBe(
      `Instance provisioning failed: errand apply-addons failed on apply-addons/${result!.instance.id} with exit code 3: ` +
        `applying kube-dns Error: the kube-dns spec was rejected by the apiserver (task ${errand.id})`,
    );
    // What the platform hears.
    const last = await broker.osb(
      'GET',
      `/v2/service_instances/${id}/last_operation?operation=${encodeURIComponent(JSON.stringify({ BoshContextID: operation }))}`,
    );
    expect(last.body).toEqual({ state: 'failed', description: failed.description });
  }, 120_000);
});
