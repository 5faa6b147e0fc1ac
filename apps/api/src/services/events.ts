import type { Database, PubSub, Queryable } from '@openpks/db';
import type { LastAction, LastActionState } from '@openpks/domain';
import { clusterEventStore } from '../store/clusterEventStore.js';

/** The db channel cluster events travel on, so every replica's subscribers hear every replica's events. */
export const CLUSTER_EVENTS_CHANNEL = 'api_cluster_events';
export const TASK_EVENTS_CHANNEL = 'api_task_events';

export const ClusterEventKind = { STATE: 'STATE', PROGRESS: 'PROGRESS' } as const;
export type ClusterEventKind = (typeof ClusterEventKind)[keyof typeof ClusterEventKind];

/** A state change of a cluster, or a line of its Director task's progress (stage, task, index/total, %). */
export interface ClusterEventMessage {
  /** The event's id in `api.cluster_events` (decimal): the resume point of the fleet feed. */
  id?: string | undefined;
  /** The event that announces a new cluster (its create request), so feeds can say ADDED. */
  created?: boolean | undefined;
  clusterUuid: string;
  clusterName: string;
  owner: string;
  kind: ClusterEventKind;
  at: string;
  lastAction: LastAction;
  lastActionState: LastActionState;
  description: string;
  stage?: string | undefined;
  task?: string | undefined;
  index?: number | undefined;
  total?: number | undefined;
  progress?: number | undefined;
}

export interface TaskEventMessage {
  taskId: string;
  owner: string;
  status: string;
  clusterName?: string | undefined;
  clusterState?: string | undefined;
  at: string;
}

/** Records an event (recent history lives in the table) and announces it once `db`'s transaction commits. */
export async function recordClusterEvent(
  db: Queryable | Database,
  pubsub: PubSub,
  event: ClusterEventMessage,
): Promise<void> {
  // The event and its announcement commit together. Written as two statements, a replica that died
  // between them left an event in the journal that no live feed was ever told of (found by the scale-out
  // test's kill -9): a resume from a cursor replays it, a live subscriber skipped it for good.
  if (isDatabase(db)) return db.transaction((tx) => recordClusterEvent(tx, pubsub, event));
  const id = await clusterEventStore.insert(db, event);
  await pubsub.publish(CLUSTER_EVENTS_CHANNEL, { ...event, id }, db);
}

function isDatabase(db: Queryable | Database): db is Database {
  return 'transaction' in db && typeof db.transaction === 'function';
}
