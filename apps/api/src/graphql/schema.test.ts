import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
    const sdl = await printApiSchema();
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
