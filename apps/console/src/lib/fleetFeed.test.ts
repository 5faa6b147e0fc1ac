import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApi, type TestApi } from '@openpks/api/testing';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import type { FleetMessage } from './fleet';
import { FleetFeedStore, type FleetSnapshot } from './fleetFeed';

// The console's fleet store against a real API on loopback: one subscription, the list kept current,
// and after a dropped socket a resubscription that carries the last cursor, so what happened while the
// page was away (a delete, a create) is replayed and the page ends up right.

/** Resolves when `until` holds for the store's snapshot (checked at every change). */
function when(store: FleetFeedStore, until: (s: FleetSnapshot) => boolean, what: string, ms = 30_000) {
  return new Promise<FleetSnapshot>((resolve, reject) => {
    if (until(store.getSnapshot())) return resolve(store.getSnapshot());
    const timer = setTimeout(() => {
      stop();
      const s = store.getSnapshot();
      reject(
        new Error(
          `${what}: not after ${ms} ms; ${s.connection}, [${[...s.clusters.values()].map((c) => `${c.name} ${c.lastAction} ${c.lastActionState}`).join(', ')}]`,
        ),
      );
    }, ms);
    const stop = store.subscribe(() => {
      if (!until(store.getSnapshot())) return;
      clearTimeout(timer);
      stop();
      resolve(store.getSnapshot());
    });
  });
}

const named = (s: FleetSnapshot, name: string) => [...s.clusters.values()].find((c) => c.name === name);
const settled = (name: string) => (s: FleetSnapshot) => named(s, name)?.lastActionState === 'succeeded';

describe.each(testDatabaseBackends())('the console’s fleet store on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  let api: TestApi;
  let admin: string;
  const clients: Client[] = [];

  /**
   * A graphql-ws client as the page's (reconnecting, lazy), with hooks the page does not have: the
   * sockets it opened and every frame it sent, and a gate that holds each reconnect until the test opens it.
   */
  const pageClient = () => {
    const sockets: WebSocket[] = [];
    const sent: { type: string; payload?: { variables?: Record<string, unknown> } }[] = [];
    let gate: { open: () => void; wait: Promise<void> } | undefined;
    const caPem = api.caPem;
    const client = createClient({
      url: api.url.replace(/^https/, 'wss') + '/graphql',
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { ca: caPem });
          sockets.push(this);
        }
        override send(data: string) {
          sent.push(JSON.parse(data) as (typeof sent)[number]);
          super.send(data);
        }
      },
      connectionParams: { authorization: `Bearer ${admin}` },
      lazy: true,
      retryAttempts: 5,
      shouldRetry: () => true,
      retryWait: () => gate?.wait ?? Promise.resolve(),
    });
    clients.push(client);
    return {
      client,
      sent,
      /** Drops the open socket abruptly (no close frame), as a lost network does; reconnects wait. */
      drop() {
        let open = () => undefined as void;
        const wait = new Promise<void>((resolve) => (open = resolve));
        gate = { open, wait };
        sockets.at(-1)!.terminate();
      },
      reconnect() {
        gate?.open();
        gate = undefined;
      },
    };
  };

  const mutate = async (query: string) => {
    const { errors } = await api.query(admin, query);
    expect(errors).toBeUndefined();
  };
  const create = (name: string) =>
    mutate(
      `mutation{ createCluster(input:{name:"${name}", planName:"small", externalHostname:"${name}.example.test", numNodes:1}){ name } }`,
    );

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: `127.1.${backend.name === 'pglite' ? 122 : 123}.0/24`,
    });
    broker = await startTestBroker({ uaa, bosh, db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
      director: bosh.client,
    });
    await uaa.createUser('store-admin', 'store-admin-password-1', ['pks.clusters.admin']);
    admin = (await uaa.tokenFor({ username: 'store-admin', password: 'store-admin-password-1' }))
      .access_token;
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await api?.stop();
    await broker?.stop();
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('holds one subscription however many views use it, and follows a create to succeeded', async () => {
    const page = pageClient();
    const store = new FleetFeedStore(page.client, { releaseGraceMs: 50 });
    const views = [store.acquire(), store.acquire(), store.acquire()];
    await when(store, (s) => s.synced, 'synced');
    await create('one');
    const progress: FleetMessage[] = [];
    const unlisten = store.onMessage((m) => {
      if (m.clusterName === 'one' && m.event?.kind === 'PROGRESS') progress.push(m);
    });
    await when(store, settled('one'), 'one succeeded');
    unlisten();
    expect(progress.length).toBeGreaterThan(0);
    expect(store.getSnapshot().latest.get(named(store.getSnapshot(), 'one')!.uuid)?.kind).toBe('STATE');
    expect(page.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);

    for (const release of views) release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(page.sent.filter((f) => f.type === 'complete')).toHaveLength(1);
    expect(store.getSnapshot().connection).toBe('idle');
  }, 90_000);

  it('after a dropped socket resubscribes from its last cursor and catches up on a delete and a create', async () => {
    await create('doomed');
    const page = pageClient();
    const store = new FleetFeedStore(page.client);
    const release = store.acquire();
    await when(store, (s) => s.synced && settled('doomed')(s), 'doomed listed, succeeded');
    const messages: FleetMessage[] = [];
    store.onMessage((m) => messages.push(m));

    const cursorAtDrop = store.getSnapshot().cursor;
    page.drop();
    await when(store, (s) => s.connection === 'down', 'down after the drop');

    // While the page is away: one cluster goes, another comes and finishes. A second client watches
    // the API's own feed to know when both are done.
    const watcherClient = api.wsClient(admin);
    clients.push(watcherClient);
    const watcher = new FleetFeedStore(watcherClient);
    const releaseWatcher = watcher.acquire();
    await when(watcher, (s) => s.synced, 'watcher synced');
    await mutate('mutation{ deleteCluster(name:"doomed"){ name } }');
    await create('arrived');
    await when(watcher, (s) => !named(s, 'doomed') && settled('arrived')(s), 'watcher saw both', 60_000);
    releaseWatcher();
    expect(named(store.getSnapshot(), 'doomed')).toBeDefined();

    page.reconnect();
    const after = await when(
      store,
      (s) => s.connection === 'live' && s.synced && !named(s, 'doomed') && settled('arrived')(s),
      'caught up after the reconnect',
    );
    expect(after.connection).toBe('live');
    const subscribes = page.sent.filter((f) => f.type === 'subscribe');
    expect(subscribes).toHaveLength(2);
    expect(subscribes[0]!.payload?.variables).toEqual({});
    expect(subscribes[1]!.payload?.variables).toEqual({ after: cursorAtDrop });
    // A replay, not a new start: no RESYNC and no re-listing of the clusters that never changed.
    expect(messages.filter((m) => m.type === 'RESYNC')).toEqual([]);
    expect(messages.some((m) => m.type === 'DELETED' && m.clusterName === 'doomed')).toBe(true);
    expect(messages.filter((m) => m.type === 'ADDED' && m.clusterName === 'one' && !m.event)).toEqual([]);
    release();
  }, 120_000);
});
