import { describe, expect, it } from 'vitest';
import { buildApiSchema } from '../graphql/schema.js';
import { graphql } from '../graphql/graphqlRealm.js';
import { DEFAULT_QUERY_LIMITS, queryLimitRules } from './guards.js';

const check = async (query: string, limits = DEFAULT_QUERY_LIMITS) =>
  graphql
    .validate(await buildApiSchema(), graphql.parse(query), queryLimitRules(limits))
    .map((e) => e.extensions?.limit);

describe('query limits', () => {
  it('passes an ordinary query', async () => {
    expect(await check('{ clusters { name events { stage progress } } plans { name } }')).toEqual([]);
  });

  it('refuses a query deeper than the limit, through fragments too', async () => {
    const limits = { ...DEFAULT_QUERY_LIMITS, maxDepth: 2 };
    expect(await check('{ clusters { events { stage } } }', limits)).toEqual(['depth']);
    expect(await check('{ clusters { ...F } } fragment F on Cluster { events { stage } }', limits)).toEqual([
      'depth',
    ]);
    expect(await check('{ clusters { name } }', limits)).toEqual([]);
  });

  it('counts list fields by their limit when it estimates cost', async () => {
    expect(await check('{ clusters { events(limit: 10) { stage } } }')).toEqual([]);
    expect(await check('{ clusters { events(limit: 500) { stage task description } } }')).toEqual(['cost']);
  });

  it('refuses too many aliases', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `p${i}: plans { name }`).join(' ')} }`;
    expect(await check(query)).toEqual(['aliases']);
  });
});
