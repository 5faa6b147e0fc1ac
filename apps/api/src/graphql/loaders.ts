import DataLoader from 'dataloader';
import type { ClusterNetworkRecord } from '../store/clusterNetworks.js';
import type { ClusterRecord } from '../store/clusterStore.js';
import type { NetworkProfileRecord } from '../store/networkProfileStore.js';
import type { ClusterEventMessage } from '../services/events.js';
import { clusterNodesOf } from './clusterNodes.js';
import { requireCaller, type ApiContext } from './context.js';
import type { ClusterNode } from './types.js';

/**
 * The batched reads of one request. A list of N clusters asking for `events` or `nsxDetails` costs one
 * query per field, not N: every resolver of the request asks its loader, and the loader sends the keys
 * it collected in one tick as one set-based query. Loaders live as long as the request's context object
 * (HTTP request, or one graphql-ws operation), so nothing is cached across requests or callers.
 */
export interface Loaders {
  /** Clusters the caller may see, by name (undefined: not found for this caller). */
  cluster: DataLoader<string, ClusterRecord | undefined>;
  /** Recent events by cluster uuid, per limit. */
  events: DataLoader<{ uuid: string; limit: number }, ClusterEventMessage[], string>;
  network: DataLoader<string, ClusterNetworkRecord | undefined>;
  profile: DataLoader<string, NetworkProfileRecord | undefined>;
  /** VMs by cluster uuid, from the Director (the deployments of one request are read concurrently, once each). */
  nodes: DataLoader<string, ClusterNode[]>;
}

const byContext = new WeakMap<ApiContext, Loaders>();

export function loadersOf(ctx: ApiContext): Loaders {
  let loaders = byContext.get(ctx);
  if (loaders === undefined) {
    loaders = createLoaders(ctx);
    byContext.set(ctx, loaders);
  }
  return loaders;
}

function createLoaders(ctx: ApiContext): Loaders {
  const { clusters, networkProfiles, director } = ctx.services;
  return {
    cluster: new DataLoader(async (names) => {
      const found = await clusters.getMany(requireCaller(ctx), names);
      return names.map((name) => found.get(name));
    }),
    events: new DataLoader(
      async (keys) => {
        // One query per distinct limit (in practice one: every `events` of a request asks the same).
        const limits = [...new Set(keys.map((k) => k.limit))];
        const byLimit = new Map(
          await Promise.all(
            limits.map(
              async (limit) =>
                [
                  limit,
                  await clusters.eventsOf(
                    keys.filter((k) => k.limit === limit).map((k) => k.uuid),
                    limit,
                  ),
                ] as const,
            ),
          ),
        );
        return keys.map((k) => byLimit.get(k.limit)?.get(k.uuid) ?? []);
      },
      { cacheKeyFn: (k) => `${k.limit}:${k.uuid}` },
    ),
    network: new DataLoader(async (uuids) => {
      const found = await clusters.networksOf(uuids);
      return uuids.map((uuid) => found.get(uuid));
    }),
    profile: new DataLoader(async (names) => {
      const all = await networkProfiles.list(requireCaller(ctx));
      return names.map((name) => all.find((p) => p.name === name));
    }),
    // An Error for a key fails only that key's load, so one deployment the Director cannot list leaves
    // the other clusters' nodes (and every other field) intact.
    nodes: new DataLoader<string, ClusterNode[]>((uuids) => clusterNodesOf(director, uuids)),
  };
}
