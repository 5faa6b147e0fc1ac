import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import {
  startTestApi,
  type GraphQLResult,
  type TestApi,
  seedCluster,
  recordingStatements,
} from './testing/index.js';

interface Connection {
  edges: { cursor: string; node: { name: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

// Reads of many clusters: cursor pages of clustersConnection, and list fields batched (no query per
// cluster). Clusters are recorded straight in the API's table; no broker is needed to read them.

describe('cluster lists', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;
  const statements: string[] = [];
  const token = { alice: '', bob: '', reader: '' };

  const seed = async (name: string, owner: string) => {
    const uuid = await seedCluster(db, name, owner, ['one', 'two', 'three']);
    await db.query(
      `INSERT INTO api.cluster_networks (cluster_uuid, profile_parameters, details) VALUES ($1, '{}', $2::jsonb)`,
      [uuid, JSON.stringify({ node_subnet: `10.0.${name.length}.0/24` })],
    );
  };

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db });
    // Every statement the API sends, to tell one query per list from one per cluster.
    const counting = recordingStatements(db, statements);
    api = await startTestApi({
      uaa,
      db: counting,
      // Reads never reach the broker.
      broker: { url: 'https://127.0.0.1:9', username: 'unused', password: 'unused' },
    });
    await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await uaa.createUser('bob', 'bob-password-1', ['pks.clusters.manage']);
    await uaa.createUser('reader', 'reader-password-1', ['pks.clusters.admin.read']);
    for (const who of ['alice', 'bob', 'reader'] as const) {
      token[who] = (await uaa.tokenFor({ username: who, password: `${who}-password-1` })).access_token;
    }
    for (let i = 0; i < 7; i++) await seed(`a-${i}`, 'alice');
    for (let i = 0; i < 3; i++) await seed(`b-${i}`, 'bob');
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  const PAGE = `query($first: Int, $after: String) { clustersConnection(first: $first, after: $after) {
    edges { cursor node { name owner } } pageInfo { hasNextPage endCursor } totalCount } }`;

  it('pages through your clusters in name order, each cursor leading to the next page', async () => {
    const names: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: GraphQLResult<{ clustersConnection: Connection }> = await api.query(token.alice, PAGE, {
        first: 3,
        after,
      });
      expect(result.errors).toBeUndefined();
      const connection = result.data!.clustersConnection;
      expect(connection.totalCount).toBe(7);
      names.push(...connection.edges.map((e) => e.node.name));
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(names).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6']);
  });

  it('gives readers every cluster, 50 to a page unless asked otherwise', async () => {
    const { data } = await api.query(token.reader, PAGE);
    expect(data.clustersConnection.totalCount).toBe(10);
    expect(data.clustersConnection.edges).toHaveLength(10);
    expect(data.clustersConnection.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a page over 500, a negative one and a cursor it never issued, as BAD_USER_INPUT', async () => {
    for (const variables of [{ first: 501 }, { first: -1 }, { first: 2, after: 'not-a-cursor' }]) {
      const { errors } = await api.query(token.alice, PAGE, variables);
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const { errors } = await api.query(token.alice, PAGE, { first: 500 });
    expect(errors).toBeUndefined();
  });

  it('keeps the clusters list field as it was: all your clusters, by name', async () => {
    const { data } = await api.query(token.bob, '{ clusters { name owner } }');
    expect(data.clusters).toEqual([
      { name: 'b-0', owner: 'bob' },
      { name: 'b-1', owner: 'bob' },
      { name: 'b-2', owner: 'bob' },
    ]);
  });

  it('reads the events and NSX details of a whole list in one query each, not one per cluster', async () => {
    statements.length = 0;
    const { data, errors } = await api.query(
      token.reader,
      `{ clusters { name events(limit: 2) { description } nsxDetails { nodeSubnet } } }`,
    );
    expect(errors).toBeUndefined();
    expect(data.clusters).toHaveLength(10);
    expect(data.clusters[0]).toEqual({
      name: 'a-0',
      events: [{ description: 'a-0 two' }, { description: 'a-0 three' }],
      nsxDetails: { nodeSubnet: '10.0.3.0/24' },
    });
    expect(statements.filter((s) => s.includes('api.cluster_events'))).toHaveLength(1);
    expect(statements.filter((s) => s.includes('api.cluster_networks'))).toHaveLength(1);
    expect(statements.filter((s) => s.includes('FROM api.clusters WHERE name'))).toHaveLength(1);
  });
});
