import { MAX_NOTIFY_PAYLOAD_BYTES, type Queryable } from '@openpks/db';
import { InternalError } from '@openpks/domain';
import type { ClusterEventMessage } from '../services/events.js';

/** `api.cluster_events`: each cluster's state changes and Director progress, in commit order (`id`). */
export const clusterEventStore = {
  /**
   * Records events in the order given and announces each on `channel` (JSON, its id added) in the same
   * statement, so row and announcement commit together (or neither does): one statement for a batch
   * instead of an INSERT and a pg_notify per event. `db` must be a transaction (`recordClusterEvents`
   * opens one): the lock that orders writers lasts until it ends. The
   * payload is the stored jsonb as text (key order and spacing differ from `JSON.stringify`; readers parse
   * it). Returns the ids (decimal), the fleet feed's resume points, in the same order.
   */
  async insertAndNotify(
    db: Queryable,
    events: readonly ClusterEventMessage[],
    channel: string,
  ): Promise<string[]> {
    if (events.length === 0) return [];
    const texts = events.map((event) => {
      const text = JSON.stringify(event);
      // jsonb's text adds a space after each ':' and ','; the id adds a key of its own.
      const bytes = Buffer.byteLength(text, 'utf8') + 2 * (text.match(/[:,]/g)?.length ?? 0) + 48;
      // Our own limit, not the user's input: an event is what the API recorded about a cluster.
      if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) {
        throw new InternalError(
          `the ${event.kind} event of cluster ${event.clusterUuid} is ${bytes} bytes once announced, over ` +
            `PostgreSQL's notification limit of ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`,
        );
      }
      return text;
    });
    // Ids must commit in the order they are drawn: a live feed drops an id not above the last it
    // delivered, and a resume reads after a cursor. Two writers (a tracker's progress batch, an
    // operation's final state in a transaction of several statements) could draw n and n+1 and commit
    // n+1 first; every feed that heard n+1 then dropped n for good (CI: an admin's feed never saw a
    // cluster's `succeeded`). This lock, held to the end of the writer's transaction, makes the next
    // writer draw its ids after this one commits. Callers write events last in their transactions.
    await db.query("SELECT pg_advisory_xact_lock(hashtext('api.cluster_events'))");
    // Rows are inserted (ids drawn) in ordinality order and RETURNING runs per row as it is inserted,
    // so the announcements of one batch leave in id order.
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO api.cluster_events (cluster_uuid, event)
       SELECT (e.event->>'clusterUuid')::uuid, e.event
       FROM unnest($1::jsonb[]) WITH ORDINALITY AS e(event, n) ORDER BY e.n
       RETURNING id::text AS id, pg_notify($2, (event || jsonb_build_object('id', id::text))::text)`,
      [texts, channel],
    );
    return rows.map((row) => row.id);
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
