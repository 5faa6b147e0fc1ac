import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boshContextIdOf, deploymentNameOf } from '@openpks/broker';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestApi, startTestStack, type TestApi, type TestStack } from './testing/index.js';

// No false FAILED: an API that dies after the broker accepted a change but before it recorded `polling`
// leaves the operation `requested`; the API that takes over sends the same PATCH again, and the broker
// answers it as the original (202, the same operation) instead of 422 while it runs, or as applied (200)
// once it has finished it (the broker needs nobody to poll it), so the change ends `succeeded`.

/**
 * The database as an API process sees it, until the process dies at the statement that records a sent
 * request as `polling`: from then on nothing it does reaches the database, as with a killed process.
 */
function dyingAtPolling(db: Database): { db: Database; died: () => boolean } {
  let dead = false;
  const gone = () => Promise.reject(new Error('the API process is gone'));
  const wrapped = new Proxy(db, {
    get(target, property) {
      if (property === 'query') {
        return (sql: string, params?: readonly unknown[]) => {
          if (!dead && /^\s*UPDATE api\.operations SET phase = 'polling'/.test(sql)) dead = true;
          return dead ? gone() : target.query(sql, params);
        };
      }
      if (property === 'transaction' || property === 'exec') {
        return (...args: never[]) =>
          dead ? gone() : (target[property] as (...a: never[]) => Promise<unknown>)(...args);
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { db: wrapped, died: () => dead };
}

interface OperationRow {
  id: string;
  phase: string;
  state: string;
  description: string;
  broker_operation: string | null;
}

describe.each(testDatabaseBackends())('an update re-sent after the API died, on $name', (backend) => {
  let stack: TestStack;
  let alice: string;
  const replicas: Database[] = [];
  const apis: TestApi[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ backend, ipRange: '127.1.76.0/24' });
    alice = await stack.signIn('alice', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    for (const api of apis) await api.stop().catch(() => undefined);
    for (const replica of replicas) await replica.close();
    await stack?.stop();
  });

  const replica = async () => {
    const db = await stack.db.replica();
    replicas.push(db);
    return db;
  };
  const startApi = async (db: Database, holder: string) => {
    const api = await startTestApi({
      uaa: stack.uaa,
      db,
      broker: { url: stack.broker.url, ...stack.broker.credentials },
      director: stack.bosh.client,
      holder,
    });
    apis.push(api);
    return api;
  };

  const stateOf = async (api: TestApi, name: string) => {
    const { data } = await api.query(
      alice,
      `query($n:String!){ cluster(name:$n){ uuid workerInstances lastAction lastActionState lastActionDescription } }`,
      { n: name },
    );
    return data.cluster as {
      uuid: string;
      workerInstances: number;
      lastAction: string;
      lastActionState: string;
      lastActionDescription: string;
    };
  };

  const latestOperation = async (clusterUuid: string) =>
    (
      await stack.db.query<OperationRow>(
        `SELECT id, phase, state, description, broker_operation FROM api.operations
         WHERE cluster_uuid = $1 ORDER BY created_at DESC LIMIT 1`,
        [clusterUuid],
      )
    ).rows[0]!;

  it('ends succeeded with the new worker count, never failed', async () => {
    const created = await stack.api.query(
      alice,
      `mutation($i: CreateClusterInput!){ createCluster(input:$i){ name } }`,
      { i: { name: 'steady', planName: 'small', externalHostname: 'steady.example.test', numNodes: 1 } },
    );
    expect(created.errors).toBeUndefined();
    for (let i = 0; (await stateOf(stack.api, 'steady')).lastActionState !== 'succeeded'; i++) {
      expect(i).toBeLessThan(600);
      expect((await stateOf(stack.api, 'steady')).lastActionState).not.toBe('failed');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { uuid } = await stateOf(stack.api, 'steady');
    await stack.api.stop();

    // The first API sends the resize and dies before it records that the broker accepted it.
    const dying = dyingAtPolling(await replica());
    const first = await startApi(dying.db, 'api-first');
    const resized = await first.query(
      alice,
      `mutation($n:String!,$w:Int!){ resizeCluster(name:$n, numNodes:$w){ workerInstances } }`,
      { n: 'steady', w: 3 },
    );
    expect(dying.died()).toBe(true);
    expect(resized.errors).toBeDefined();
    await first.stop();
    // What the crash left: the operation still `requested`, leased by the dead API; the broker deploying.
    const left = await latestOperation(uuid);
    expect(left).toMatchObject({ phase: 'requested', state: 'in progress', broker_operation: null });

    // The API that takes over (once the dead one's lease ran out) sends the same PATCH again.
    const second = await startApi(await replica(), 'api-second');
    let op = left;
    const seen = new Set<string>();
    for (let i = 0; op.state === 'in progress'; i++) {
      expect(i).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 200));
      op = await latestOperation(uuid);
      seen.add((await stateOf(second, 'steady')).lastActionState);
    }
    expect(op).toMatchObject({ id: left.id, phase: 'done', state: 'succeeded' });
    expect(seen).not.toContain('failed');
    const { rows: failures } = await stack.db.query(
      `SELECT event FROM api.cluster_events WHERE cluster_uuid = $1 AND event->>'lastActionState' = 'failed'`,
      [uuid],
    );
    expect(failures).toEqual([]);

    expect(await stateOf(second, 'steady')).toMatchObject({
      workerInstances: 3,
      lastAction: 'UPDATE',
      lastActionState: 'succeeded',
    });
    const deployment = deploymentNameOf(uuid);
    const workers = (await stack.bosh.client.instances(deployment)).filter((i) => i.job === 'worker');
    expect(workers).toHaveLength(3);
    // One update ran: its deploy and errand are the only tasks besides the create's, and the re-sent PATCH,
    // when it found the update running, was answered with that update's operation (the API's reads of the
    // cluster's status, `vms` tasks, carry no operation's context id).
    const tasks = (await stack.bosh.client.tasks({ deployment, verbose: 2, limit: 100 }))
      .filter((t) => t.context_id)
      .sort((a, b) => a.id - b.id);
    const contexts = [...new Set(tasks.map((t) => t.context_id))];
    expect(contexts).toHaveLength(2);
    const contextId = contexts[1]!;
    expect(tasks.filter((t) => t.context_id === contextId).map((t) => t.state)).toEqual(['done', 'done']);
    if (op.broker_operation !== null) {
      expect(boshContextIdOf(op.broker_operation)).toBe(contextId);
    }
  }, 240_000);
});
