import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApiSchema } from '../graphql/schema.js';
import type { Caller } from '../services/access.js';
import { AnswerCache } from './answerCache.js';

const caller = (name: string, scopes: string[] = ['pks.clusters.manage']): Caller =>
  ({ name, clientId: 'pks_cli', scopes, token: {} }) as unknown as Caller;

const answer = (text: string) => ({
  status: 200,
  headers: [['content-type', 'application/json; charset=utf-8']] as const,
  body: Buffer.from(text),
});

describe('AnswerCache', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildApiSchema();
  });

  const enabled = (options: ConstructorParameters<typeof AnswerCache>[1] = {}) => {
    const cache = new AnswerCache(schema, options);
    cache.enable();
    return cache;
  };

  it('caches queries over stored cluster data, fragments and aliases included', () => {
    const cache = enabled();
    const alice = caller('alice');
    for (const query of [
      '{ clusters { name lastActionState events(limit: 5) { description } nsxDetails { nodesDns } } }',
      'query C($n: String!) { cluster(name: $n) { ...F } } fragment F on Cluster { name owner }',
      '{ mine: clusters { name } plans { name } pksVersion networkProfiles { name } __typename }',
      '{ clustersConnection(first: 10) { edges { node { ... on Cluster { name } } } totalCount } }',
    ]) {
      expect(cache.keyOf({ query }, alice), query).toBeDefined();
    }
  });

  it('never caches live fields, mutations, other roots, or what it cannot analyse', () => {
    const cache = enabled();
    const alice = caller('alice');
    for (const query of [
      '{ clusters { name nodes { name } } }',
      '{ cluster(name: "a") { ...F } } fragment F on Cluster { nodes { ips } }',
      '{ clusters { name } me { name } }',
      '{ tasks { id } }',
      '{ auditEvents { action } }',
      '{ __schema { types { name } } }',
      'mutation { deleteCluster(name: "a") { name } }',
      '{ clusters { name ',
      '{ clusters { noSuchField } }',
      '{ ...F } fragment F on Query { clusters { name } ...F }',
    ]) {
      expect(cache.keyOf({ query }, alice), query).toBeUndefined();
    }
    expect(cache.keyOf({ query: '{ clusters { name } }', extensions: { persistedQuery: {} } }, alice)).toBe(
      undefined,
    );
  });

  it('picks the named operation of a document with several', () => {
    const cache = enabled();
    const query = 'query A { clusters { name } } mutation B { deleteCluster(name: "a") { name } }';
    expect(cache.keyOf({ query, operationName: 'A' }, caller('alice'))).toBeDefined();
    expect(cache.keyOf({ query, operationName: 'B' }, caller('alice'))).toBeUndefined();
    expect(cache.keyOf({ query }, caller('alice'))).toBeUndefined();
  });

  it('keys answers by caller, scopes, operation and variables', () => {
    const cache = enabled();
    const query = 'query($n: String!) { cluster(name: $n) { name } }';
    const keys = new Set([
      cache.keyOf({ query, variables: { n: 'a' } }, caller('alice')),
      cache.keyOf({ query, variables: { n: 'b' } }, caller('alice')),
      cache.keyOf({ query, variables: { n: 'a' } }, caller('bob')),
      cache.keyOf({ query, variables: { n: 'a' } }, caller('alice', ['pks.clusters.admin'])),
    ]);
    expect(keys.size).toBe(4);
    expect(cache.keyOf({ query, variables: { n: 'a' } }, caller('alice'))).toBe(
      cache.keyOf({ query, variables: { n: 'a' } }, caller('alice')),
    );
  });

  it('serves nothing while disabled, and drops what was computed across a change', () => {
    const cache = new AnswerCache(schema);
    expect(cache.keyOf({ query: '{ clusters { name } }' }, caller('alice'))).toBeUndefined();
    cache.enable();
    const key = cache.keyOf({ query: '{ clusters { name } }' }, caller('alice'))!;
    const before = cache.generation;
    cache.invalidate();
    expect(cache.set(key, before, answer('stale'))).toBe(false);
    expect(cache.get(key)).toBeUndefined();
    expect(cache.set(key, cache.generation, answer('fresh'))).toBe(true);
    expect(cache.get(key)?.body.toString()).toBe('fresh');
    cache.invalidate();
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, cache.generation, answer('again'));
    cache.disable();
    expect(cache.get(key)).toBeUndefined();
    expect(cache.set(key, cache.generation, answer('off'))).toBe(false);
  });

  it('forgets the least recently used beyond its entries or bytes, and answers older than maxAgeMs', () => {
    let now = 0;
    const cache = enabled({ maxEntries: 2, maxBytes: 40, maxAgeMs: 1_000, now: () => now });
    const g = cache.generation;
    cache.set('a', g, answer('aaaa'));
    cache.set('b', g, answer('bbbb'));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', g, answer('cccc'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.size).toBe(2);
    cache.set('d', g, answer('d'.repeat(10)));
    cache.set('e', g, answer('e'.repeat(10)));
    cache.set('f', g, answer('f'.repeat(10)));
    expect(cache.size).toBeLessThanOrEqual(2);
    expect(cache.set('huge', g, answer('x'.repeat(11)))).toBe(false); // over a quarter of maxBytes
    now = 1_001;
    expect(cache.get('f')).toBeUndefined();
  });
});
