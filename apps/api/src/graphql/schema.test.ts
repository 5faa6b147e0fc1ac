import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printApiSchema } from './schema.js';

const committed = fileURLToPath(new URL('../../../../graphql/schema.graphql', import.meta.url));

describe('graphql/schema.graphql', () => {
  it('matches the schema the resolvers generate (run `npm run generate:schema -w @openpks/api` when it fails)', async () => {
    const generated = await printApiSchema();
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(committed, generated);
    expect(readFileSync(committed, 'utf8')).toBe(generated);
  });

  it('has the names other components rely on (DESIGN §6)', async () => {
    // Without the descriptions (every argument has one, which puts arguments on lines of their own).
    const sdl = (await printApiSchema())
      .replace(/\s*"""[\s\S]*?"""/g, '')
      .replace(/\(\s+/g, '(')
      .replace(/\s+\)/g, ')');
    for (const name of [
      'plans: [Plan!]!',
      'clusters: [Cluster!]!',
      'cluster(name: String!): Cluster!',
      'networkProfiles',
      'createCluster(',
      'updateCluster(',
      'resizeCluster(',
      'upgradeCluster(',
      'upgradeClusters(',
      'deleteCluster(',
      'clusterCredentials(',
      'createNetworkProfile(',
      'deleteNetworkProfile(',
      'task(id: ID!): Task!',
      'cancelTask(',
      'clusterEvents(name: String!): ClusterEvent!',
      'taskEvents(id: ID!): Task!',
    ]) {
      expect(sdl).toContain(name);
    }
  });
});

/**
 * Every type, field, argument and enum value without a description. The root operation types are left
 * out: type-graphql gives them no description, and the explorer names them for what they are.
 */
function undescribed(schema: GraphQLSchema): string[] {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || (isSpecifiedScalarType(type) as boolean)) continue;
    if (!type.description && !roots.has(type as never)) missing.push(type.name);
    if (isObjectType(type) || isInputObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : [])
          if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    if (isEnumType(type))
      for (const value of type.getValues())
        if (!value.description) missing.push(`${type.name}.${value.name}`);
  }
  return missing;
}

describe('the schema’s descriptions', () => {
  it('describe every type, field, argument and enum value (the explorer’s docs pane shows them)', async () => {
    // From the printed SDL: type-graphql's schema objects belong to another copy of graphql-js.
    expect(undescribed(buildSchema(await printApiSchema()))).toEqual([]);
  });
});
