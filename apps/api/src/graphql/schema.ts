import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { graphql } from './graphqlRealm.js';
import { buildSchema } from 'type-graphql';
import { resolvers } from './resolvers.js';

/**
 * The API's schema, from the resolver classes. Subscriptions bring their own `subscribe` over the db
 * pub/sub (events cross replicas); type-graphql still insists on a pubSub, so it gets an unused one.
 */
export async function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    pubSub: createPubSub(),
    validate: false,
    emitSchemaFile: false,
  });
}

/** The SDL committed as `graphql/schema.graphql`, sorted so diffs show real changes only. */
export async function printApiSchema(): Promise<string> {
  return `${graphql.printSchema(graphql.lexicographicSortSchema(await buildApiSchema()))}\n`;
}
