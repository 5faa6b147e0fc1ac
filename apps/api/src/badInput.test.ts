import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type GraphQLResult, type TestApi } from './testing/index.js';

// What a client reads in a GraphQL error's `message` for bad input: the domain's one rule,
// `<field path>: <reason> (allowed: …)`, one line per bad field and every bad field in one answer, from
// the services and from graphql-js's own variable coercion alike.

describe('bad input in GraphQL answers', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  let api: TestApi;
  let manager: string;
  let admin: string;

  const only = (result: GraphQLResult) => {
    expect(result.errors).toHaveLength(1);
    return result.errors![0]!;
  };

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({ uaa, db, ipRange: '127.1.177.0/24' });
    broker = await startTestBroker({ uaa, bosh, db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
      director: bosh.client,
    });
    await uaa.createUser('manager-user', 'manager-password-1', ['pks.clusters.manage']);
    await uaa.createUser('admin-user', 'admin-password-1', ['pks.clusters.admin']);
    manager = (await uaa.tokenFor({ username: 'manager-user', password: 'manager-password-1' })).access_token;
    admin = (await uaa.tokenFor({ username: 'admin-user', password: 'admin-password-1' })).access_token;
    const made = await api.query(
      manager,
      'mutation{ createCluster(input:{name:"c1", planName:"small", externalHostname:"c1.example.test", numNodes:1}){ name } }',
    );
    expect(made.errors).toBeUndefined();
    for (let i = 0; i < 300; i++) {
      const { data } = await api.query<{ cluster: { lastActionState: string } }>(
        manager,
        '{ cluster(name:"c1"){ lastActionState } }',
      );
      if (data?.cluster.lastActionState === 'succeeded') break;
      expect(data?.cluster.lastActionState).toBe('in progress');
      await new Promise((r) => setTimeout(r, 150));
    }
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await broker?.stop();
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  const createCluster = (input: Record<string, unknown>) =>
    api.query(manager, 'mutation($input:CreateClusterInput!){ createCluster(input:$input){ name } }', {
      input: { name: 'fine', planName: 'small', externalHostname: 'fine.example.test', ...input },
    });

  it('names a single bad field in the message, with what is allowed, and keeps the parts in extensions', async () => {
    const error = only(await createCluster({ planName: 'huge' }));
    expect(error.message).toBe('planName: plan "huge" not found (allowed: small, medium, large)');
    expect(error.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'planName',
      allowed: 'small, medium, large',
      fields: [{ field: 'planName', message: 'plan "huge" not found', allowed: 'small, medium, large' }],
    });
  });

  it('reports every bad field of createCluster at once, one line each', async () => {
    const error = only(
      await createCluster({
        name: 'Bad_Name',
        externalHostname: '300.1.1.1',
        numNodes: 11,
        networkProfileName: 'np-x',
      }),
    );
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^name: cluster name "Bad_Name" contains uppercase letters \(allowed: .+\)$/),
      expect.stringMatching(/^externalHostname: "300\.1\.1\.1" is not a valid IPv4 address \(allowed: .+\)$/),
      "numNodes: 11 workers is outside plan small's limits (allowed: 1 to 10)",
      'networkProfileName: network profile "np-x" not found',
    ]);
    expect((error.extensions?.fields as { field: string }[]).map((f) => f.field)).toEqual([
      'name',
      'externalHostname',
      'numNodes',
      'networkProfileName',
    ]);
    expect(error.extensions?.field).toBeUndefined();
  });

  it('reports every bad field of updateCluster before changing anything', async () => {
    const error = only(
      await api.query(
        manager,
        'mutation{ updateCluster(name:"c1", input:{numNodes: 0, drain:{kubeletDrainTimeout:"2000", kubeletDrainForce:"maybe"}}){ name } }',
      ),
    );
    expect(error.message).toBe(
      [
        "numNodes: 0 workers is outside plan small's limits (allowed: 1 to 10)",
        'drain.kubeletDrainTimeout: "2000" is not allowed (allowed: an integer from 0 to 1440)',
        'drain.kubeletDrainForce: "maybe" is not allowed (allowed: true or false)',
      ].join('\n'),
    );
    const { data } = await api.query<{ cluster: { lastAction: string; workerInstances: number } }>(
      manager,
      '{ cluster(name:"c1"){ lastAction workerInstances } }',
    );
    expect(data?.cluster).toEqual({ lastAction: 'CREATE', workerInstances: 1 });
  });

  it('says where a subscription sent over HTTP would work, instead of failing inside it', async () => {
    const result = await api.query(admin, 'subscription { clusterFeed { type } }');
    expect(result.status).toBe(400);
    expect(only(result)).toMatchObject({
      message:
        'query: a subscription is served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP ' +
        '(allowed: queries and mutations over HTTP; subscriptions over WebSocket)',
      extensions: { code: 'BAD_USER_INPUT', field: 'query' },
    });
  });

  it('says what is wrong without a field when no single field is to blame', async () => {
    const error = only(await api.query(manager, 'mutation{ updateCluster(name:"c1", input:{}){ name } }'));
    expect(error.message).toBe('nothing to change: give at least one of numNodes, networkProfileName, drain');
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('names the bad fields of upgradeClusters and of clusterCredentials', async () => {
    const upgrade = only(
      await api.query(
        manager,
        'mutation{ upgradeClusters(input:{clusters:["c1"], canaries:["c9"], maxInFlight:0}){ id } }',
      ),
    );
    expect(upgrade.message).toBe(
      [
        'canaries: "c9" is not among the clusters to upgrade (allowed: some of c1)',
        'maxInFlight: 0 is not allowed (allowed: 1 to 100)',
      ].join('\n'),
    );
    const credentials = only(
      await api.query(manager, 'mutation{ clusterCredentials(name:"c1"){ kubeconfig } }'),
    );
    expect(credentials.message).toBe(
      "password: is required: UAA issues the kubeconfig's OIDC tokens with it",
    );
    const wrong = only(
      await api.query(manager, 'mutation{ clusterCredentials(name:"c1", password:"not-it"){ kubeconfig } }'),
    );
    expect(wrong.message).toBe('password: was rejected by UAA; check it and try again');
    expect(wrong.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('names network profile parameters by their path in the profile, each on its own line', async () => {
    const createProfile = (name: string, parameters: Record<string, unknown>) =>
      api.query(
        admin,
        'mutation($input:NetworkProfileInput!){ createNetworkProfile(input:$input){ name } }',
        {
          input: { name, parameters },
        },
      );
    const one = only(await createProfile('np1', { lb_size: 'huge' }));
    expect(one.message).toBe('parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)');
    const several = only(await createProfile('bad name', { lb_size: 'huge', nodes_dns: ['x'] }));
    expect(several.message).toBe(
      [
        'name: "bad name" is not a valid network profile name (allowed: letters, digits, _ . -, at most 63 characters)',
        'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)',
        'parameters.nodes_dns[0]: "x" is not an IPv4 address (allowed: an IPv4 address such as 10.0.0.2)',
      ].join('\n'),
    );
  });

  it('names the field of a variable graphql-js cannot coerce, in the same form', async () => {
    const tooBig = only(
      await api.query(
        manager,
        'mutation($numNodes:Int!){ resizeCluster(name:"c1", numNodes:$numNodes){ name } }',
        {
          numNodes: 99_999_999_999,
        },
      ),
    );
    expect(tooBig.message).toBe(
      'numNodes: 99999999999 is not a whole number that fits in 32 bits (allowed: a whole number from -2147483648 to 2147483647)',
    );
    expect(tooBig.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'numNodes' });

    const nested = only(await createCluster({ numNodes: 'three' }));
    expect(nested.message).toBe(
      'numNodes: "three" is not a whole number (allowed: a whole number from -2147483648 to 2147483647)',
    );

    // A value with "; " in it does not cut the sentence short.
    const semicolon = only(await createCluster({ numNodes: 'a; b' }));
    expect(semicolon.message).toBe(
      'numNodes: "a; b" is not a whole number (allowed: a whole number from -2147483648 to 2147483647)',
    );
    const listEntry = only(
      await api.query(
        manager,
        'mutation($input:UpgradeClustersInput!){ upgradeClusters(input:$input){ id } }',
        { input: { clusters: ['c1', 7.5] } },
      ),
    );
    expect(listEntry.message).toBe('clusters[1]: 7.5 is not a String');

    const missing = only(
      await api.query(
        manager,
        'mutation($input:CreateClusterInput!){ createCluster(input:$input){ name } }',
        {
          input: { name: 'fine', externalHostname: 'fine.example.test' },
        },
      ),
    );
    expect(missing.message).toBe('planName: is required (allowed: a value of type String!)');

    const drain = only(
      await api.query(
        manager,
        'mutation($input:UpdateClusterInput!){ updateCluster(name:"c1", input:$input){ name } }',
        {
          input: { drain: { kubeletDrainTimeout: 5 } },
        },
      ),
    );
    expect(drain.message).toMatch(/^drain\.kubeletDrainTimeout: 5 is not a String$/);

    const absent = only(
      await api.query(
        manager,
        'mutation($numNodes:Int!){ resizeCluster(name:"c1", numNodes:$numNodes){ name } }',
        {},
      ),
    );
    expect(absent.message).toBe('numNodes: is required (allowed: a value of type Int!)');
  });
});
