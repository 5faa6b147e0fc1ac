import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { collect, startTestApi, type TestApi } from './testing/index.js';

// PKS-REFERENCE §3 as a matrix. Where an operation is allowed, the test gives it input that fails
// validation (BAD_USER_INPUT), which shows authorisation passed without changing anything.

type Who = 'manager' | 'other' | 'reader' | 'admin' | 'none';
const WHO: Who[] = ['manager', 'other', 'reader', 'admin', 'none'];

describe('authorisation, validation and guards', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  let api: TestApi;
  const token = {} as Record<Who, string>;

  const codeOf = async (who: Who | undefined, query: string, variables?: Record<string, unknown>) => {
    const result = await api.query(who && token[who], query, variables);
    return result.errors?.[0]?.extensions?.code ?? 'OK';
  };

  const settle = async (name: string) => {
    for (let i = 0; i < 300; i++) {
      const { data } = await api.query(
        token.admin,
        `{ cluster(name:"${name}"){ lastActionState lastActionDescription events { description } } }`,
      );
      if (data?.cluster?.lastActionState !== 'in progress') {
        if (data?.cluster?.lastActionState !== 'succeeded') throw new Error(JSON.stringify(data));
        return data?.cluster?.lastActionState as string;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${name} did not settle`);
  };

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({ uaa, db, ipRange: '127.1.71.0/24' });
    broker = await startTestBroker({ uaa, bosh, db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
      director: bosh.client,
    });
    const groups: Record<Who, string[]> = {
      manager: ['pks.clusters.manage'],
      other: ['pks.clusters.manage'],
      reader: ['pks.clusters.admin.read'],
      admin: ['pks.clusters.admin'],
      none: [],
    };
    for (const who of WHO) {
      await uaa.createUser(`${who}-user`, `${who}-password-1`, groups[who]);
      // Nobody without a PKS scope gets a pks_cli token; a signed-in user without one is who the
      // kubeconfig client (openid only) serves.
      token[who] = (
        await uaa.tokenFor({
          username: `${who}-user`,
          password: `${who}-password-1`,
          ...(who === 'none' ? { clientId: 'pks_cluster_client', scope: 'openid' } : {}),
        })
      ).access_token;
    }
    const made = await api.query(
      token.manager,
      `mutation{ createCluster(input:{name:"owned", planName:"small", externalHostname:"owned.example.test", numNodes:1}){ name } }`,
    );
    expect(made.errors).toBeUndefined();
    expect(await settle('owned')).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await broker?.stop();
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  const matrix: [string, string, Record<Who, string>][] = [
    [
      'plans',
      '{ plans { name } }',
      { manager: 'OK', other: 'OK', reader: 'OK', admin: 'OK', none: 'FORBIDDEN' },
    ],
    ['me', '{ me { name } }', { manager: 'OK', other: 'OK', reader: 'OK', admin: 'OK', none: 'OK' }],
    [
      'cluster',
      '{ cluster(name:"owned"){ name } }',
      { manager: 'OK', other: 'NOT_FOUND', reader: 'OK', admin: 'OK', none: 'FORBIDDEN' },
    ],
    [
      'networkProfiles',
      '{ networkProfiles { name } }',
      { manager: 'OK', other: 'OK', reader: 'OK', admin: 'OK', none: 'FORBIDDEN' },
    ],
    [
      'createCluster',
      'mutation{ createCluster(input:{name:"x1", planName:"nope", externalHostname:"x.test"}){ name } }',
      {
        manager: 'BAD_USER_INPUT',
        other: 'BAD_USER_INPUT',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'updateCluster',
      'mutation{ updateCluster(name:"owned", input:{numNodes:0}){ name } }',
      {
        manager: 'BAD_USER_INPUT',
        other: 'NOT_FOUND',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'resizeCluster',
      'mutation{ resizeCluster(name:"owned", numNodes:11){ name } }',
      {
        manager: 'BAD_USER_INPUT',
        other: 'NOT_FOUND',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'upgradeCluster',
      'mutation{ upgradeCluster(name:"owned"){ name } }',
      { manager: 'SKIP', other: 'NOT_FOUND', reader: 'FORBIDDEN', admin: 'SKIP', none: 'FORBIDDEN' },
    ],
    [
      'deleteCluster',
      'mutation{ deleteCluster(name:"owned"){ name } }',
      { manager: 'SKIP', other: 'NOT_FOUND', reader: 'FORBIDDEN', admin: 'SKIP', none: 'FORBIDDEN' },
    ],
    [
      'clusterCredentials',
      'mutation{ clusterCredentials(name:"owned"){ kubeconfig } }',
      {
        manager: 'BAD_USER_INPUT',
        other: 'NOT_FOUND',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'upgradeClusters',
      'mutation{ upgradeClusters(input:{clusters:["owned"], maxInFlight:0}){ id } }',
      {
        manager: 'BAD_USER_INPUT',
        other: 'BAD_USER_INPUT',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'cancelTask',
      'mutation{ cancelTask(id:"00000000-0000-0000-0000-000000000000"){ id } }',
      {
        manager: 'NOT_FOUND',
        other: 'NOT_FOUND',
        reader: 'FORBIDDEN',
        admin: 'NOT_FOUND',
        none: 'FORBIDDEN',
      },
    ],
    [
      'createNetworkProfile',
      'mutation{ createNetworkProfile(input:{name:"bad name", parameters:{}}){ name } }',
      {
        manager: 'FORBIDDEN',
        other: 'FORBIDDEN',
        reader: 'FORBIDDEN',
        admin: 'BAD_USER_INPUT',
        none: 'FORBIDDEN',
      },
    ],
    [
      'deleteNetworkProfile',
      'mutation{ deleteNetworkProfile(name:"missing"){ name } }',
      {
        manager: 'FORBIDDEN',
        other: 'FORBIDDEN',
        reader: 'FORBIDDEN',
        admin: 'NOT_FOUND',
        none: 'FORBIDDEN',
      },
    ],
  ];

  it.each(matrix)('authorises %s per scope', async (_name, query, expected) => {
    for (const who of WHO) {
      if (expected[who] === 'SKIP') continue;
      expect({ who, code: await codeOf(who, query) }).toEqual({ who, code: expected[who] });
    }
  });

  it('lists only your own clusters under manage, every cluster under admin and admin.read', async () => {
    const names = async (who: Who) =>
      ((await api.query(token[who], '{ clusters { name } }')).data?.clusters ?? []).map(
        (c: { name: string }) => c.name,
      );
    expect(await names('manager')).toEqual(['owned']);
    expect(await names('other')).toEqual([]);
    expect(await names('reader')).toEqual(['owned']);
    expect(await names('admin')).toEqual(['owned']);
  });

  it('filters subscriptions the same way: others cannot subscribe, readers can', async () => {
    const query = 'subscription{ clusterEvents(name:"owned"){ lastActionState } }';
    for (const [who, code] of [
      ['other', 'NOT_FOUND'],
      ['none', 'FORBIDDEN'],
    ] as const) {
      const ws = api.wsClient(token[who]);
      const sub = collect(ws, query, {}, () => true);
      const errors = (await sub.error) as { extensions?: { code?: string } }[];
      expect(errors[0]?.extensions?.code).toBe(code);
      await ws.dispose();
    }
    const readerWs = api.wsClient(token.reader);
    const managerWs = api.wsClient(token.manager);
    const asReader = collect<{ lastActionState: string }>(
      readerWs,
      query,
      {},
      (e) => e.lastActionState === 'succeeded',
    );
    const asManager = collect<{ lastActionState: string }>(
      managerWs,
      query,
      {},
      (e) => e.lastActionState === 'succeeded',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(
      (await api.query(token.manager, 'mutation{ upgradeCluster(name:"owned"){ name } }')).errors,
    ).toBeUndefined();
    expect((await asReader.done).at(-1)?.lastActionState).toBe('succeeded');
    expect((await asManager.done).at(-1)?.lastActionState).toBe('succeeded');
    await readerWs.dispose();
    await managerWs.dispose();
  });

  it('authorises task and taskEvents like clusters: the run owner, admins and readers; others not found', async () => {
    const run = await api.query(
      token.manager,
      'mutation{ upgradeClusters(input:{clusters:["owned"]}){ id } }',
    );
    expect(run.errors).toBeUndefined();
    const id = run.data.upgradeClusters.id as string;
    const subscription = 'subscription($id:ID!){ taskEvents(id:$id){ status } }';
    for (const [who, code] of [
      ['other', 'NOT_FOUND'],
      ['none', 'FORBIDDEN'],
    ] as const) {
      expect(await codeOf(who, `{ task(id:"${id}"){ status } }`)).toBe(code);
      const ws = api.wsClient(token[who]);
      const errors = (await collect(ws, subscription, { id }, () => true).error) as {
        extensions?: { code?: string };
      }[];
      expect(errors[0]?.extensions?.code).toBe(code);
      await ws.dispose();
    }
    const ws = api.wsClient(token.reader);
    const seen = collect<{ status: string }>(ws, subscription, { id }, (t) => t.status === 'done');
    for (const who of ['manager', 'reader', 'admin'] as const) {
      expect(await codeOf(who, `{ task(id:"${id}"){ status } }`)).toBe('OK');
    }
    await Promise.race([seen.done, settle('owned')]);
    await settle('owned');
    const status = (await api.query(token.reader, `{ task(id:"${id}"){ status } }`)).data.task.status;
    expect(status).toBe('done');
    await ws.dispose();
  });

  it('refuses a socket without a valid token', async () => {
    const closed = new Promise<{ code: number }>((resolve) => {
      const ws = api.wsClient('not-a-token', resolve);
      collect(ws, 'subscription{ clusterEvents(name:"owned"){ description } }', {}, () => true);
    });
    expect((await closed).code).toBe(4401);
  });

  it('answers UNAUTHENTICATED without a token, for introspection too, and introspects for a signed-in caller', async () => {
    expect(await codeOf(undefined, '{ plans { name } }')).toBe('UNAUTHENTICATED');
    expect(await codeOf(undefined, '{ __schema { queryType { name } } }')).toBe('UNAUTHENTICATED');
    const bad = await api.query('eyJhbGciOiJIUzI1NiJ9.e30.c2ln', '{ plans { name } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const schema = await api.query(token.reader, '{ __schema { queryType { name } } }');
    expect(schema.data?.__schema.queryType.name).toBe('Query');
  });

  describe('bad input names the field', () => {
    const create = (input: Record<string, unknown>) =>
      api.query(token.manager, 'mutation($i:CreateClusterInput!){ createCluster(input:$i){ name } }', {
        i: { name: 'fine', planName: 'small', externalHostname: 'fine.example.test', ...input },
      });
    it.each([
      ['name', { name: 'Bad_Name' }],
      ['name', { name: 'a'.repeat(41) }],
      ['planName', { planName: 'huge' }],
      ['externalHostname', { externalHostname: 'not a host' }],
      ['externalHostname', { externalHostname: '300.1.1.1' }],
      ['numNodes', { numNodes: 0 }],
      ['numNodes', { numNodes: 11 }],
      ['networkProfileName', { networkProfileName: 'missing' }],
    ])('createCluster rejects a bad %s', async (field, input) => {
      const result = await create(input);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('createCluster refuses a name in use (CONFLICT)', async () => {
      const result = await create({ name: 'owned' });
      expect(result.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    });

    it.each([
      ['numNodes', '{numNodes: 11}'],
      ['networkProfileName', '{networkProfileName: "missing"}'],
      ['drain.kubeletDrainTimeout', '{drain: {kubeletDrainTimeout: "2000"}}'],
      ['drain.kubeletDrainForce', '{drain: {kubeletDrainForce: "maybe"}}'],
    ])('updateCluster rejects a bad %s', async (field, input) => {
      const result = await api.query(
        token.manager,
        `mutation{ updateCluster(name:"owned", input:${input}){ name } }`,
      );
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('updateCluster with nothing to change is bad input', async () => {
      const result = await api.query(
        token.manager,
        `mutation{ updateCluster(name:"owned", input:{}){ name } }`,
      );
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('resizeCluster rejects workers outside 1..plan maximum', async () => {
      for (const n of [0, 11]) {
        const result = await api.query(
          token.manager,
          `mutation{ resizeCluster(name:"owned", numNodes:${n}){ name } }`,
        );
        expect(result.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'numNodes',
          allowed: '1 to 10',
        });
      }
    });

    it.each([
      ['clusters', '{clusters: []}'],
      ['canaries', '{clusters: ["owned"], canaries: ["elsewhere"]}'],
      ['maxInFlight', '{clusters: ["owned"], maxInFlight: 0}'],
    ])('upgradeClusters rejects a bad %s', async (field, input) => {
      const result = await api.query(token.manager, `mutation{ upgradeClusters(input:${input}){ id } }`);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it.each([
      ['name', '{name: "bad name", parameters: {}}'],
      ['parameters.lb_size', '{name: "p1", parameters: {lb_size: "huge"}}'],
      [
        'parameters.nodes_dns',
        '{name: "p1", parameters: {nodes_dns: ["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4"]}}',
      ],
    ])('createNetworkProfile rejects a bad %s', async (field, input) => {
      const result = await api.query(token.admin, `mutation{ createNetworkProfile(input:${input}){ name } }`);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('clusterCredentials needs the password', async () => {
      const result = await api.query(
        token.manager,
        `mutation{ clusterCredentials(name:"owned"){ kubeconfig } }`,
      );
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    });

    it('a change while an operation is in flight is CONFLICT', async () => {
      expect(
        (await api.query(token.manager, 'mutation{ resizeCluster(name:"owned", numNodes:2){ name } }'))
          .errors,
      ).toBeUndefined();
      const again = await api.query(
        token.manager,
        'mutation{ resizeCluster(name:"owned", numNodes:3){ name } }',
      );
      expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(await settle('owned')).toBe('succeeded');
    });
  });

  describe('guards', () => {
    it('refuses a costly query', async () => {
      // A page of up to 500 clusters with 500 events each is priced as asked, whatever the fleet now.
      const result = await api.query(
        token.admin,
        '{ clustersConnection(first: 500) { edges { node { events(limit: 500) { description } } } } }',
      );
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost' });
    });

    it('refuses too many aliases', async () => {
      const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: plans { name }`).join(' ');
      const result = await api.query(token.admin, `{ ${aliases} }`);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'aliases' });
    });

    it('refuses batched requests, bodies over the limit, and CSRF-able simple requests', async () => {
      const auth = { Authorization: `Bearer ${token.admin}` };
      const batch = await api.raw('POST', '/graphql', {
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify([{ query: '{ plans { name } }' }, { query: '{ me { name } }' }]),
      });
      expect(batch.status).toBe(400);
      const big = await api.raw('POST', '/graphql', {
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: `{ plans { name } } # ${'x'.repeat(1024 * 1024)}` }),
      });
      expect(big.status).toBe(413);
      const simple = await api.raw('GET', `/graphql?query=${encodeURIComponent('{ plans { name } }')}`, {
        headers: auth,
      });
      expect(simple.status).toBe(400);
      expect(simple.body).toContain('CSRF');
    });

    it('serves /healthz and /readyz to anyone, and Prometheus /metrics to callers who read every cluster', async () => {
      expect((await api.raw('GET', '/healthz')).status).toBe(200);
      expect((await api.raw('GET', '/readyz')).status).toBe(200);
      const anonymous = await api.raw('GET', '/metrics');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="pks"');
      expect(anonymous.body).not.toContain('pks_api');
      const bad = await api.raw('GET', '/metrics', { headers: { Authorization: 'Bearer garbage' } });
      expect(bad.status).toBe(401);
      const manager = await api.raw('GET', '/metrics', {
        headers: { Authorization: `Bearer ${token.manager}` },
      });
      expect(manager.status).toBe(403);
      expect(JSON.parse(manager.body)).toEqual({
        error: 'forbidden',
        error_description: '/metrics needs the pks.clusters.admin or pks.clusters.admin.read scope',
      });
      const metrics = await api.raw('GET', '/metrics', {
        headers: { Authorization: `Bearer ${token.reader}` },
      });
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('pks_api_graphql_requests_total');
      expect(metrics.body).toContain('pks_api_cluster_operations_total');
    });
  });

  it('audits every change: who, what, parameters, outcome', async () => {
    const events = await api.query(
      token.admin,
      '{ auditEvents(limit: 200) { actor action target outcome errorCode parameters } }',
    );
    const list = events.data.auditEvents as {
      actor: string;
      action: string;
      outcome: string;
      errorCode: string | null;
    }[];
    expect(list).toContainEqual(
      expect.objectContaining({ actor: 'manager-user', action: 'createCluster', outcome: 'succeeded' }),
    );
    expect(list).toContainEqual(
      expect.objectContaining({
        actor: 'reader-user',
        action: 'createCluster',
        outcome: 'failed',
        errorCode: 'FORBIDDEN',
      }),
    );
    const own = await api.query(token.other, '{ auditEvents { actor } }');
    expect(new Set(own.data.auditEvents.map((e: { actor: string }) => e.actor))).toEqual(
      new Set(['other-user']),
    );
  });

  it('deletes a cluster as admin, and the name can be reused', async () => {
    expect(
      (await api.query(token.admin, 'mutation{ deleteCluster(name:"owned"){ name } }')).errors,
    ).toBeUndefined();
    for (let i = 0; i < 300; i++) {
      const r = await api.query(token.admin, '{ cluster(name:"owned"){ name } }');
      if (r.errors?.[0]?.extensions?.code === 'NOT_FOUND') break;
      await new Promise((r) => setTimeout(r, 150));
    }
    const again = await api.query(
      token.manager,
      'mutation{ createCluster(input:{name:"owned", planName:"small", externalHostname:"owned.example.test", numNodes:1}){ name } }',
    );
    expect(again.errors).toBeUndefined();
    expect(await settle('owned')).toBe('succeeded');
  });
});
