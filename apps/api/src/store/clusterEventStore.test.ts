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
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api.cluster_events');
    expect(rows[0]!.n).toBe(0);
  });
});
