import { randomUUID } from 'node:crypto';
import { Leases, type Database, type PubSub } from '@openpks/db';
import { ConflictError, InputError, LastActionState, NotFoundError, throwInputErrors } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import {
  domainErrorOf,
  type BrokerClient,
  type UpgradeInstanceState as BrokerUpgradeInstanceState,
  type UpgradeRun as BrokerUpgradeRun,
} from '@openpks/broker';
import { clusters } from '../store/records.js';
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

/** Who a run started outside the API (an operator's upgrade-all) belongs to when the broker names no one. */
export const OPERATOR = 'operator';
/** `tasks` lists the most recent runs only, newest first. */
export const MAX_LISTED_TASKS = 100;

export interface TaskServiceOptions {
  db: Database;
  pubsub: PubSub;
  clusterService: ClusterService;
  broker: BrokerClient;
  logger: Logger;
  /** This replica's name: one replica at a time follows the broker's runs. */
  holder: string;
  leaseMs: number;
  /** How often a run under way is read back: first interval, and the ceiling it backs off to. */
  poll?: { initialMs: number; maxMs: number };
  /** How often the broker is asked for runs the API did not start (an operator's upgrade-all). */
  discoverMs?: number;
}

const RUN_STATUS: Record<BrokerUpgradeRun['state'], TaskStatus> = {
  pending: TaskStatus.NOT_STARTED,
  running: TaskStatus.IN_PROGRESS,
  succeeded: TaskStatus.DONE,
  failed: TaskStatus.DONE,
  cancelled: TaskStatus.CANCELED,
};

const INSTANCE_STATE: Record<BrokerUpgradeInstanceState, string> = {
  pending: LastActionState.QUEUED,
  busy: LastActionState.QUEUED,
  'in progress': LastActionState.IN_PROGRESS,
  succeeded: LastActionState.SUCCEEDED,
  skipped: LastActionState.SUCCEEDED,
  failed: LastActionState.FAILED,
  orphaned: LastActionState.FAILED,
  cancelled: 'canceled',
};

const FOLLOWER_LEASE = 'task-follower';

/**
 * Upgrade runs (`pks upgrade-clusters`) run on the broker's durable upgrade-all: canaries one at a time,
 * then up to `max_in_flight`, busy clusters retried, a failed canary stops the run. A task is the API's
 * view of one run. One replica at a time (a lease) reads the runs back, with backoff, and woken early when
 * one of their clusters' operations ends; each cluster the broker starts upgrading is adopted as that
 * cluster's current operation, so its progress and outcome reach the cluster like any other change.
 * Runs an operator started on the broker (the tile-style upgrade-all) show up as tasks too.
 */
export class TaskService {
  readonly #o: TaskServiceOptions;
  readonly #leases: Leases;
  readonly #poll: { initialMs: number; maxMs: number };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #delay: number;
  #lastDiscovery = 0;
  #stopped = true;

  constructor(options: TaskServiceOptions) {
    this.#o = options;
    this.#leases = new Leases(options.db, { schema: 'api' });
    this.#poll = options.poll ?? { initialMs: 200, maxMs: 2_000 };
    this.#delay = this.#poll.initialMs;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.#leases.release(FOLLOWER_LEASE, this.#o.holder).catch(() => undefined);
  }

  /** Something changed (an operation of a run ended): read the runs back now. */
  poke(): void {
    this.#delay = this.#poll.initialMs;
    this.#schedule(0);
  }

