import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import type { Database } from '@openpks/db';
import { READS_CHANGED_CHANNEL } from './http/answerCache.js';
import { startTestApi, type TestApi } from './testing/index.js';

// Cached query answers (http/answerCache.ts) must never be stale after a write, whoever makes it: the
// API's own mutations, another replica or a script writing the tables. maxAgeMs is an hour here, so only
// change notices can explain a fresh answer.

interface ListedCluster {
  name: string;
  lastActionState: string;
  events: { description: string }[];
  nsxDetails: { nodeSubnetPrefix: number | null } | null;
}
interface Listed {
  clusters: ListedCluster[];
}

const LIST = `{ clusters { name owner lastActionState events(limit: 2) { description } nsxDetails { nodeSubnetPrefix } } }`;

describe.each(testDatabaseBackends())('cached query answers on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;
  const token = { alice: '', bob: '', admin: '' };

  const hits = async () => {
    const metric = await api.server.metrics.answerCache.get();
    return metric.values.find((v) => v.labels.result === 'hit')?.value ?? 0;
  };
  const seed = async (name: string, owner: string) => {
    const { rows } = await db.query<{ uuid: string }>(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version,
         last_action, last_action_state, last_action_description)
       VALUES (gen_random_uuid(), $1, $2, 'small', $1 || '.example.test', 3, '1.6.0-openpks', 'CREATE',
         'succeeded', 'Instance provisioning completed') RETURNING uuid`,
      [name, owner],
    );
    return rows[0]!.uuid;
  };
  /** Reads until `check` holds, failing after 3 s: notices arrive in milliseconds. */
  const eventually = async (caller: string, query: string, check: (data: Listed) => boolean) => {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const { data, errors } = await api.query<Listed>(caller, query);
      expect(errors).toBeUndefined();
      if (check(data!)) return data;
      if (Date.now() > deadline) throw new Error(`still stale: ${JSON.stringify(data).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: 'https://127.0.0.1:9', username: 'unused', password: 'unused' },
      answerCache: { maxAgeMs: 3_600_000 },
    });
    await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await uaa.createUser('bob', 'bob-password-1', ['pks.clusters.manage']);
    await uaa.createUser('admin1', 'admin1-password-1', ['pks.clusters.admin']);
    token.alice = (await uaa.tokenFor({ username: 'alice', password: 'alice-password-1' })).access_token;
    token.bob = (await uaa.tokenFor({ username: 'bob', password: 'bob-password-1' })).access_token;
    token.admin = (await uaa.tokenFor({ username: 'admin1', password: 'admin1-password-1' })).access_token;
    await seed('alpha', 'alice');
    await seed('beta', 'bob');
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('answers a repeated query from the cache with the same bytes, per caller', async () => {
    const first = await api.raw('POST', '/graphql', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.admin}` },
      body: JSON.stringify({ query: LIST }),
    });
    const before = await hits();
    const second = await api.raw('POST', '/graphql', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.admin}` },
      body: JSON.stringify({ query: LIST }),
    });
    expect(await hits()).toBe(before + 1);
    expect(second.status).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(JSON.parse(second.body).data.clusters.map((c: { name: string }) => c.name)).toEqual([
      'alpha',
      'beta',
    ]);
    // The same text from other callers: their own clusters, never the admin's answer.
    for (let i = 0; i < 2; i++) {
      expect((await api.query(token.alice, LIST)).data.clusters.map((c: ListedCluster) => c.name)).toEqual([
        'alpha',
      ]);
      expect((await api.query(token.bob, LIST)).data.clusters.map((c: ListedCluster) => c.name)).toEqual([
        'beta',
      ]);
    }
    // No token: refused as always, never served from the cache.
    const anonymous = await api.query(undefined, LIST);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is fresh after writes from outside this API: clusters, events, networks', async () => {
    await eventually(token.alice, LIST, () => true); // warm
    await db.query(`UPDATE api.clusters SET last_action_state = 'failed' WHERE name = 'alpha'`);
    await eventually(token.alice, LIST, (d) => d.clusters[0]!.lastActionState === 'failed');
    await db.query(
      `INSERT INTO api.cluster_events (cluster_uuid, event)
       SELECT uuid, jsonb_build_object('clusterUuid', uuid, 'clusterName', name, 'owner', owner, 'kind', 'PROGRESS',
         'at', now(), 'lastAction', 'CREATE', 'lastActionState', 'in progress', 'description', 'from a script')
       FROM api.clusters WHERE name = 'alpha'`,
    );
    await eventually(token.alice, LIST, (d) => d.clusters[0]!.events.at(-1)?.description === 'from a script');
    await db.query(
      `INSERT INTO api.cluster_networks (cluster_uuid, profile_parameters)
       SELECT uuid, '{"node_subnet_prefix": 26}'::jsonb FROM api.clusters WHERE name = 'alpha'`,
    );
    await eventually(token.alice, LIST, (d) => d.clusters[0]!.nsxDetails?.nodeSubnetPrefix === 26);
    const gamma = await seed('gamma', 'alice');
    await eventually(token.alice, LIST, (d) => d.clusters.length === 2);
    await db.query(`DELETE FROM api.clusters WHERE uuid = $1`, [gamma]);
    await eventually(token.alice, LIST, (d) => d.clusters.length === 1);
  });

  it('shows a change made through this API to the very next read, without waiting for the notice', async () => {
    // A replica whose database never delivers the change notices: only its own mutation can clear it.
    const deaf = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'listen') {
          return (channel: string, handler: (payload: string) => void) =>
            channel === READS_CHANGED_CHANNEL
              ? Promise.resolve(async () => {})
              : target.listen(channel, handler);
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Database;
    const replica = await startTestApi({
      uaa,
      db: deaf,
      broker: { url: 'https://127.0.0.1:9', username: 'unused', password: 'unused' },
      answerCache: { maxAgeMs: 3_600_000 },
    });
    try {
      const PROFILES = '{ networkProfiles { name } }';
      expect((await replica.query(token.admin, PROFILES)).data.networkProfiles).toEqual([]);
      // Written elsewhere: this replica hears nothing, so its cached answer stands (what the notices are for).
      await db.query(`INSERT INTO api.network_profiles (name, parameters) VALUES ('np-elsewhere', '{}')`);
      expect((await replica.query(token.admin, PROFILES)).data.networkProfiles).toEqual([]);
      const created = await replica.query(
        token.admin,
        `mutation { createNetworkProfile(input: { name: "np-cache", parameters: { lb_size: "small" } }) { name } }`,
      );
      expect(created.errors).toBeUndefined();
      expect((await replica.query(token.admin, PROFILES)).data.networkProfiles).toEqual([
        { name: 'np-cache' },
        { name: 'np-elsewhere' },
      ]);
    } finally {
      await replica.stop();
    }
  });

  it('never caches errors or live Director fields', async () => {
    const before = await hits();
    for (let i = 0; i < 2; i++) {
      const missing = await api.query(token.alice, '{ cluster(name: "nope") { name } }');
      expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const nodes = await api.query(token.alice, '{ cluster(name: "alpha") { name nodes { id } } }');
      expect(nodes.errors).toBeUndefined();
    }
    expect(await hits()).toBe(before);
  });
});
