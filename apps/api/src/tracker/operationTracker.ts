import type { DirectorClient, TaskEvent } from '@openpks/bosh';
import {
  BrokerError,
  boshContextIdOf,
  deploymentNameOf,
  type BrokerClient,
  type OsbProvisionRequest,
  type OsbUpdateRequest,
} from '@openpks/broker';
import { claimNext, type Database, type PubSub, type Queryable } from '@openpks/db';
import { LastAction, LastActionState } from '@openpks/domain';
import type { NsxProxy } from '@openpks/nsx';
import type { Logger } from '@openpks/role';
import { K8S_VERSION, PKS_VERSION } from '../services/clusterService.js';
import { ClusterEventKind, recordClusterEvent } from '../services/events.js';
import {
  clusters,
  operations,
  OperationKind,
  OperationPhase,
  operationOf,
  type OperationRecord,
} from '../store/records.js';
import type { Metrics } from '../http/metrics.js';
import { clusterNetworks } from '../store/clusterNetworks.js';

export interface OperationTrackerOptions {
  db: Database;
  pubsub: PubSub;
  broker: BrokerClient;
  /** Read-only: which Director task deploys the cluster, its event log, the master IPs. */
  director?: DirectorClient | undefined;
  holder: string;
  leaseMs: number;
  /** `last_operation` polling backoff: first interval and ceiling. */
  poll: { initialMs: number; maxMs: number };
  /** At most this many operations followed at once by this replica. */
  concurrency: number;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Called when an operation ends (upgrade runs hear about their clusters here). */
  onFinished?: (op: OperationRecord, state: LastActionState) => void;
  /** The NSX-T proxy step: a deleted cluster's NSX objects are released once the broker has deleted it. */
  nsx?: NsxProxy | undefined;
  /**
   * How long the broker may stay unreachable (or answer 5xx) for one operation before it ends failed
   * with the reason, rather than being retried forever (default 15 minutes).
   */
  brokerUnreachableMs?: number;
}

export const DEFAULT_BROKER_UNREACHABLE_MS = 15 * 60_000;

const WAKE_CHANNEL = 'api_operations';

const ACTION_OF: Record<OperationKind, LastAction> = {
  create: LastAction.CREATE,
  update: LastAction.UPDATE,
  upgrade: LastAction.UPGRADE,
  delete: LastAction.DELETE,
};

/**
 * Follows every in-flight operation to its end, durably: operations are rows leased by one replica at a
 * time (a crashed replica's lease expires and another, or the restarted one, resumes). It re-sends a
 * request the broker never acknowledged, polls `last_operation` with backoff, and tails the Director task's
 * event log (pushed by a Director that offers it), updating the cluster and publishing its events.
 */
export class OperationTracker {
  readonly #o: OperationTrackerOptions;
  readonly #drivers = new Map<string, { abort: AbortController; done: Promise<void> }>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #stopped = false;
  #scanning: Promise<void> | undefined;
  #rescan = false;

  constructor(options: OperationTrackerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#o.pubsub.subscribe(WAKE_CHANNEL, () => this.wake());
    this.#schedule(0);
  }

  /** Looks for work now (an operation was just handed to the broker, here or on another replica). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#schedule(0);
  }

  /** Tells every replica to look for work. */
  async announce(): Promise<void> {
    await this.#o.pubsub.publish(WAKE_CHANNEL, {});
  }

