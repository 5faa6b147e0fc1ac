import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestStack, type TestApi, type TestStack } from './testing/index.js';

// The fleet feed over graphql-ws, against the whole stack on loopback: what each user may see, in order,
// from the list at the start to each cluster's last event, and resumed after a dropped socket.

interface FeedItem {
  type: string;
  cursor: string;
  clusterName: string | null;
  cluster: { name: string; lastAction: string; lastActionState: string; workerInstances: number } | null;
  event: { kind: string; lastActionState: string; progress: number | null } | null;
  task: { id: string; status: string; clusters: { clusterName: string; lastActionState: string }[] } | null;
}

const FEED = `subscription($after: String) { clusterFeed(after: $after) {
  type cursor clusterName
  cluster { name lastAction lastActionState workerInstances }
  event { kind lastActionState progress }
  task { id status clusters { clusterName lastActionState } }
} }`;

/** A running feed: every message so far, and a way to wait for one that matches. */
function openFeed(client: Client, after?: string) {
  const items: FeedItem[] = [];
  const errors: unknown[] = [];
  let waiters: { until: (item: FeedItem) => boolean; resolve: (item: FeedItem) => void }[] = [];
  const stop = client.subscribe<{ clusterFeed: FeedItem }>(
    { query: FEED, variables: after === undefined ? {} : { after } },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        const item = value.data?.clusterFeed;
        if (!item) return;
        items.push(item);
        waiters = waiters.filter((w) => !(w.until(item) && (w.resolve(item), true)));
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  // A liveness bound, not a timing target: on a loaded CI machine three concurrent creates have taken over 45 s.
  const next = (until: (item: FeedItem) => boolean, timeoutMs = 100_000) => {
    const seen = items.find(until);
    if (seen) return Promise.resolve(seen);
    return new Promise<FeedItem>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              // Each message with the cluster's state it carried and its event's kind and state, so a
              // wait that never ends says whether the event never came or came with a stale cluster.
              `no such feed message in ${timeoutMs} ms; got ${JSON.stringify(
                items.map((i) => [
                  i.type,
                  i.clusterName,
                  i.cluster?.lastActionState ?? null,
                  i.event?.kind ?? null,
                  i.event?.lastActionState ?? null,
                ]),
              )} errors ${JSON.stringify(errors)}`,
            ),
          ),
        timeoutMs,
      );
      waiters.push({
        until,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  };
  return { items, errors, next, stop };
}

