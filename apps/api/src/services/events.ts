import type { PubSub, Queryable } from '@openpks/db';
import type { LastAction, LastActionState } from '@openpks/domain';

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

/** Records an event (recent history lives in the table) and announces it once `tx` commits. */
export async function recordClusterEvent(
  db: Queryable,
  pubsub: PubSub,
  event: ClusterEventMessage,
): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO api.cluster_events (cluster_uuid, event) VALUES ($1, $2::jsonb) RETURNING id::text AS id`,
    [event.clusterUuid, JSON.stringify(event)],
  );
  await pubsub.publish(CLUSTER_EVENTS_CHANNEL, { ...event, id: rows[0]!.id }, db);
}

export async function recentClusterEvents(
  db: Queryable,
  clusterUuid: string,
  limit: number,
): Promise<ClusterEventMessage[]> {
  const result = await db.query<{ event: ClusterEventMessage }>(
    `SELECT event FROM (SELECT id, event FROM api.cluster_events WHERE cluster_uuid = $1 ORDER BY id DESC LIMIT $2) e
     ORDER BY id`,
    [clusterUuid, limit],
  );
  return result.rows.map((r) => r.event);
}

/** The recent events of several clusters in one query, oldest first per cluster. */
export async function recentClusterEventsOf(
  db: Queryable,
  clusterUuids: readonly string[],
  limit: number,
): Promise<Map<string, ClusterEventMessage[]>> {
  const result = await db.query<{ cluster_uuid: string; event: ClusterEventMessage }>(
    `SELECT cluster_uuid, event FROM (
       SELECT cluster_uuid, id, event, row_number() OVER (PARTITION BY cluster_uuid ORDER BY id DESC) AS n
       FROM api.cluster_events WHERE cluster_uuid = ANY($1::uuid[])) e
     WHERE n <= $2 ORDER BY id`,
    [clusterUuids, limit],
  );
  const byCluster = new Map<string, ClusterEventMessage[]>(clusterUuids.map((uuid) => [uuid, []]));
  for (const row of result.rows) byCluster.get(row.cluster_uuid)?.push(row.event);
  return byCluster;
}
