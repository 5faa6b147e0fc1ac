import { randomUUID } from 'node:crypto';
import type { Database, PubSub } from '@openpks/db';
import { InputError, LastActionState, NotFoundError, ConflictError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { access, type Caller } from './access.js';
import type { ClusterService } from './clusterService.js';
import { TASK_EVENTS_CHANNEL, type TaskEventMessage } from './events.js';

export const TaskStatus = {
  NOT_STARTED: 'not started',
  IN_PROGRESS: 'in progress',
  CANCELED: 'canceled',
  DONE: 'done',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

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
    lastActionState: string;
    description: string;
    startedAt: Date | null;
    finishedAt: Date | null;
  }[];
}

/**
 * Upgrade runs (`pks upgrade-clusters`): canaries one at a time first, then up to `maxInFlight`; a failed
 * canary stops the run. The run is rows (task + one row per cluster); it advances whenever one of its
 * clusters' operations ends, on whichever replica tracked it, under a row lock.
 */
export class TaskService {
  constructor(
    private readonly db: Database,
    private readonly pubsub: PubSub,
    private readonly clusterService: ClusterService,
    private readonly logger: Logger,
  ) {}

  upgradeClusters(
    caller: Caller,
    input: { clusters: string[]; canaries?: string[] | null; maxInFlight?: number | null },
  ): Promise<TaskRecord> {
    return this.clusterService.audited(
      caller,
      'upgradeClusters',
      input.clusters.join(','),
      { ...input },
      async () => {
        access.requireChange(caller);
        const names = [...new Set(input.clusters)];
        if (names.length === 0) throw new InputError('clusters', 'name at least one cluster');
        const canaries = [...new Set(input.canaries ?? [])];
        const notListed = canaries.find((c) => !names.includes(c));
        if (notListed)
          throw new InputError('canaries', `canary ${notListed} is not one of the clusters to upgrade`);
        const maxInFlight = input.maxInFlight ?? 1;
        if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 100) {
          throw new InputError('maxInFlight', `${maxInFlight} is not a valid max in flight`, {
            allowed: '1 to 100',
          });
        }
        for (const name of names) await this.clusterService.checkUpgradable(caller, name);
        const id = randomUUID();
        const ordered = [...canaries, ...names.filter((n) => !canaries.includes(n))];
        await this.db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO api.tasks (id, type, status, owner, max_in_flight) VALUES ($1, 'UPGRADE', $2, $3, $4)`,
            [id, TaskStatus.NOT_STARTED, caller.name, maxInFlight],
          );
          for (const [position, name] of ordered.entries()) {
            await tx.query(
              `INSERT INTO api.task_clusters (task_id, position, cluster_name, is_canary, state) VALUES ($1,$2,$3,$4,$5)`,
              [id, position, name, canaries.includes(name), LastActionState.QUEUED],
            );
          }
        });
        await this.advance(id);
        return (await this.byId(id))!;
      },
    );
  }

  async get(caller: Caller, id: string): Promise<TaskRecord> {
    access.requireAnyPksScope(caller);
    const task = await this.byId(id);
    if (task === undefined || !access.canSee(caller, task.owner))
      throw new NotFoundError(`Task ${id} not found`);
    return task;
  }

  async list(caller: Caller): Promise<TaskRecord[]> {
    access.requireAnyPksScope(caller);
    const ids = await this.db.query<{ id: string }>(
      `SELECT id FROM api.tasks WHERE ($1::text IS NULL OR owner = $1) ORDER BY created_at DESC LIMIT 100`,
      [access.readsAll(caller) ? null : caller.name],
    );
    return (await Promise.all(ids.rows.map((r) => this.byId(r.id)))).filter((t) => t !== undefined);
  }

  /** Cancels the clusters of a run that have not started yet (PKS `cancel-task`). */
  cancel(caller: Caller, id: string): Promise<TaskRecord> {
    return this.clusterService.audited(caller, 'cancelTask', id, {}, async () => {
      access.requireChange(caller);
      const task = await this.get(caller, id);
      if (!access.changesAll(caller) && task.owner !== caller.name)
        throw new NotFoundError(`Task ${id} not found`);
      if (task.status === TaskStatus.DONE || task.status === TaskStatus.CANCELED) {
        throw new ConflictError(`Task ${id} is already ${task.status}`);
      }
      await this.db.query(
        `UPDATE api.task_clusters SET state = 'canceled', description = 'canceled' WHERE task_id = $1 AND state = 'queued'`,
        [id],
      );
      await this.advance(id);
      return (await this.byId(id))!;
    });
  }

  /** Called when an operation that belongs to a run ends (on any replica). */
  async clusterFinished(taskId: string, clusterName: string, state: LastActionState): Promise<void> {
    await this.db.query(
      `UPDATE api.task_clusters SET state = $3, finished_at = now() WHERE task_id = $1 AND cluster_name = $2`,
      [taskId, clusterName, state],
    );
    await this.advance(taskId);
  }

  /** Starts what may start now and closes the run when nothing is left. */
  async advance(taskId: string): Promise<void> {
    const toStart = await this.db.transaction(async (tx) => {
      const task = (
        await tx.query<{ status: TaskStatus; owner: string; max_in_flight: number }>(
          `SELECT status, owner, max_in_flight FROM api.tasks WHERE id = $1 FOR UPDATE`,
          [taskId],
        )
      ).rows[0];
      if (task === undefined || task.status === TaskStatus.DONE || task.status === TaskStatus.CANCELED)
        return [];
      const rows = (
        await tx.query<{ cluster_name: string; is_canary: boolean; state: string }>(
          `SELECT cluster_name, is_canary, state FROM api.task_clusters WHERE task_id = $1 ORDER BY position`,
          [taskId],
        )
      ).rows;
      const canaryFailed = rows.some((r) => r.is_canary && r.state === LastActionState.FAILED);
      if (canaryFailed) {
        await tx.query(
          `UPDATE api.task_clusters SET state = 'canceled', description = 'a canary failed' WHERE task_id = $1 AND state = 'queued'`,
          [taskId],
        );
      }
      const running = rows.filter((r) => r.state === LastActionState.IN_PROGRESS);
      const queued = canaryFailed ? [] : rows.filter((r) => r.state === LastActionState.QUEUED);
      if (running.length === 0 && queued.length === 0) {
        const canceled = rows.some((r) => r.state === 'canceled');
        await tx.query(`UPDATE api.tasks SET status = $2, finished_at = now() WHERE id = $1`, [
          taskId,
          canceled ? TaskStatus.CANCELED : TaskStatus.DONE,
        ]);
        return [];
      }
      const canariesPending = queued.some((r) => r.is_canary) || running.some((r) => r.is_canary);
      const limit = canariesPending ? 1 : task.max_in_flight;
      const next = queued
        .filter((r) => !canariesPending || r.is_canary)
        .slice(0, Math.max(0, limit - running.length));
      for (const r of next) {
        await tx.query(
          `UPDATE api.task_clusters SET state = 'in progress', started_at = now() WHERE task_id = $1 AND cluster_name = $2`,
          [taskId, r.cluster_name],
        );
      }
      await tx.query(
        `UPDATE api.tasks SET status = 'in progress', started_at = coalesce(started_at, now()) WHERE id = $1`,
        [taskId],
      );
      return next.map((r) => ({ name: r.cluster_name, owner: task.owner }));
    });
    for (const { name, owner } of toStart) {
      try {
        await this.clusterService.upgradeForTask(name, owner, taskId);
      } catch (error) {
        this.logger.warn({ err: error, task: taskId, cluster: name }, 'could not start a cluster upgrade');
        await this.clusterFinished(taskId, name, LastActionState.FAILED);
      }
    }
    const task = await this.byId(taskId);
    if (task) {
      const message: TaskEventMessage = {
        taskId,
        owner: task.owner,
        status: task.status,
        at: new Date().toISOString(),
      };
      await this.pubsub.publish(TASK_EVENTS_CHANNEL, message);
    }
  }

  async byId(id: string): Promise<TaskRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const task = (
      await this.db.query<{
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
    const rows = await this.db.query<{
      cluster_name: string;
      is_canary: boolean;
      state: string;
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
  }
}
