import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@openpks/config';
import { buildApiSchema } from '../graphql/schema.js';
import { graphql } from '../graphql/graphqlRealm.js';
import {
  DEFAULT_QUERY_LIMITS,
  EXTERNAL_CALL_COST,
  estimateQueryCost,
  fieldPrices,
  queryCostError,
  queryLimitRules,
} from './guards.js';

const plans = parseConfig({}).plans;
// The largest default plan: 5 masters and up to 100 workers.
const VMS = 105;

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildApiSchema();
});

const check = (query: string, limits = DEFAULT_QUERY_LIMITS) =>
  graphql.validate(schema, graphql.parse(query), queryLimitRules(limits)).map((e) => e.extensions?.limit);

/** The estimate of a valid operation, and how often it asked for the caller's cluster count. */
const price = async (
  query: string,
  options: { variables?: Record<string, unknown>; visible?: number; validate?: boolean } = {},
) => {
  const document = graphql.parse(query);
  if (options.validate !== false) expect(graphql.validate(schema, document)).toEqual([]);
  let counted = 0;
  const cost = await estimateQueryCost({
    schema,
    prices: fieldPrices(plans),
    document,
    operation: graphql.getOperationAST(document)!,
    variables: options.variables,
    visibleClusters: async () => {
      counted += 1;
      return options.visible ?? 0;
    },
  });
  return { total: cost?.total, parts: cost?.parts, counted };
};

