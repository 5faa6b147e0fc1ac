import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { DEFAULT_QUERY_LIMITS, EXTERNAL_CALL_COST } from './http/guards.js';
import { startTestApi, type TestApi, seedCluster, recordingStatements } from './testing/index.js';

// As an operator of a small installation would set it: a fleet of a few dozen clusters reaches it.
const LIMITS = { ...DEFAULT_QUERY_LIMITS, maxCost: 5_000 };

// The query cost limit prices an operation as it will run: list sizes from its variables, lists of
// clusters by the clusters the caller sees, the Director calls of `nodes`, every aliased copy and every
// fragment. Clusters are recorded straight in the API's table (no broker, no Director: `nodes` is empty).

// A cluster in `clusters { name nodes { id state } }`: itself, a Director call, and up to 105 VMs (the
// largest default plan: 5 masters, 100 workers).
const NODES_QUERY = '{ clusters { name nodes { id state } } }';
const PER_CLUSTER_WITH_NODES = 1 + EXTERNAL_CALL_COST + 105;

const aliased = (copies: number, selection: string) =>
  Array.from({ length: copies }, (_, i) => `a${i}: ${selection}`).join(' ');

describe.each(testDatabaseBackends())('the query cost limit on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;
  const statements: string[] = [];
  const token = { alice: '', admin: '', reader: '' };

  const seed = (name: string, owner: string) => seedCluster(db, name, owner, ['one', 'two', 'three']);
  /** Statements that read clusters or their events: a resolver ran (the cost limit's COUNT is not one). */
  const reads = () =>
    statements.filter((sql) => /api\.(clusters|cluster_events)\b/.test(sql) && !/count\(\*\)/i.test(sql));

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    const counting = recordingStatements(db, statements);
    api = await startTestApi({
      uaa,
      db: counting,
      broker: { url: 'https://127.0.0.1:9', username: 'unused', password: 'unused' },
      // Every answer computed, so each request meets the limit with the fleet as it is now.
      answerCache: false,
      limits: LIMITS,
    });
    await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await uaa.createUser('admin1', 'admin1-password-1', ['pks.clusters.admin']);
    await uaa.createUser('reader', 'reader-password-1', ['pks.clusters.admin.read']);
    token.alice = (await uaa.tokenFor({ username: 'alice', password: 'alice-password-1' })).access_token;
    token.admin = (await uaa.tokenFor({ username: 'admin1', password: 'admin1-password-1' })).access_token;
    token.reader = (await uaa.tokenFor({ username: 'reader', password: 'reader-password-1' })).access_token;
    // Alice sees her 2 clusters; admins see 33: one more than `clusters { nodes }` may cover.
    await seed('alice-1', 'alice');
    await seed('alice-2', 'alice');
    for (let i = 0; i < 31; i++) await seed(`fleet-${String(i).padStart(2, '0')}`, 'fleet');
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('prices a list sized by a variable by the variable’s value, and refuses before anything is read', async () => {
    const query = `query($l: Int!) { ${aliased(15, 'clusters { events(limit: $l) { description } }')} }`;
    statements.length = 0;
    const refused = await api.query(token.alice, query, { l: 500 });
    expect(refused.status).toBe(400);
    expect(refused.data).toBeUndefined();
    expect(refused.errors).toEqual([
      {
        message:
          'query: the estimated cost is 15,030 (15 × clusters ×2 visible × events limit $l = 500 = 1,002 each); ' +
          'at most 5,000 is allowed',
        extensions: {
          code: 'BAD_USER_INPUT',
          field: 'query',
          fields: [expect.objectContaining({ field: 'query' })],
          limit: 'cost',
          cost: 15_030,
          maxCost: LIMITS.maxCost,
        },
      },
    ]);
    expect(reads()).toEqual([]);
    expect(statements.filter((sql) => /count\(\*\)/i.test(sql))).toHaveLength(1);

    const served = await api.query(token.alice, query, { l: 2 });
    expect(served.status).toBe(200);
    expect(served.errors).toBeUndefined();
    expect(Object.keys(served.data)).toHaveLength(15);
    expect(served.data.a14.map((c: { events: unknown[] }) => c.events.length)).toEqual([2, 2]);
  });

  it('prices clusters { nodes } by the clusters the caller sees now: refused once there are enough', async () => {
    const refused = await api.query(token.admin, NODES_QUERY);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.message).toBe(
      `query: the estimated cost is ${(33 * PER_CLUSTER_WITH_NODES).toLocaleString('en-US')} ` +
        '(clusters ×33 visible × nodes (a Director call, 50) ×105 (VMs of the largest plan) = ' +
        `${(33 * PER_CLUSTER_WITH_NODES).toLocaleString('en-US')}); at most 5,000 is allowed`,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({ cost: 33 * PER_CLUSTER_WITH_NODES });

    await db.query(`UPDATE api.clusters SET deleted_at = now() WHERE name = 'fleet-30'`);
    try {
      const fewer = await api.query(token.admin, NODES_QUERY);
      expect(fewer.errors).toBeUndefined();
      expect(fewer.data.clusters).toHaveLength(32);
      expect(32 * PER_CLUSTER_WITH_NODES).toBeLessThanOrEqual(LIMITS.maxCost);
    } finally {
      await db.query(`UPDATE api.clusters SET deleted_at = NULL WHERE name = 'fleet-30'`);
    }
    expect((await api.query(token.admin, NODES_QUERY)).errors?.[0]?.extensions?.limit).toBe('cost');
  });

  it('lets a manager with few clusters run what an admin or reader of the whole fleet may not', async () => {
    const query = '{ clusters { name nodes { id } events(limit: 50) { description } } }';
    const mine = await api.query(token.alice, query);
    expect(mine.errors).toBeUndefined();
    expect(mine.data.clusters.map((c: { name: string }) => c.name)).toEqual(['alice-1', 'alice-2']);
    for (const who of [token.admin, token.reader]) {
      const all = await api.query(who, query);
      expect(all.status).toBe(400);
      expect(all.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        limit: 'cost',
        cost: 33 * (PER_CLUSTER_WITH_NODES + 50),
      });
    }
  });

  it('counts the caller’s clusters only for an operation that lists them, in one COUNT', async () => {
    const counts = () => statements.filter((sql) => /count\(\*\)/i.test(sql)).length;
    statements.length = 0;
    expect(
      (await api.query(token.admin, '{ plans { name } me { name } cluster(name: "alice-1") { name } }'))
        .errors,
    ).toBeUndefined();
    expect(counts()).toBe(0);
    expect(
      (await api.query(token.admin, '{ clusters { name } task: tasks { clusters { clusterName } } }')).errors,
    ).toBeUndefined();
    expect(counts()).toBe(1);
  });

  it('counts every aliased copy', async () => {
    const copies = (n: number) =>
      `query($l: Int!) { ${aliased(n, 'clusters { events(limit: $l) { description } }')} }`;
    const twelve = await api.query(token.alice, copies(12), { l: 200 });
    expect(twelve.errors).toBeUndefined();
    const thirteen = await api.query(token.alice, copies(13), { l: 200 });
    expect(thirteen.errors?.[0]?.message).toBe(
      'query: the estimated cost is 5,226 (13 × clusters ×2 visible × events limit $l = 200 = 402 each); ' +
        'at most 5,000 is allowed',
    );
  });

  it('follows fragments and inline fragments', async () => {
    const query = `query($l: Int!) { ...Root }
      fragment Root on Query { clusters { ...Events ... on Cluster { e3: events(limit: $l) { description } ...More } } }
      fragment Events on Cluster { e1: events(limit: $l) { ...Line } e2: events(limit: $l) { ...Line } }
      fragment More on Cluster { e4: events(limit: $l) { ...Line } e5: events(limit: $l) { ...Line } }
      fragment Line on ClusterEvent { description }`;
    // Each of alice's 2 clusters: itself and five lists of $l events.
    const refused = await api.query(token.alice, query, { l: 500 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ limit: 'cost', cost: 2 * (1 + 5 * 500) });
    const served = await api.query(token.alice, query, { l: 499 });
    expect(served.errors).toBeUndefined();
    expect(served.data.clusters[0].e5).toHaveLength(3);
  });

  describe('over graphql-ws', () => {
    // A subscription has one root field, and this schema's cost at most 2 + the visible clusters: a limit
    // of 20 shows the fleet priced in subscriptions as in queries.
    let low: TestApi;
    const clients: Client[] = [];
    const first = (client: Client, query: string, variables?: Record<string, unknown>) =>
      new Promise<{ next?: unknown; error?: unknown }>((resolve) => {
        const stop = client.subscribe(
          { query, ...(variables ? { variables } : {}) },
          {
            next: (value) => {
              stop();
              resolve({ next: value });
            },
            error: (error) => resolve({ error }),
            complete: () => resolve({}),
          },
        );
      });

    beforeAll(async () => {
      low = await startTestApi({
        uaa,
        db,
        broker: { url: 'https://127.0.0.1:9', username: 'unused', password: 'unused' },
        limits: { ...LIMITS, maxCost: 20 },
        answerCache: false,
      });
    }, 60_000);

    afterAll(async () => {
      for (const client of clients) await client.dispose();
      await low?.stop();
    });

    it('refuses a costly query with an error message, before anything is read', async () => {
      const client = api.wsClient(token.alice);
      clients.push(client);
      const query = `query($l: Int!) { ${aliased(15, 'clusters { events(limit: $l) { description } }')} }`;
      statements.length = 0;
      const refused = await first(client, query, { l: 500 });
      expect(refused.error).toEqual([
        expect.objectContaining({
          message:
            'query: the estimated cost is 15,030 (15 × clusters ×2 visible × events limit $l = 500 = 1,002 each); ' +
            'at most 5,000 is allowed',
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'query', cost: 15_030 }),
        }),
      ]);
      expect(reads()).toEqual([]);
      const served = await first(client, query, { l: 1 });
      expect(served.next).toMatchObject({ data: { a0: [{ events: [{}] }, { events: [{}] }] } });
    });

    it('refuses a subscription priced by the caller’s fleet, and lets a smaller one through', async () => {
      const subscription = 'subscription { taskEvents(id: "no-such-task") { id clusters { clusterName } } }';
      const admin = low.wsClient(token.admin);
      const alice = low.wsClient(token.alice);
      clients.push(admin, alice);
      const refused = await first(admin, subscription);
      expect(refused.error).toEqual([
        expect.objectContaining({
          message:
            'query: the estimated cost is 34 (taskEvents: clusters ×33 visible = 34); at most 20 is allowed',
          extensions: expect.objectContaining({
            code: 'BAD_USER_INPUT',
            limit: 'cost',
            cost: 34,
            maxCost: 20,
          }),
        }),
      ]);
      // Alice's costs 1 + 2: past the limit, to the resolver, which knows no such task.
      const passed = await first(alice, subscription);
      expect(passed).toMatchObject({
        next: {
          errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })],
        },
      });
    });
  });
});
