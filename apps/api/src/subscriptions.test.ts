import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi } from './testing/index.js';

// A subscription lives no longer than the token it was opened with. UAA's clock runs 58 s behind, so
// its 60-second tokens have two seconds left when they arrive.

describe('subscriptions and token lifetime', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({
      db,
      accessTokenValidity: 60,
      clock: { now: () => new Date(Date.now() - 58_000) },
    });
    // No broker is needed to watch a cluster: the record is written straight into the api schema.
    api = await startTestApi({
      uaa,
      db,
      broker: { url: 'https://127.0.0.1:9', username: 'u', password: 'p' },
    });
    await db.query(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version, last_action, last_action_state)
       VALUES ($1, 'watched', 'watcher', 'small', 'watched.example.test', 1, 'x', 'CREATE', 'succeeded')`,
      [randomUUID()],
    );
    await uaa.createUser('watcher', 'watcher-password-1', ['pks.clusters.manage']);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('ends the socket, and the subscription on it, with an auth error when the token expires', async () => {
    const token = (await uaa.tokenFor({ username: 'watcher', password: 'watcher-password-1' })).access_token;
    let closedWith: { code: number; reason: string } | undefined;
    const ws = api.wsClient(token, (event) => (closedWith = { code: event.code, reason: event.reason }));
    const ended = new Promise<unknown>((resolve) => {
      ws.subscribe(
        { query: 'subscription{ clusterEvents(name:"watched"){ description } }' },
        { next: () => {}, error: resolve, complete: () => resolve('completed') },
      );
    });
    const error = (await ended) as { code?: number };
    expect(error.code).toBe(4401);
    expect(closedWith).toMatchObject({ code: 4401, reason: expect.stringContaining('token expired') });
    await ws.dispose();
  }, 15_000);
});