describe('query limits', () => {
  it('passes an ordinary query', () => {
    expect(check('{ clusters { name events { stage progress } } plans { name } }')).toEqual([]);
  });

  it('refuses a query deeper than the limit, through fragments too', () => {
    const limits = { ...DEFAULT_QUERY_LIMITS, maxDepth: 2 };
    expect(check('{ clusters { events { stage } } }', limits)).toEqual(['depth']);
    expect(check('{ clusters { ...F } } fragment F on Cluster { events { stage } }', limits)).toEqual([
      'depth',
    ]);
    expect(check('{ clusters { name } }', limits)).toEqual([]);
  });

  it('passes the standard introspection query (GraphiQL, codegen), nested as deep as the schema', async () => {
    const introspection = graphql.getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true });
    expect(check(introspection)).toEqual([]);
    expect((await price(introspection)).total).toBeLessThan(DEFAULT_QUERY_LIMITS.maxCost);
    // Data below introspection still counts.
    expect(
      check('{ __typename clusters { events { stage } } }', { ...DEFAULT_QUERY_LIMITS, maxDepth: 2 }),
    ).toEqual(['depth']);
  });

  it('refuses too many aliases', () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `p${i}: plans { name }`).join(' ')} }`;
    expect(check(query)).toEqual(['aliases']);
  });
});

describe('query cost', () => {
  const events = (limit: string) => `cluster(name: "a") { events${limit} { description } }`;

  it('prices a list by its size argument: a literal, a variable, a default, clamped as the resolver clamps it', async () => {
    // The cluster 1, each event 1; scalars come with their row.
    expect((await price(`{ ${events('(limit: 20)')} }`)).total).toBe(21);
    const byVariable = `query($l: Int!) { ${events('(limit: $l)')} }`;
    expect((await price(byVariable, { variables: { l: 300 } })).total).toBe(301);
    expect((await price(byVariable, { variables: { l: 100_000 } })).total).toBe(501);
    expect((await price(byVariable, { variables: { l: -3 } })).total).toBe(2);
    expect((await price(`query($l: Int! = 7) { ${events('(limit: $l)')} }`)).total).toBe(8);
    // Not given: the argument's default (50). Null: the most the field serves (500).
    const nullable = `query($l: Int) { ${events('(limit: $l)')} }`;
    expect((await price(nullable)).total).toBe(51);
    expect((await price(nullable, { variables: { l: null } })).total).toBe(501);
    expect((await price(`{ ${events('')} }`)).total).toBe(51);
  });

  it('leaves variables graphql-js will refuse to graphql-js', async () => {
    const query = `query($l: Int!) { ${events('(limit: $l)')} }`;
    expect((await price(query, { variables: { l: 'many' } })).total).toBeUndefined();
    expect((await price(query)).total).toBeUndefined();
  });

  it('prices lists of clusters by the clusters the caller sees, counting them only when it must', async () => {
    expect(await price('{ plans { name } me { name } cluster(name: "a") { name } }')).toMatchObject({
      total: 3 + 1 + 1,
      counted: 0,
    });
    expect(await price('{ clusters { name } }', { visible: 12 })).toMatchObject({ total: 12, counted: 1 });
    expect(await price('{ clusters { name } }', { visible: 0 })).toMatchObject({ total: 0, counted: 1 });
    expect(
      await price('{ task(id: "t") { clusters { clusterName } } tasks { id } }', { visible: 7 }),
    ).toMatchObject({ total: 1 + 7 + 100, counted: 1 });
  });

  it('prices a cluster’s nodes as a Director call per cluster, with the largest plan’s VMs', async () => {
    const perCluster = 1 + EXTERNAL_CALL_COST + VMS;
    expect((await price('{ clusters { name nodes { id state } } }', { visible: 3 })).total).toBe(
      3 * perCluster,
    );
    expect((await price('{ cluster(name: "a") { nodes { id } } }')).total).toBe(perCluster);
  });

  it('prices a change that calls the broker as such', async () => {
    expect((await price('mutation { deleteCluster(name: "a") { name } }')).total).toBe(
      EXTERNAL_CALL_COST + 1,
    );
    expect(
      (await price('mutation { createNetworkProfile(input: { name: "p", parameters: {} }) { name } }')).total,
    ).toBe(1);
  });

  it('sizes the edges of a connection by its page', async () => {
    const page = (first: string) =>
      `{ clustersConnection${first} { totalCount edges { node { events(limit: 10) { description } } } } }`;
    // The connection 1; each edge 1 + its node 1 + 10 events.
    expect((await price(page('(first: 20)'))).total).toBe(1 + 20 * 12);
    expect((await price(page(''))).total).toBe(1 + 50 * 12);
  });

  it('counts every aliased copy, and a field selected twice under one name once (it runs once)', async () => {
    expect((await price('{ a: clusters { name } b: clusters { name } }', { visible: 5 })).total).toBe(10);
    expect((await price('{ clusters { name } clusters { uuid } }', { visible: 5 })).total).toBe(5);
  });

  it('follows fragments and inline fragments, and a fragment cycle cannot loop', async () => {
    const query = `query($l: Int!) { ...Root }
      fragment Root on Query { clusters { ...Events ... on Cluster { e3: events(limit: $l) { description } } } }
      fragment Events on Cluster { e1: events(limit: $l) { ...Line } e2: events(limit: $l) { ...Line } }
      fragment Line on ClusterEvent { description }`;
    expect((await price(query, { variables: { l: 100 }, visible: 2 })).total).toBe(2 * (1 + 3 * 100));
    const cycle = `{ clusters { ...A } }
      fragment A on Cluster { events(limit: 2) { description } ...B }
      fragment B on Cluster { ...A }`;
    expect(graphql.validate(schema, graphql.parse(cycle)).map((e) => e.message)).toEqual([
      'Cannot spread fragment "A" within itself via "B".',
    ]);
    expect((await price(cycle, { visible: 4, validate: false })).total).toBe(4 * 3);
  });

  it('prices introspection as the in-memory schema it reads', async () => {
    expect((await price('{ __typename __schema { types { name fields { name } } } }')).total).toBe(1);
  });

  it('has a size for every list of objects in the schema', () => {
    const prices = fieldPrices(plans);
    const unpriced: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!graphql.isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const listed = graphql.isListType(graphql.getNullableType(field.type));
        if (listed && graphql.isCompositeType(graphql.getNamedType(field.type))) {
          if (prices[`${type.name}.${field.name}`]?.list === undefined)
            unpriced.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(unpriced).toEqual([]);
  });

  it('explains a refusal: the total, the costliest root fields grouped, the limit', async () => {
    const copies = Array.from(
      { length: 15 },
      (_, i) => `a${i}: clusters { events(limit: $l) { description } }`,
    );
    const query = `query($l: Int!) { ${copies.join(' ')} plans { name } }`;
    const cost = await price(query, { variables: { l: 500 }, visible: 2 });
    expect(cost.total).toBe(15 * 2 * 501 + 3);
    const error = queryCostError({ total: cost.total!, parts: cost.parts! }, 5_000);
    expect(error.message).toBe(
      'query: the estimated cost is 15,033 (15 × clusters ×2 visible × events limit $l = 500 = 1,002 each, ' +
        'plans ×3 (configured plans) = 3); at most 5,000 is allowed',
    );
    expect(error.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'query',
      limit: 'cost',
      cost: 15_033,
      maxCost: 5_000,
    });
  });
});
