import type { Database, Queryable } from '@openpks/db';
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

/**
 * Records events (recent history lives in the table) and announces them, in order, once `db`'s
 * transaction commits (at once on a bare database: the statement is its own transaction).
 */
export async function recordClusterEvents(
  db: Queryable | Database,
  events: readonly ClusterEventMessage[],
): Promise<void> {
  // The events and their announcements commit together, in one statement. Written apart, a replica that
  // died between them left an event in the journal that no live feed was ever told of (found by the
  // scale-out test's kill -9): a resume from a cursor replays it, a live subscriber skipped it for good.
  // In a transaction of its own, not autocommit: a replica killed while the statement runs never sends
  // the COMMIT, so nothing of what it was recording is left (autocommit commits it without anyone).
  if (isDatabase(db)) {
    return db.transaction((tx) => recordClusterEvents(tx, events));
  }
  await clusterEventStore.insertAndNotify(db, events, CLUSTER_EVENTS_CHANNEL);
}

export function recordClusterEvent(db: Queryable | Database, event: ClusterEventMessage): Promise<void> {
  return recordClusterEvents(db, [event]);
}

function isDatabase(db: Queryable | Database): db is Database {
  return 'transaction' in db && typeof db.transaction === 'function';
}