describe.each(testDatabaseBackends())('the fleet feed on $name', (backend) => {
  let stack: TestStack;
  let api: TestApi;
  let admin: string;
  let mia: string;
  const clients: Client[] = [];

  const client = (token: string) => {
    const c = api.wsClient(token);
    clients.push(c);
    return c;
  };
  const create = async (token: string, name: string) => {
    const { data, errors } = await api.query(
      token,
      `mutation{ createCluster(input:{name:"${name}", planName:"small", externalHostname:"${name}.example.test", numNodes:1}){ name } }`,
    );
    expect(errors).toBeUndefined();
    return data;
  };
  const remove = async (token: string, name: string) => {
    const { errors } = await api.query(token, `mutation{ deleteCluster(name:"${name}"){ name } }`);
    expect(errors).toBeUndefined();
  };
  const settled = (name: string) => (item: FeedItem) =>
    item.clusterName === name &&
    (item.type === 'MODIFIED' || item.type === 'ADDED') &&
    item.cluster?.lastActionState === 'succeeded';

  beforeAll(async () => {
    stack = await startTestStack({
      backend,
      ipRange: `127.1.${backend.name === 'pglite' ? 110 : 111}.0/24`,
    });
    api = stack.api;
    admin = await stack.signIn('feed-admin', ['pks.clusters.admin']);
    mia = await stack.signIn('mia', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await stack?.stop();
  });

  it('starts with the list, then follows a cluster from ADDED through progress to DELETED', async () => {
    const feed = openFeed(client(admin));
    await feed.next((i) => i.type === 'SYNCED');
    expect(feed.items.map((i) => i.type)).toEqual(['SYNCED']);

    await create(admin, 'followed');
    const added = await feed.next((i) => i.type === 'ADDED' && i.clusterName === 'followed');
    expect(added.cluster).toMatchObject({ name: 'followed', lastAction: 'CREATE', workerInstances: 1 });
    await feed.next((i) => i.clusterName === 'followed' && i.event?.kind === 'PROGRESS');
    await feed.next(settled('followed'));

    await remove(admin, 'followed');
    const deleted = await feed.next((i) => i.type === 'DELETED' && i.clusterName === 'followed');
    expect(deleted.cluster).toBeNull();
    // Events arrive in order: cursors only grow.
    const ids = feed.items.map((i) => BigInt(Buffer.from(i.cursor, 'base64url').toString().slice(5)));
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
    expect(feed.errors).toEqual([]);
    feed.stop();

    // A later feed starts without the deleted cluster.
    const later = openFeed(client(admin));
    await later.next((i) => i.type === 'SYNCED');
    expect(later.items.filter((i) => i.clusterName === 'followed')).toEqual([]);
    later.stop();
  }, 120_000);

  it('never sends a manage user a cluster that is not theirs, at the start or live', async () => {
    await create(admin, 'admins-own');
    const miaFeed = openFeed(client(mia));
    const adminFeed = openFeed(client(admin));
    await miaFeed.next((i) => i.type === 'SYNCED');
    await adminFeed.next((i) => i.type === 'SYNCED');

    await create(mia, 'mias');
    await create(admin, 'admins-second');
    await miaFeed.next(settled('mias'));
    await adminFeed.next(settled('mias'));
    await adminFeed.next(settled('admins-second'));
    await adminFeed.next(settled('admins-own'));

    expect(new Set(miaFeed.items.map((i) => i.clusterName).filter(Boolean))).toEqual(new Set(['mias']));
    expect(adminFeed.items.some((i) => i.clusterName === 'admins-second')).toBe(true);
    miaFeed.stop();
    adminFeed.stop();
  }, 240_000);

  it('resumes after a dropped socket with exactly what was missed, then SYNCED', async () => {
    const first = openFeed(client(admin));
    const synced = await first.next((i) => i.type === 'SYNCED');
    const listed = first.items.filter((i) => i.type === 'ADDED').map((i) => i.clusterName);
    expect(listed.length).toBeGreaterThan(0);
    first.stop();

    // While nobody listens: a create runs to the end.
    await create(admin, 'while-away');
    const watcher = openFeed(client(admin));
    await watcher.next(settled('while-away'));
    watcher.stop();

    const resumed = openFeed(client(admin), synced.cursor);
    await resumed.next((i) => i.type === 'SYNCED');
    const missed = resumed.items.slice(
      0,
      resumed.items.findIndex((i) => i.type === 'SYNCED'),
    );
    expect(missed[0], JSON.stringify(missed.map((i) => [i.type, i.clusterName, i.event]))).toMatchObject({
      type: 'ADDED',
      clusterName: 'while-away',
    });
    expect(missed.every((i) => i.clusterName === 'while-away')).toBe(true);
    expect(missed.some((i) => i.event?.lastActionState === 'succeeded')).toBe(true);
    expect(resumed.items.filter((i) => i.type === 'RESYNC')).toEqual([]);
    resumed.stop();
  }, 120_000);

  it('carries upgrade runs as TASK messages, live and again before SYNCED on a resume', async () => {
    const feed = openFeed(client(admin));
    const synced = await feed.next((i) => i.type === 'SYNCED');
    const { data, errors } = await api.query(
      admin,
      'mutation{ upgradeClusters(input:{clusters:["admins-own", "mias"], maxInFlight: 1}){ id } }',
    );
    expect(errors).toBeUndefined();
    const id = data.upgradeClusters.id as string;
    const done = await feed.next(
      (i) => i.type === 'TASK' && i.task?.id === id && i.task.status === 'done',
      40_000,
    );
    expect(done.task!.clusters.map((c) => c.clusterName).sort()).toEqual(['admins-own', 'mias']);
    feed.stop();

    const resumed = openFeed(client(admin), synced.cursor);
    await resumed.next((i) => i.type === 'SYNCED');
    const beforeSynced = resumed.items.slice(
      0,
      resumed.items.findIndex((i) => i.type === 'SYNCED'),
    );
    expect(beforeSynced.find((i) => i.type === 'TASK' && i.task?.id === id)?.task?.status).toBe('done');
    resumed.stop();

    // A manage user's feed carries no run of the admin's.
    const miaFeed = openFeed(client(mia));
    await miaFeed.next((i) => i.type === 'SYNCED');
    expect(miaFeed.items.filter((i) => i.type === 'TASK')).toEqual([]);
    miaFeed.stop();
  }, 120_000);

  it('answers a resume point it cannot honour with RESYNC and the full list, and a malformed one with the field', async () => {
    const unknown = Buffer.from('feed:999999999', 'utf8').toString('base64url');
    const feed = openFeed(client(admin), unknown);
    await feed.next((i) => i.type === 'SYNCED');
    expect(feed.items[0]!.type).toBe('RESYNC');
    const names = feed.items.filter((i) => i.type === 'ADDED').map((i) => i.clusterName);
    expect(names).toEqual(expect.arrayContaining(['admins-own', 'mias', 'while-away']));
    feed.stop();

    const bad = openFeed(client(admin), 'not-a-cursor');
    await expect.poll(() => bad.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(bad.errors)).toMatch(/after: 'not-a-cursor' is not a cursor of this feed/);
    expect(JSON.stringify(bad.errors)).toMatch(/BAD_USER_INPUT/);
  }, 120_000);
});
