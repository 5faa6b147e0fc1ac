import { MAX_NOTIFY_PAYLOAD_BYTES, migrate } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { InternalError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterEventKind, type ClusterEventMessage } from '../services/events.js';
import { clusterEventStore } from './clusterEventStore.js';
import { apiMigrations } from './migrations.js';

const event = (description: string): ClusterEventMessage => ({
  clusterUuid: '6f1c2a8e-3b7d-4c1e-9a5f-2d8b7e4c1a90',
  clusterName: 'big',
  owner: 'alana',
  kind: ClusterEventKind.PROGRESS,
  at: new Date(0).toISOString(),
  lastAction: 'CREATE',
  lastActionState: 'in progress',
  description,
});

describe.each(testDatabaseBackends())('cluster events on $name', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.open();
    await migrate(db, { schema: 'api', migrations: apiMigrations });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('announces events in id order even when a later writer would commit first', async () => {
    const uuid = '0b7e3c52-9d41-4f6a-8e2b-5c1d7a9f3e60';
    await db.query(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version,
         last_action, last_action_state)
       VALUES ($1, 'ordered', 'alana', 'small', 'ordered.example.com', 1, '1.6.0', 'CREATE', 'in progress')`,
      [uuid],
    );
    const heard: string[] = [];
    const stop = await db.listen('api_cluster_events_order', (payload) =>
      heard.push((JSON.parse(payload) as { id: string }).id),
    );
    try {
      const own = { ...event('first'), clusterUuid: uuid };
      let firstDrew!: () => void;
      const drawn = new Promise<void>((resolve) => (firstDrew = resolve));
      // The first writer draws its id, then keeps its transaction open (an operation's final state with
      // more to write); the second draws after it and would commit at once.
      const first = db.transaction(async (tx) => {
        const ids = await clusterEventStore.insertAndNotify(tx, [own], 'api_cluster_events_order');
        firstDrew();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return ids;
      });
      await drawn;
      const second = db.transaction((tx) =>
        clusterEventStore.insertAndNotify(
          tx,
          [{ ...own, description: 'second' }],
          'api_cluster_events_order',
        ),
      );
      const [[a], [b]] = await Promise.all([first, second]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The feeds drop an id not above the last they delivered: heard out of order, `a` was lost.
      expect(BigInt(b!)).toBeGreaterThan(BigInt(a!));
      expect(heard).toEqual([a, b]);
    } finally {
      await stop();
    }
  });

  it('refuses a batch with an event over the notification limit as an internal error, writing none of it', async () => {
    const batch = [event('small'), event('x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES))];
    const error = await clusterEventStore
      .insertAndNotify(db, batch, 'api_cluster_events')
      .catch((e: unknown) => e);
    // Not the user's input (no field to name): what the API recorded about a cluster outgrew PostgreSQL.
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `the PROGRESS event of cluster ${batch[1]!.clusterUuid} is \\d+ bytes once announced, ` +
          `over PostgreSQL's notification limit of ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`,
      ),
    );
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM api.cluster_events WHERE cluster_uuid = '6f1c2a8e-3b7d-4c1e-9a5f-2d8b7e4c1a90'`,
    );
    expect(rows[0]!.n).toBe(0);
  });
});
