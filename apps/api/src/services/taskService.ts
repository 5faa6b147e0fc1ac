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
import type { Operations } from '../operations/operations.js';
import { clusterStore } from '../store/clusterStore.js';
import {
  taskStore,
  TaskStatus,
  type TaskClusterRow,
  type TaskClusterState,
  type TaskRecord,
} from '../store/taskStore.js';
import { access, type Caller } from './access.js';
import type { Audit } from './audit.js';
import type { ClusterService } from './clusterService.js';
import { TASK_EVENTS_CHANNEL, type TaskEventMessage } from './events.js';
export { TaskStatus, type TaskClusterState, type TaskRecord } from '../store/taskStore.js';

/** Who a run started outside the API (an operator's upgrade-all) belongs to when the broker names no one. */
export const OPERATOR = 'operator';
/** `tasks` lists the most recent runs only, newest first. */
export const MAX_LISTED_TASKS = 100;

export interface TaskServiceOptions {
  db: Database;
  pubsub: PubSub;
  clusterService: Pick<ClusterService, 'checkUpgradable' | 'adoptRunUpgrade'>;
  operations: Pick<Operations, 'activeForTask'>;
  audit: Audit;
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

const INSTANCE_STATE: Record<BrokerUpgradeInstanceState, TaskClusterState> = {
  pending: LastActionState.QUEUED,
  busy: LastActionState.QUEUED,
  'in progress': LastActionState.IN_PROGRESS,
  succeeded: LastActionState.SUCCEEDED,
  skipped: LastActionState.SUCCEEDED,
  failed: LastActionState.FAILED,
  orphaned: LastActionState.FAILED,
  cancelled: TaskStatus.CANCELED,
};

const FOLLOWER_LEASE = 'task-follower';
/**
 * How long a task's record of what this process wrote stands in for reading every row of the task: after
 * that a sync compares every cluster with its row again (another replica's write is never hidden longer).
 */
const FULL_SYNC_MS = 10_000;
/** How far back an ended run the API never saw is still adopted (well past a lease taken over). */
const RECENTLY_ENDED_MS = 10 * 60_000;

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
  /**
   * Per task, each cluster's instance (state, description, operation, times) as this process last brought
   * its row in line with it, and since when the record stands: a sync touches only the clusters whose
   * instance changed since, not every row of a 1,000-cluster task each poll.
   */
  readonly #applied = new Map<string, { since: number; instances: Map<string, string> }>();

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
    return this.#o.audit.audited(
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
    const ids = await taskStore.recentIds(
      this.#o.db,
      access.readsAll(caller) ? undefined : caller.name,
      MAX_LISTED_TASKS,
    );
    return (await Promise.all(ids.map((id) => this.byId(id)))).filter((t) => t !== undefined);
  }

  /** Cancels the clusters of a run that have not started yet (PKS `cancel-task`); started ones finish. */
  cancel(caller: Caller, id: string): Promise<TaskRecord> {
    return this.#o.audit.audited(caller, 'cancelTask', id, {}, async () => {
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
    return this.#o.db.transaction((tx) =>
      taskStore.insert(
        tx,
        { id, owner, maxInFlight: run.max_in_flight, brokerRunId: run.id },
        run.instances.map((instance) => ({
          name: nameOf(instance.instance_id),
          uuid: instance.instance_id,
          isCanary: instance.is_canary,
        })),
        LastActionState.QUEUED,
      ),
    );
  }

  async #runIdOf(taskId: string): Promise<string | undefined> {
    return (await taskStore.head(this.#o.db, taskId))?.brokerRunId ?? undefined;
  }

  /**
   * Brings a task in line with its run; true when anything changed. A cluster the broker has started is
   * adopted once per broker operation, even when the run is seen only after that upgrade ended: the
   * tracker then reads its outcome, so the cluster's last action never misses an upgrade.
   */
  async #sync(taskId: string, run: BrokerUpgradeRun): Promise<boolean> {
    const task = await taskStore.head(this.#o.db, taskId);
    if (task === undefined) return false;
    const known = this.#applied.get(taskId);
    const record = known !== undefined && Date.now() - known.since < FULL_SYNC_MS ? known : undefined;
    const todo =
      record === undefined
        ? run.instances
        : run.instances.filter((i) => record.instances.get(i.instance_id) !== fingerprint(i));
    // By uuid: a search of the rows per instance was quadratic in the run (a million steps at 1,000).
    const rows = new Map<string, TaskClusterRow>();
    if (todo.length > 0) {
      const read = await taskStore.clusterRows(
        this.#o.db,
        taskId,
        record === undefined ? undefined : todo.map((i) => i.instance_id),
      );
      for (const r of read) {
        if (r.clusterUuid !== null && !rows.has(r.clusterUuid)) rows.set(r.clusterUuid, r);
      }
    }
    let changed = false;
    for (const instance of todo) {
      const row = rows.get(instance.instance_id);
      if (row === undefined) continue;
      if (instance.operation_id !== null && row.brokerOperationId !== instance.operation_id) {
        await this.#o.clusterService.adoptRunUpgrade(
          instance.instance_id,
          task.owner,
          taskId,
          instance.operation_id,
        );
        await taskStore.setClusterOperation(this.#o.db, taskId, row.position, instance.operation_id);
      }
      const state = INSTANCE_STATE[instance.state];
      if (state === row.state && instance.description === row.description) continue;
      changed = true;
      await taskStore.setClusterState(this.#o.db, taskId, row.position, {
        state,
        description: instance.description,
        startedAt: instance.started_at,
        finishedAt: instance.finished_at,
      });
    }
    // Recorded only once every row is in line (a sync that failed half-way compares them all again).
    const applied = record ?? { since: Date.now(), instances: new Map<string, string>() };
    for (const instance of todo) applied.instances.set(instance.instance_id, fingerprint(instance));
    this.#applied.set(taskId, applied);
    let status = RUN_STATUS[run.state];
    if (status === TaskStatus.DONE || status === TaskStatus.CANCELED) {
      // The broker is done; the task is only once every cluster it upgraded shows the outcome too.
      if (await this.#o.operations.activeForTask(taskId)) status = TaskStatus.IN_PROGRESS;
    }
    if (status !== task.status) {
      changed = true;
      await taskStore.setStatus(this.#o.db, taskId, status, {
        startedAt: run.started_at,
        finishedAt: run.finished_at,
      });
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
    const open = await taskStore.open(this.#o.db);
    const following = new Set(open.map((task) => task.id));
    for (const id of this.#applied.keys()) if (!following.has(id)) this.#applied.delete(id);
    if (open.length === 0) return discoverMs;
    let changed = false;
    for (const task of open) {
      if (this.#stopped) break;
      const run = await this.#o.broker.upgradeRun(task.brokerRunId).catch((error: unknown) => {
        if (domainErrorOf(error) instanceof NotFoundError) return undefined;
        throw error;
      });
      if (run === undefined) {
        await taskStore.runLost(this.#o.db, task.id);
        changed = true;
        continue;
      }
      if (await this.#sync(task.id, run)) changed = true;
    }
    this.#delay = changed ? this.#poll.initialMs : Math.min(this.#delay * 2, this.#poll.maxMs);
    return this.#delay;
  }

  /**
   * Runs on the broker the API has no task for: an operator's upgrade-all. Those under way, and those that
   * ended lately: a short run can start and end between two looks, or while no replica follows (the one
   * holding the lease died), and its clusters' upgrades must still be recorded. Older ended runs are the
   * broker's history from before, not ours to replay onto the clusters.
   */
  async #discover(): Promise<void> {
    const endedSince = Date.now() - RECENTLY_ENDED_MS;
    const runs = (await this.#o.broker.recentUpgradeRuns()).filter(
      (run) => run.finished_at === null || Date.parse(run.finished_at) >= endedSince,
    );
    if (runs.length === 0) return;
    const known = await taskStore.knownRuns(
      this.#o.db,
      runs.map((r) => r.id),
    );
    for (const summary of runs.filter((r) => !known.has(r.id))) {
      const run = await this.#o.broker.upgradeRun(summary.id);
      const names = new Map<string, string>();
      for (const instance of run.instances) {
        const cluster = await clusterStore.byUuid(this.#o.db, instance.instance_id);
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
    return taskStore.byId(this.#o.db, id);
  }
}

/** What of an instance its task's row is made of: a row is brought in line when this changes. */
function fingerprint(instance: BrokerUpgradeRun['instances'][number]): string {
  return JSON.stringify([
    instance.state,
    instance.description,
    instance.operation_id,
    instance.started_at,
    instance.finished_at,
  ]);
}