  upgradeClusters(
    caller: Caller,
    input: { clusters: string[]; canaries?: string[] | null; maxInFlight?: number | null },
  ): Promise<TaskRecord> {
    return this.#o.clusterService.audited(
      caller,
      'upgradeClusters',
      input.clusters.join(','),
      { ...input },
      async () => {
        access.requireChange(caller);
        const names = [...new Set(input.clusters)];
        const canaries = [...new Set(input.canaries ?? [])];
        const maxInFlight = input.maxInFlight ?? 1;
        // All three are checked before any is refused, so one answer names every bad field.
        const bad: InputError[] = [];
        if (names.length === 0) {
          bad.push(new InputError('clusters', 'names no cluster', { allowed: 'one or more cluster names' }));
        }
        const notListed = canaries.filter((c) => !names.includes(c));
        if (notListed.length > 0) {
          bad.push(
            new InputError(
              'canaries',
              `${notListed.map((c) => `"${c}"`).join(', ')} ${notListed.length === 1 ? 'is' : 'are'} not among the clusters to upgrade`,
              {
                allowed: names.length > 0 ? `some of ${names.join(', ')}` : 'some of the clusters to upgrade',
              },
            ),
          );
        }
        if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 100) {
          bad.push(new InputError('maxInFlight', `${maxInFlight} is not allowed`, { allowed: '1 to 100' }));
        }
        throwInputErrors(bad);
        const uuids = new Map<string, string>();
        for (const name of names)
          uuids.set(name, (await this.#o.clusterService.checkUpgradable(caller, name)).uuid);
        const run = await this.#o.broker
          .startUpgradeRun(
            {
              instances: names.map((n) => uuids.get(n)!),
              canaries: canaries.map((n) => uuids.get(n)!),
              max_in_flight: maxInFlight,
              operation_type: 'upgrade',
              polling_interval_ms: this.#poll.initialMs,
            },
            caller.name,
          )
          .catch((error: unknown) => {
            throw domainErrorOf(error);
          });
        const nameOf = new Map([...uuids].map(([name, uuid]) => [uuid, name]));
        const id = await this.#record(randomUUID(), caller.name, run, (uuid) => nameOf.get(uuid) ?? uuid);
        await this.#sync(id, run);
        this.poke();
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
    const ids = await this.#o.db.query<{ id: string }>(
      `SELECT id FROM api.tasks WHERE ($1::text IS NULL OR owner = $1) ORDER BY created_at DESC LIMIT $2`,
      [access.readsAll(caller) ? null : caller.name, MAX_LISTED_TASKS],
    );
    return (await Promise.all(ids.rows.map((r) => this.byId(r.id)))).filter((t) => t !== undefined);
  }

  /** Cancels the clusters of a run that have not started yet (PKS `cancel-task`); started ones finish. */
  cancel(caller: Caller, id: string): Promise<TaskRecord> {
    return this.#o.clusterService.audited(caller, 'cancelTask', id, {}, async () => {
      access.requireChange(caller);
      const task = await this.get(caller, id);
      if (!access.changesAll(caller) && task.owner !== caller.name)
        throw new NotFoundError(`Task ${id} not found`);
      if (task.status === TaskStatus.DONE || task.status === TaskStatus.CANCELED) {
        throw new ConflictError(`Task ${id} is already ${task.status}`);
      }
      const runId = await this.#runIdOf(id);
      if (runId === undefined) throw new ConflictError(`Task ${id} has no upgrade run to cancel`);
      const run = await this.#o.broker.cancelUpgradeRun(runId, caller.name).catch((error: unknown) => {
        throw domainErrorOf(error);
      });
      await this.#sync(id, run);
      this.poke();
      return (await this.byId(id))!;
    });
  }

  /**
   * The task of a run, with its rows in the run's order (canaries first). A run has one task: when the
   * follower recorded it first (it saw the run on the broker before its starter got here), that one.
   */
  async #record(
    id: string,
    owner: string,
    run: BrokerUpgradeRun,
    nameOf: (uuid: string) => string,
  ): Promise<string> {
    return this.#o.db.transaction(async (tx) => {
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO api.tasks (id, type, status, owner, max_in_flight, broker_run_id) VALUES ($1, 'UPGRADE', $2, $3, $4, $5)
         ON CONFLICT (broker_run_id) DO NOTHING RETURNING id`,
        [id, TaskStatus.NOT_STARTED, owner, run.max_in_flight, run.id],
      );
      if (inserted.rows.length === 0) {
        const existing = await tx.query<{ id: string }>(`SELECT id FROM api.tasks WHERE broker_run_id = $1`, [
          run.id,
        ]);
        return existing.rows[0]!.id;
      }
      for (const [position, instance] of run.instances.entries()) {
        await tx.query(
          `INSERT INTO api.task_clusters (task_id, position, cluster_name, cluster_uuid, is_canary, state)
           VALUES ($1,$2,$3,$4,$5,$6)`,
          [
            id,
            position,
            nameOf(instance.instance_id),
            instance.instance_id,
            instance.is_canary,
            LastActionState.QUEUED,
          ],
        );
      }
      return id;
    });
  }

  async #runIdOf(taskId: string): Promise<string | undefined> {
    const { rows } = await this.#o.db.query<{ broker_run_id: string | null }>(
      `SELECT broker_run_id FROM api.tasks WHERE id = $1`,
      [taskId],
    );
    return rows[0]?.broker_run_id ?? undefined;
  }

  /**
   * Brings a task in line with its run; true when anything changed. A cluster the broker has started is
   * adopted once per broker operation, even when the run is seen only after that upgrade ended: the
   * tracker then reads its outcome, so the cluster's last action never misses an upgrade.
   */
  async #sync(taskId: string, run: BrokerUpgradeRun): Promise<boolean> {
    const task = (
      await this.#o.db.query<{ owner: string; status: TaskStatus }>(
        `SELECT owner, status FROM api.tasks WHERE id = $1`,
        [taskId],
      )
    ).rows[0];
    if (task === undefined) return false;
    const rows = (
      await this.#o.db.query<{
        position: number;
        cluster_uuid: string | null;
        state: string;
        description: string;
        broker_operation_id: string | null;
      }>(
        `SELECT position, cluster_uuid, state, description, broker_operation_id FROM api.task_clusters WHERE task_id = $1`,
        [taskId],
      )
    ).rows;
    let changed = false;
    for (const instance of run.instances) {
      const row = rows.find((r) => r.cluster_uuid === instance.instance_id);
      if (row === undefined) continue;
      if (instance.operation_id !== null && row.broker_operation_id !== instance.operation_id) {
        await this.#o.clusterService.adoptRunUpgrade(
          instance.instance_id,
          task.owner,
          taskId,
          instance.operation_id,
        );
        await this.#o.db.query(
          `UPDATE api.task_clusters SET broker_operation_id = $3 WHERE task_id = $1 AND position = $2`,
          [taskId, row.position, instance.operation_id],
        );
      }
      const state = INSTANCE_STATE[instance.state];
      if (state === row.state && instance.description === row.description) continue;
      changed = true;
      await this.#o.db.query(
        `UPDATE api.task_clusters SET state = $3, description = $4, started_at = $5, finished_at = $6
         WHERE task_id = $1 AND position = $2`,
        [taskId, row.position, state, instance.description, instance.started_at, instance.finished_at],
      );
    }
    let status = RUN_STATUS[run.state];
    if (status === TaskStatus.DONE || status === TaskStatus.CANCELED) {
      // The broker is done; the task is only once every cluster it upgraded shows the outcome too.
      const following = await this.#o.db.query(
        `SELECT 1 FROM api.operations WHERE task_id = $1 AND state = 'in progress' LIMIT 1`,
        [taskId],
      );
      if (following.rows.length > 0) status = TaskStatus.IN_PROGRESS;
    }
    if (status !== task.status) {
      changed = true;
      await this.#o.db.query(
        `UPDATE api.tasks SET status = $2, started_at = $3, finished_at = $4 WHERE id = $1`,
        [taskId, status, run.started_at, run.finished_at],
      );
    }
    if (changed) {
      const message: TaskEventMessage = {
        taskId,
        owner: task.owner,
        status,
        at: new Date().toISOString(),
      };
      await this.#o.pubsub.publish(TASK_EVENTS_CHANNEL, message);
    }
    return changed;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#running !== undefined) return this.#schedule(this.#poll.initialMs);
      this.#running = this.#follow()
        .then((next) => this.#schedule(next))
        .catch((error: unknown) => {
          this.#o.logger.warn({ err: error }, 'could not read upgrade runs back from the broker');
          this.#schedule(this.#poll.maxMs);
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, delayMs);
    this.#timer.unref?.();
  }

  /** One pass over the runs under way; returns when to look again. */
  async #follow(): Promise<number> {
    const discoverMs = this.#o.discoverMs ?? 5_000;
    if (!(await this.#leases.tryAcquire(FOLLOWER_LEASE, this.#o.holder, this.#o.leaseMs))) {
      return Math.max(discoverMs, this.#poll.maxMs);
    }
    if (Date.now() - this.#lastDiscovery >= discoverMs) {
      this.#lastDiscovery = Date.now();
      await this.#discover();
    }
    const open = (
      await this.#o.db.query<{ id: string; broker_run_id: string }>(
        `SELECT id, broker_run_id FROM api.tasks WHERE broker_run_id IS NOT NULL AND status IN ($1, $2)`,
        [TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS],
      )
    ).rows;
    if (open.length === 0) return discoverMs;
    let changed = false;
    for (const task of open) {
      if (this.#stopped) break;
      const run = await this.#o.broker.upgradeRun(task.broker_run_id).catch((error: unknown) => {
        if (domainErrorOf(error) instanceof NotFoundError) return undefined;
        throw error;
      });
      if (run === undefined) {
        await this.#o.db.query(`UPDATE api.tasks SET status = $2, finished_at = now() WHERE id = $1`, [
          task.id,
          TaskStatus.DONE,
        ]);
        await this.#o.db.query(
          `UPDATE api.task_clusters SET state = 'failed', description = 'the broker no longer knows this run'
           WHERE task_id = $1 AND state IN ('queued', 'in progress')`,
          [task.id],
        );
        changed = true;
        continue;
      }
      if (await this.#sync(task.id, run)) changed = true;
    }
    this.#delay = changed ? this.#poll.initialMs : Math.min(this.#delay * 2, this.#poll.maxMs);
    return this.#delay;
  }

  /** Runs on the broker the API has no task for: an operator's upgrade-all. */
  async #discover(): Promise<void> {
    const runs = await this.#o.broker.activeUpgradeRuns();
    if (runs.length === 0) return;
    const known = new Set(
      (
        await this.#o.db.query<{ broker_run_id: string }>(
          `SELECT broker_run_id FROM api.tasks WHERE broker_run_id = ANY($1::text[])`,
          [runs.map((r) => r.id)],
        )
      ).rows.map((r) => r.broker_run_id),
    );
    for (const summary of runs.filter((r) => !known.has(r.id))) {
      const run = await this.#o.broker.upgradeRun(summary.id);
      const names = new Map<string, string>();
      for (const instance of run.instances) {
        const cluster = await clusters.byUuid(this.#o.db, instance.instance_id);
        names.set(instance.instance_id, cluster?.name ?? instance.instance_id);
      }
      // Unique per run: whoever records it first (its starter, another replica) wins.
      const id = await this.#record(randomUUID(), run.created_by ?? OPERATOR, run, (uuid) =>
        names.get(uuid)!,
      );
      this.#o.logger.info(
        { task: id, run: run.id, clusters: run.instances.length },
        'following an upgrade run started on the broker',
      );
    }
  }

  async byId(id: string): Promise<TaskRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const task = (
      await this.#o.db.query<{
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
    const rows = await this.#o.db.query<{
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
