import type { Queryable } from '@openpks/db';
import type { LastActionState } from '@openpks/domain';

/** An upgrade run's status, as PKS's TaskInfo says it. */
export const TaskStatus = {
  NOT_STARTED: 'not started',
  IN_PROGRESS: 'in progress',
  CANCELED: 'canceled',
  DONE: 'done',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/**
 * Where a cluster stands in a run: PKS's last_action_state words for an upgrade that was queued, ran or
 * ran out, and `canceled` (TaskInfo's word) for one the run never started. A run state, never a cluster's
 * last action (that comes from the cluster's operations only).
 */
export type TaskClusterState = LastActionState | typeof TaskStatus.CANCELED;

export interface TaskRecord {
  id: string;
  type: string;
  status: TaskStatus;
  owner: string;
  maxInFlight: number;
  createdAt: Date;
  finishedAt: Date | null;
  clusters: {
    clusterName: string;
    isCanary: boolean;
    lastActionState: TaskClusterState;
    description: string;
    startedAt: Date | null;
    finishedAt: Date | null;
  }[];
}

/** A cluster's row of a task, as a run is brought in line with it. */
export interface TaskClusterRow {
  position: number;
  clusterUuid: string | null;
  state: TaskClusterState;
  description: string;
  brokerOperationId: string | null;
}

/** `api.tasks` and `api.task_clusters`: the API's view of the broker's upgrade runs. */
export const taskStore = {
  /**
   * Records the task of a broker run with its clusters in order (all queued); a run has one task, so
   * when the run was recorded already (by its starter, or by the follower that saw it first) that
   * task's id is returned instead.
   */
  async insert(
    db: Queryable,
    task: { id: string; owner: string; maxInFlight: number; brokerRunId: string },
    clusters: { name: string; uuid: string; isCanary: boolean }[],
    queued: LastActionState,
  ): Promise<string> {
    const inserted = await db.query<{ id: string }>(
      `INSERT INTO api.tasks (id, type, status, owner, max_in_flight, broker_run_id) VALUES ($1, 'UPGRADE', $2, $3, $4, $5)
       ON CONFLICT (broker_run_id) DO NOTHING RETURNING id`,
      [task.id, TaskStatus.NOT_STARTED, task.owner, task.maxInFlight, task.brokerRunId],
    );
    if (inserted.rows.length === 0) {
      const existing = await db.query<{ id: string }>(`SELECT id FROM api.tasks WHERE broker_run_id = $1`, [
        task.brokerRunId,
      ]);
      return existing.rows[0]!.id;
    }
    for (const [position, cluster] of clusters.entries()) {
      await db.query(
        `INSERT INTO api.task_clusters (task_id, position, cluster_name, cluster_uuid, is_canary, state)
         VALUES ($1,$2,$3,$4,$5,$6)`,
        [task.id, position, cluster.name, cluster.uuid, cluster.isCanary, queued],
      );
    }
    return task.id;
  },

  async byId(db: Queryable, id: string): Promise<TaskRecord | undefined> {
    const task = (
      await db.query<{
        id: string;
        type: string;
        status: TaskStatus;
        owner: string;
        max_in_flight: number;
        created_at: Date;
        finished_at: Date | null;
      }>(`SELECT * FROM api.tasks WHERE id = $1`, [id])
    ).rows[0];
    if (task === undefined) return undefined;
    const rows = await db.query<{
      cluster_name: string;
      is_canary: boolean;
      state: TaskClusterState;
      description: string;
      started_at: Date | null;
      finished_at: Date | null;
    }>(`SELECT * FROM api.task_clusters WHERE task_id = $1 ORDER BY position`, [id]);
    return {
      id: task.id,
      type: task.type,
      status: task.status,
      owner: task.owner,
      maxInFlight: task.max_in_flight,
      createdAt: new Date(task.created_at),
      finishedAt: task.finished_at && new Date(task.finished_at),
      clusters: rows.rows.map((r) => ({
        clusterName: r.cluster_name,
        isCanary: r.is_canary,
        lastActionState: r.state,
        description: r.description,
        startedAt: r.started_at && new Date(r.started_at),
        finishedAt: r.finished_at && new Date(r.finished_at),
      })),
    };
  },

  /** Ids of the most recent tasks, newest first, of `owner` (everyone's without). */
  async recentIds(db: Queryable, owner: string | undefined, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM api.tasks WHERE ($1::text IS NULL OR owner = $1) ORDER BY created_at DESC LIMIT $2`,
      [owner ?? null, limit],
    );
    return rows.map((r) => r.id);
  },

  async head(
    db: Queryable,
    id: string,
  ): Promise<{ owner: string; status: TaskStatus; brokerRunId: string | null } | undefined> {
    const { rows } = await db.query<{ owner: string; status: TaskStatus; broker_run_id: string | null }>(
      `SELECT owner, status, broker_run_id FROM api.tasks WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row && { owner: row.owner, status: row.status, brokerRunId: row.broker_run_id };
  },

  /** The task's cluster rows; with `uuids`, only those of these clusters. */
  async clusterRows(db: Queryable, taskId: string, uuids?: readonly string[]): Promise<TaskClusterRow[]> {
    const { rows } = await db.query<{
      position: number;
      cluster_uuid: string | null;
      state: TaskClusterState;
      description: string;
      broker_operation_id: string | null;
    }>(
      `SELECT position, cluster_uuid, state, description, broker_operation_id FROM api.task_clusters
       WHERE task_id = $1 AND ($2::uuid[] IS NULL OR cluster_uuid = ANY($2::uuid[]))`,
      [taskId, uuids === undefined ? null : [...uuids]],
    );
    return rows.map((r) => ({
      position: r.position,
      clusterUuid: r.cluster_uuid,
      state: r.state,
      description: r.description,
      brokerOperationId: r.broker_operation_id,
    }));
  },

  async setClusterOperation(
    db: Queryable,
    taskId: string,
    position: number,
    brokerOperationId: string,
  ): Promise<void> {
    await db.query(
      `UPDATE api.task_clusters SET broker_operation_id = $3 WHERE task_id = $1 AND position = $2`,
      [taskId, position, brokerOperationId],
    );
  },

  async setClusterState(
    db: Queryable,
    taskId: string,
    position: number,
    row: {
      state: TaskClusterState;
      description: string;
      startedAt: string | null;
      finishedAt: string | null;
    },
  ): Promise<void> {
    await db.query(
      `UPDATE api.task_clusters SET state = $3, description = $4, started_at = $5, finished_at = $6
       WHERE task_id = $1 AND position = $2`,
      [taskId, position, row.state, row.description, row.startedAt, row.finishedAt],
    );
  },

  async setStatus(
    db: Queryable,
    id: string,
    status: TaskStatus,
    times: { startedAt: string | null; finishedAt: string | null },
  ): Promise<void> {
    await db.query(`UPDATE api.tasks SET status = $2, started_at = $3, finished_at = $4 WHERE id = $1`, [
      id,
      status,
      times.startedAt,
      times.finishedAt,
    ]);
  },

  /** The tasks whose runs are under way (not started, or in progress). */
  async open(db: Queryable): Promise<{ id: string; brokerRunId: string }[]> {
    const { rows } = await db.query<{ id: string; broker_run_id: string }>(
      `SELECT id, broker_run_id FROM api.tasks WHERE broker_run_id IS NOT NULL AND status IN ($1, $2)`,
      [TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS],
    );
    return rows.map((r) => ({ id: r.id, brokerRunId: r.broker_run_id }));
  },

  /** A task whose run the broker no longer knows: done, its unfinished clusters failed with why. */
  async runLost(db: Queryable, id: string): Promise<void> {
    await db.query(`UPDATE api.tasks SET status = $2, finished_at = now() WHERE id = $1`, [
      id,
      TaskStatus.DONE,
    ]);
    await db.query(
      `UPDATE api.task_clusters SET state = 'failed', description = 'the broker no longer knows this run'
       WHERE task_id = $1 AND state IN ('queued', 'in progress')`,
      [id],
    );
  },

  /** Of these broker run ids, the ones a task exists for. */
  async knownRuns(db: Queryable, brokerRunIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await db.query<{ broker_run_id: string }>(
      `SELECT broker_run_id FROM api.tasks WHERE broker_run_id = ANY($1::text[])`,
      [brokerRunIds],
    );
    return new Set(rows.map((r) => r.broker_run_id));
  },
};
