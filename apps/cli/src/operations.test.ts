import { readFileSync } from 'node:fs';
import { buildSchema, parse, print, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from './operations.js';

const root = new URL('../../../', import.meta.url);
const schema = buildSchema(readFileSync(new URL('graphql/schema.graphql', root), 'utf8'));
const shared = readFileSync(new URL('graphql/operations/cli.graphql', root), 'utf8');

describe('the CLI operations', () => {
  it('validate against graphql/schema.graphql', () => {
    for (const op of ALL_OPERATIONS) {
      expect(validate(schema, parse(op.document)).map((e) => `${op.name}: ${e.message}`)).toEqual([]);
    }
  });

  it('are the same documents as graphql/operations/cli.graphql', () => {
    expect(validate(schema, parse(shared))).toEqual([]);
    const fromFile = parse(shared).definitions.map((d) => print(d));
    expect(fromFile).toEqual(ALL_OPERATIONS.map((op) => print(parse(op.document))));
  });
});
