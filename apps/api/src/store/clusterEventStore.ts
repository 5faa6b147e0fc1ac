import type { Queryable } from '@openpks/db';
import type { ClusterEventMessage } from '../services/events.js';

/** `api.cluster_events`: each cluster's state changes and Director progress, in commit order (`id`). */
export const clusterEventStore = {
  /** Records an event; returns its id (decimal), the fleet feed's resume point. */
  async insert(db: Queryable, event: ClusterEventMessage): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO api.cluster_events (cluster_uuid, event) VALUES ($1, $2::jsonb) RETURNING id::text AS id`,
      [event.clusterUuid, JSON.stringify(event)],
    );
    return rows[0]!.id;
  },

  async recent(db: Queryable, clusterUuid: string, limit: number): Promise<ClusterEventMessage[]> {
    const result = await db.query<{ event: ClusterEventMessage }>(
      `SELECT event FROM (SELECT id, event FROM api.cluster_events WHERE cluster_uuid = $1 ORDER BY id DESC LIMIT $2) e
       ORDER BY id`,
      [clusterUuid, limit],
    );
    return result.rows.map((r) => r.event);
  },

  /** The recent events of several clusters in one query, oldest first per cluster. */
  async recentOf(
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
  },

  /** The id of the newest event (0 when there is none). */
  async head(db: Queryable): Promise<bigint> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT coalesce(max(id), 0)::text AS id FROM api.cluster_events`,
    );
    return BigInt(rows[0]!.id);
  },

  /** Events after `after` up to `head`, of `owner`'s clusters (all without one), at most `limit`. */
  async between(
    db: Queryable,
    options: { after: bigint; head: bigint; owner: string | undefined; limit: number },
  ): Promise<(ClusterEventMessage & { id: string })[]> {
    const { rows } = await db.query<{ id: string; event: ClusterEventMessage }>(
      // Ordered by the column, not the text alias of the same name (which would put 10 before 9).
      `SELECT e.id::text AS id, e.event FROM api.cluster_events e
       WHERE e.id > $1 AND e.id <= $2 AND ($3::text IS NULL OR e.event->>'owner' = $3)
       ORDER BY e.id LIMIT $4`,
      [options.after.toString(), options.head.toString(), options.owner ?? null, options.limit],
    );
    return rows.map((row) => ({ ...row.event, id: row.id }));
  },
};