  /**
   * Drives a stuck operation again now: its lease is released (a driver here stops), the broker outage
   * clock restarts, and every replica looks for work; an unacknowledged request is re-sent. False when
   * the operation is no longer in progress.
   */
  async retry(operationId: string): Promise<boolean> {
    const result = await this.#o.db.query(
      `UPDATE api.operations SET holder = NULL, lease_expires_at = NULL, broker_unreachable_since = NULL,
         updated_at = now()
       WHERE id = $1 AND state = 'in progress'`,
      [operationId],
    );
    if (result.rowCount !== 1) return false;
    this.#drivers.get(operationId)?.abort.abort();
    this.wake();
    await this.announce();
    return true;
  }

  /**
   * Ends an operation failed with `description`, whoever drives it (its driver stops at its next write);
   * the cluster can then be changed or deleted again. The broker's side is not stopped. False when the
   * operation is no longer in progress.
   */
  async abandon(operationId: string, description: string): Promise<boolean> {
    const op = await this.#o.db.transaction(async (tx) => {
      const { rows } = await tx.query<Parameters<typeof operationOf>[0]>(
        `UPDATE api.operations SET phase = 'done', state = 'failed', description = $2, holder = NULL,
           lease_expires_at = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'in progress' RETURNING *`,
        [operationId, description],
      );
      if (rows[0] === undefined) return undefined;
      const abandoned = operationOf(rows[0]);
      await this.#stateChange(abandoned, LastActionState.FAILED, description, tx);
      return abandoned;
    });
    if (op === undefined) return false;
    this.#drivers.get(operationId)?.abort.abort();
    this.#o.metrics?.operations.inc({ kind: op.kind, state: LastActionState.FAILED });
    this.#o.onFinished?.(op, LastActionState.FAILED);
    return true;
  }

  get following(): number {
    return this.#drivers.size;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#unsubscribe?.();
    await this.#scanning;
    const drivers = [...this.#drivers.values()];
    for (const driver of drivers) driver.abort.abort();
    await Promise.all(drivers.map((d) => d.done));
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#scanning = this.#scan()
        .then(() => (this.#rescan ? 0 : this.#nextLook()))
        .catch((error: unknown) => {
          this.#o.logger.warn({ err: error }, 'operation scan failed');
          return Math.min(this.#o.leaseMs, this.#o.poll.maxMs);
        })
        .then((next) => {
          this.#scanning = undefined;
          this.#rescan = false;
          this.#schedule(next);
        });
    }, ms);
    this.#timer.unref();
  }

  /**
   * When to look again without being woken. New work arrives with a wake-up (this replica's services, or
   * another replica's through the db channel), so the only thing a look finds unannounced is a lease that
   * expired: the next look is when the earliest lease held elsewhere runs out, or a lease's length from
   * now as a safety net when none is held (never a fixed short polling loop).
   */
  async #nextLook(): Promise<number> {
    if (this.#drivers.size >= this.#o.concurrency) return this.#o.leaseMs;
    const { rows } = await this.#o.db.query<{ ms: number | null }>(
      `SELECT extract(epoch FROM min(lease_expires_at) - clock_timestamp()) * 1000 AS ms
       FROM api.operations WHERE state = 'in progress' AND holder IS NOT NULL AND holder <> $1`,
      [this.#o.holder],
    );
    const ms = rows[0]?.ms;
    if (ms === null || ms === undefined) return this.#o.leaseMs;
    return Math.min(Math.max(Number(ms) + 20, 20), this.#o.leaseMs);
  }

  async #scan(): Promise<void> {
    while (!this.#stopped && this.#drivers.size < this.#o.concurrency) {
      const op = await this.#o.db.transaction(async (tx) => {
        // Never a second driver here: an operation this replica drives is skipped even if its lease
        // looks expired (the heartbeat renews it; a lost lease stops the driver).
        const row = await claimNext<Parameters<typeof operationOf>[0]>(tx, {
          table: 'api.operations',
          where: `state = 'in progress' AND (holder IS NULL OR lease_expires_at < clock_timestamp())
            AND NOT (id = ANY($1::uuid[]))`,
          orderBy: 'created_at, id',
          params: [[...this.#drivers.keys()]],
        });
        if (row === undefined) return undefined;
        await tx.query(
          `UPDATE api.operations SET holder = $2, lease_expires_at = clock_timestamp() + $3::float8 * interval '1 millisecond'
           WHERE id = $1`,
          [row.id, this.#o.holder, this.#o.leaseMs],
        );
        return operationOf(row);
      });
      if (op === undefined) return;
      this.#drive(op);
    }
  }

  #drive(op: OperationRecord): void {
    const abort = new AbortController();
    const entry = { abort, done: Promise.resolve() };
    // The lease is renewed on a clock of its own, not only between calls: one OSB call can outlast it.
    // A renewal that finds the lease gone (taken over, abandoned, finished elsewhere) stops this driver.
    const heartbeat = setInterval(() => {
      this.#renew(op.id).then(
        (held) => {
          if (!held) abort.abort();
        },
        (error: unknown) => this.#o.logger.warn({ err: error, operation: op.id }, 'renewing a lease failed'),
      );
    }, this.#o.leaseMs / 3);
    heartbeat.unref();
    entry.done = this.#follow(op, abort.signal)
      .catch((error: unknown) =>
        this.#o.logger.warn({ err: error, operation: op.id }, 'following an operation failed'),
      )
      .finally(async () => {
        clearInterval(heartbeat);
        this.#drivers.delete(op.id);
        // Hand the row back at once (unless finished) so another look, here or elsewhere, picks it up.
        await this.#o.db
          .query(
            `UPDATE api.operations SET holder = NULL, lease_expires_at = NULL WHERE id = $1 AND holder = $2`,
            [op.id, this.#o.holder],
          )
          .catch(() => undefined);
        if (!this.#stopped) this.wake();
      });
    this.#drivers.set(op.id, entry);
  }

  async #follow(initial: OperationRecord, signal: AbortSignal): Promise<void> {
    let op = initial;
    let wakeNow = () => {};
    const onWake = (fn: () => void) => (wakeNow = fn);
    let delay = this.#o.poll.initialMs;
    // The Director task being tailed now, and every tail started (awaited before the operation ends so
    // that its progress events come before the final state).
    let tailing: number | undefined;
    let tails: Promise<unknown> = Promise.resolve();
    let lastTask = 0;
    let lastDescription = '';
    // Tails that ended: one ending after the broker was last asked means ask again at once.
    let tailsEnded = 0;
    // Whether a broker outage may be on record for this operation (from before this driver, or since).
    let outage = true;
    const backoff = async () => {
      await sleep(delay, signal, onWake);
      delay = Math.min(delay * 2, this.#o.poll.maxMs);
    };
    while (!signal.aborted) {
      if (!(await this.#renew(op.id))) return;
      if (op.phase === OperationPhase.REQUESTED) {
        const sent = await this.#resend(op);
        if (sent === 'failed') return;
        if (sent === 'retry') {
          await backoff();
          continue;
        }
        op = { ...op, phase: OperationPhase.POLLING, brokerOperation: sent.operation ?? null };
      }
      let answer: Awaited<ReturnType<BrokerClient['lastOperation']>>;
      const endedBefore = tailsEnded;
      try {
        answer = await this.#o.broker.lastOperation(op.clusterUuid, {
          serviceId: op.request.serviceId,
          planId: op.request.planId,
          operation: op.brokerOperation ?? undefined,
        });
      } catch (error) {
        this.#o.logger.warn({ err: error, operation: op.id }, 'last_operation failed; retrying');
        outage = true;
        if (await this.#brokerUnreachable(op, error)) return;
        await backoff();
        continue;
      }
      if (signal.aborted) return;
      if (outage) {
        await this.#brokerAnswered(op);
        outage = false;
      }
      this.#o.metrics?.trackerPolls.inc();
      if (answer === 'gone') {
        if (op.kind === OperationKind.DELETE)
          return this.#finish(op, LastActionState.SUCCEEDED, 'Instance deletion completed');
        return this.#finish(op, LastActionState.FAILED, 'the broker no longer has this cluster (410 Gone)');
      }
      if (answer === 'unknown') {
        if (op.kind === OperationKind.DELETE)
          return this.#finish(op, LastActionState.SUCCEEDED, 'Instance deletion completed');
        return this.#finish(op, LastActionState.FAILED, 'the broker does not know this cluster (404)');
      }
      if (answer.state !== 'in progress') {
        // The broker moves on by itself and may have finished before this driver first looked: the
        // operation's Director tasks still tell its progress, so each not followed yet is followed now
        // (its event log is replayed) before the end.
        if (lastTask === 0 && tailing === undefined && this.#o.director) {
          for (let id = await this.#nextTask(op, 0); id !== undefined; id = await this.#nextTask(op, id)) {
            await this.#tail(op, id, signal).catch(() => undefined);
          }
        }
        await tails.catch(() => undefined);
        const description =
          answer.state === 'succeeded' ? completed(op.kind) : answer.description || `${op.kind} failed`;
        return this.#finish(
          op,
          answer.state === 'succeeded' ? LastActionState.SUCCEEDED : LastActionState.FAILED,
          description,
        );
      }
      if (answer.description && answer.description !== lastDescription) {
        lastDescription = answer.description;
        await this.#stateChange(op, LastActionState.IN_PROGRESS, answer.description);
      }
      // An operation is a chain of Director tasks (the deploy, then the broker's lifecycle errand), each
      // started by the broker when asked after the previous one ended. Tail the newest task: its end (pushed
      // by a Director with an event stream) is when the broker has news, so ask then, not on a timer.
      if (tailing === undefined && this.#o.director) {
        const first = lastTask === 0 ? (op.directorTaskId ?? undefined) : undefined;
        const taskId = first ?? (await this.#nextTask(op, lastTask));
        if (taskId !== undefined) {
          lastTask = taskId;
          tailing = taskId;
          op = { ...op, directorTaskId: taskId };
          const tail = this.#tail(op, taskId, signal).finally(() => {
            tailing = undefined;
            tailsEnded += 1;
            delay = this.#o.poll.initialMs;
            wakeNow();
          });
          tails = Promise.all([tails, tail.catch(() => undefined)]);
          // The task may have ended already; the tail's end wakes the loop then.
        }
      }
      if (tailing !== undefined) {
        // Waiting for the task's end; the ceiling only guards against a stream that went silent, and
        // comes well before the lease (renewed each turn) could run out.
        await sleep(Math.min(this.#o.poll.maxMs, this.#o.leaseMs / 3), signal, onWake);
        continue;
      }
      if (tailsEnded !== endedBefore) continue;
      // No task to follow (the broker has not started the next step yet, or a Director without a stream):
      // poll last_operation with backoff.
      await backoff();
    }
  }

  #renew(id: string): Promise<boolean> {
    return operations.renewLease(this.#o.db, id, this.#o.holder, this.#o.leaseMs);
  }

  /** Sends again a request the broker never acknowledged (OSB: a re-sent PUT during provisioning gets 202). */
  async #resend(op: OperationRecord): Promise<{ operation: string | undefined } | 'retry' | 'failed'> {
    const { broker } = this.#o;
    try {
      const answer =
        op.kind === OperationKind.CREATE
          ? await broker.provision(op.clusterUuid, sent<OsbProvisionRequest>(op), op.originatingUser)
          : op.kind === OperationKind.DELETE
            ? await broker.deprovision(
                op.clusterUuid,
                op.request.serviceId,
                op.request.planId,
                op.originatingUser,
              )
            : await broker.update(op.clusterUuid, sent<OsbUpdateRequest>(op), op.originatingUser);
      const recorded = await this.#o.db.query(
        `UPDATE api.operations SET phase = 'polling', broker_operation = $2, broker_unreachable_since = NULL,
           updated_at = now()
         WHERE id = $1 AND holder = $3 AND state = 'in progress'`,
        [op.id, answer.operation ?? null, this.#o.holder],
      );
      // The lease was lost during the call: whoever holds it now re-sends (the broker answers a repeat).
      if (recorded.rowCount !== 1) return 'failed';
      return { operation: answer.operation };
    } catch (error) {
      if (error instanceof BrokerError && error.status >= 400 && error.status < 500) {
        await this.#finish(op, LastActionState.FAILED, error.description);
        return 'failed';
      }
      this.#o.logger.warn({ err: error, operation: op.id }, 'broker unreachable; will re-send');
      if (await this.#brokerUnreachable(op, error)) return 'failed';
      return 'retry';
    }
  }

  /**
   * Records that the broker did not answer; past the limit, ends the operation failed with the reason.
   * The start of the outage is stored, so a restart or another replica does not reset the clock.
   */
  async #brokerUnreachable(op: OperationRecord, error: unknown): Promise<boolean> {
    const limitMs = this.#o.brokerUnreachableMs ?? DEFAULT_BROKER_UNREACHABLE_MS;
    const { rows } = await this.#o.db.query<{ ms: number }>(
      `UPDATE api.operations SET broker_unreachable_since = coalesce(broker_unreachable_since, clock_timestamp())
       WHERE id = $1 AND holder = $2 AND state = 'in progress'
       RETURNING extract(epoch FROM clock_timestamp() - broker_unreachable_since) * 1000 AS ms`,
      [op.id, this.#o.holder],
    );
    const ms = rows[0]?.ms;
    if (ms === undefined || Number(ms) < limitMs) return false;
    const reason =
      error instanceof BrokerError ? `HTTP ${error.status}: ${error.description}` : describe(error);
    await this.#finish(
      op,
      LastActionState.FAILED,
      `the broker did not answer for ${formatDuration(limitMs)} (last error: ${reason}); the cluster may be ` +
        'partly changed: check it with `pks cluster`, then repeat the change or delete the cluster',
    );
    return true;
  }

  async #brokerAnswered(op: OperationRecord): Promise<void> {
    await this.#o.db.query(
      `UPDATE api.operations SET broker_unreachable_since = NULL
       WHERE id = $1 AND broker_unreachable_since IS NOT NULL`,
      [op.id],
    );
  }

  /** The operation's first Director task after `afterId` (its tasks run one after another). */
  async #nextTask(op: OperationRecord, afterId: number): Promise<number | undefined> {
    try {
      // The broker (ODB) chains an operation's Director tasks under one BOSH context id and returns it
      // in the operation data; that names this operation's tasks exactly. Without it, fall back to the
      // deployment's tasks started after the operation was recorded (never an earlier one: a delete right
      // after a resize must not follow the resize's task).
      const contextId = boshContextIdOf(op.brokerOperation);
      const tasks = await this.#o.director!.tasks({
        deployment: deploymentNameOf(op.clusterUuid),
        ...(contextId !== undefined ? { contextId } : {}),
        limit: 10,
        verbose: 2,
      });
      const since = op.createdAt.getTime() / 1000 - 1;
      const task = tasks
        .filter((t) => t.id > afterId)
        .filter((t) => (contextId !== undefined ? t.context_id === contextId : t.timestamp >= since))
        .sort((a, b) => a.id - b.id)[0];
      if (task === undefined) return undefined;
      await this.#o.db.query(`UPDATE api.operations SET director_task_id = $2 WHERE id = $1`, [
        op.id,
        task.id,
      ]);
      return task.id;
    } catch (error) {
      this.#o.logger.debug({ err: error }, 'no Director task found yet');
      return undefined;
    }
  }

  /** The Director task's progress as cluster events (pushed when the Director offers a stream). */
  async #tail(op: OperationRecord, taskId: number, signal: AbortSignal): Promise<void> {
    const cluster = await clusters.byUuid(this.#o.db, op.clusterUuid);
    if (cluster === undefined) return;
    let queue = Promise.resolve();
    await this.#o.director!.followTask(taskId, {
      signal,
      onEvent: (event: TaskEvent) => {
        if (event.stage === undefined) return;
        queue = queue.then(() =>
          recordClusterEvent(this.#o.db, this.#o.pubsub, {
            clusterUuid: cluster.uuid,
            clusterName: cluster.name,
            owner: cluster.owner,
            kind: ClusterEventKind.PROGRESS,
            at: new Date(event.time * 1000).toISOString(),
            lastAction: ACTION_OF[op.kind],
            lastActionState: LastActionState.IN_PROGRESS,
            description: `${event.stage}${event.task ? `: ${event.task}` : ''}`,
            stage: event.stage,
            task: event.task,
            index: event.index,
            total: event.total,
            progress: event.progress,
          }).catch((error: unknown) =>
            this.#o.logger.warn({ err: error }, 'could not record a progress event'),
          ),
        );
      },
    });
    await queue;
  }

  async #stateChange(
    op: OperationRecord,
    state: LastActionState,
    description: string,
    tx?: Queryable,
  ): Promise<void> {
    const db = tx ?? this.#o.db;
    await clusters.update(db, op.clusterUuid, { lastActionState: state, lastActionDescription: description });
    const cluster = (await clusters.byUuid(db, op.clusterUuid))!;
    await recordClusterEvent(db, this.#o.pubsub, {
      clusterUuid: cluster.uuid,
      clusterName: cluster.name,
      owner: cluster.owner,
      kind: ClusterEventKind.STATE,
      at: new Date().toISOString(),
      lastAction: ACTION_OF[op.kind],
      lastActionState: state,
      description,
    });
  }

  async #finish(op: OperationRecord, state: LastActionState, description: string): Promise<void> {
    const releasing = op.kind === OperationKind.DELETE && state === LastActionState.SUCCEEDED;
    if (releasing && this.#o.nsx && (await clusterNetworks.get(this.#o.db, op.clusterUuid))) {
      try {
        await this.#o.nsx.release(op.clusterUuid);
      } catch (error) {
        // The VMs are gone but NSX objects remain: the delete fails so that a retry releases them.
        state = LastActionState.FAILED;
        description = `NSX-T objects could not be released (${(error as Error).message}); delete the cluster again`;
      }
    }
    let masterIps: string[] | undefined;
    if (state === LastActionState.SUCCEEDED && op.kind !== OperationKind.DELETE && this.#o.director) {
      masterIps = await this.#o.director
        .instances(deploymentNameOf(op.clusterUuid))
        .then((instances) => instances.filter((i) => i.job === 'master').flatMap((i) => i.ips))
        .catch((error: unknown) => {
          // The operation's outcome stands; the master IPs are filled in by the next read that finds them.
          this.#o.logger.warn(
            { err: error, operation: op.id, cluster: op.clusterUuid },
            'could not read the master IPs of a cluster from the Director',
          );
          return undefined;
        });
    }
    await this.#o.db.transaction(async (tx) => {
      // Only the holder ends an operation: a driver that lost its lease during a long call must not.
      const done = await tx.query(
        `UPDATE api.operations SET phase = 'done', state = $2, description = $3, holder = NULL,
           lease_expires_at = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'in progress' AND holder = $4`,
        [op.id, state, description, this.#o.holder],
      );
      if (done.rowCount !== 1) return;
      if (masterIps !== undefined) await clusters.update(tx, op.clusterUuid, { masterIps });
      // An upgrade brings the cluster to this installation's versions (what `pks clusters` compares).
      if (op.kind === OperationKind.UPGRADE && state === LastActionState.SUCCEEDED)
        await clusters.update(tx, op.clusterUuid, { pksVersion: PKS_VERSION, k8sVersion: K8S_VERSION });
      if (op.kind === OperationKind.DELETE && state === LastActionState.SUCCEEDED) {
        await clusters.update(tx, op.clusterUuid, { deletedAt: new Date() });
        await clusterNetworks.remove(tx, op.clusterUuid);
      }
      await this.#stateChange(op, state, description, tx);
    });
    this.#o.metrics?.operations.inc({ kind: op.kind, state });
    this.#o.metrics?.operationSeconds.observe(
      { kind: op.kind },
      (Date.now() - op.createdAt.getTime()) / 1000,
    );
    this.#o.onFinished?.(op, state);
  }
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function completed(kind: OperationKind): string {
  if (kind === OperationKind.CREATE) return 'Instance provisioning completed';
  if (kind === OperationKind.DELETE) return 'Instance deletion completed';
  return 'Instance update completed';
}

function sleep(ms: number, signal: AbortSignal, onWake: (fn: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      onWake(() => {});
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    onWake(done);
  });
}

/** The OSB request body an operation recorded when it was first sent, to send again as it was. */
function sent<T>(op: OperationRecord): T {
  return op.request.body as unknown as T;
}
