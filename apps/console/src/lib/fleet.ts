import type {
  ConsoleClusterEventFragment,
  ConsoleClusterFeedSubscription,
  ConsoleClusterFragment,
  ConsoleTaskFragment,
} from '../gql/graphql';

/** One message of the API's `clusterFeed` subscription, as the console asks for it. */
export type FleetMessage = ConsoleClusterFeedSubscription['clusterFeed'];

/** What the page knows of the fleet: everything the feed has said, folded. */
export interface FleetState {
  /** Every cluster the user may see, by uuid, as the feed last sent it. */
  readonly clusters: ReadonlyMap<string, ConsoleClusterFragment>;
  /** The last state change or progress line of each cluster (by uuid) since the page started listening. */
  readonly latest: ReadonlyMap<string, ConsoleClusterEventFragment>;
  /** Upgrade runs by id, as the feed last sent them. */
  readonly tasks: ReadonlyMap<string, ConsoleTaskFragment>;
  /** The last message's resume point: a resubscription with it gets exactly what came after. */
  readonly cursor: string | undefined;
  /** The feed has said SYNCED since it (re)started: the clusters and runs above are the whole fleet. */
  readonly synced: boolean;
}

export const EMPTY_FLEET: FleetState = {
  clusters: new Map(),
  latest: new Map(),
  tasks: new Map(),
  cursor: undefined,
  synced: false,
};

/**
 * The fleet after one more feed message. Returns a new state (React compares by reference); RESYNC
 * drops everything the page held, because the full list that follows is the only truth left.
 */
export function applyFleetMessage(state: FleetState, message: FleetMessage): FleetState {
  return applyFleetMessages(state, [message]);
}

/**
 * The fleet after several feed messages, copying each map once whatever their number: the opening list
 * of a large fleet arrives as one message per cluster, and a copy per message made it quadratic.
 */
export function applyFleetMessages(state: FleetState, messages: readonly FleetMessage[]): FleetState {
  if (messages.length === 0) return state;
  const clusters = new Map(state.clusters);
  const latest = new Map(state.latest);
  const tasks = new Map(state.tasks);
  let { cursor, synced } = state;
  for (const message of messages) {
    cursor = message.cursor;
    switch (message.type) {
      case 'RESYNC':
        clusters.clear();
        latest.clear();
        tasks.clear();
        synced = false;
        break;
      case 'SYNCED':
        synced = true;
        break;
      case 'TASK':
        if (message.task) tasks.set(message.task.id, message.task);
        break;
      case 'DELETED': {
        const uuid = message.clusterUuid ?? undefined;
        if (uuid !== undefined) {
          clusters.delete(uuid);
          latest.delete(uuid);
        }
        break;
      }
      case 'ADDED':
      case 'MODIFIED': {
        const uuid = message.cluster?.uuid ?? message.clusterUuid ?? undefined;
        if (uuid === undefined) break;
        if (message.cluster) clusters.set(uuid, message.cluster);
        if (message.event) latest.set(uuid, message.event);
        break;
      }
    }
  }
  return { clusters, latest, tasks, cursor, synced };
}

/** The progress to show beside a cluster's state: the latest progress line of its running operation. */
export function progressOf(
  cluster: ConsoleClusterFragment,
  latest: ConsoleClusterEventFragment | undefined,
): { percent: number; stage: string | undefined } | undefined {
  if (cluster.lastActionState !== 'in progress' || !latest) return undefined;
  if (latest.kind !== 'PROGRESS' || latest.lastAction !== cluster.lastAction || latest.progress == null)
    return undefined;
  return { percent: latest.progress, stage: latest.stage ?? undefined };
}
