import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';

/**
 * `graphql` as Node loads it. The package has no exports map, so Node (and with it type-graphql, Apollo
 * and graphql-ws) loads its CommonJS build, while vite's resolver (vitest) would give our sources the .mjs
 * build: two realms, and graphql-js refuses types from "another module or realm". Loading it here the way
 * Node does keeps one copy under both the build and the tests. Import types from 'graphql' as usual.
 */
export const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQL;
