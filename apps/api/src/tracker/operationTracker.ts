import type { DirectorClient, TaskEvent } from '@openpks/bosh';
import {
  BrokerError,
  boshContextIdOf,
  deploymentNameOf,
  type BrokerClient,
  type OsbProvisionRequest,
  type OsbUpdateRequest,
} from '@openpks/broker';
import type { PubSub } from '@openpks/db';
import { LastActionState } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { ACTION_OF } from '../clusters/lastAction.js';
import type { Metrics } from '../http/metrics.js';
import {
  OperationKind,
  OperationPhase,
  OperationState,
  type OperationRecord,
} from '../operations/operationStore.js';
import type { Operations } from '../operations/operations.js';
import { ClusterEventKind, recordClusterEvents, type ClusterEventMessage } from '../services/events.js';
import { clusterStore } from '../store/clusterStore.js';
import type { Database } from '@openpks/db';

export interface OperationTrackerOptions {
  pubsub: PubSub;
  /** Reads cluster names for progress events (the tracker writes nothing but through `operations`). */
  db: Database;
  broker: BrokerClient;
  /** The owner of every operation transition (leases, deadlines, the cluster mirror, events). */
  operations: Operations;
  /** Read-only: which Director task deploys the cluster, and its event log. */
  director?: DirectorClient | undefined;
  /** `last_operation` polling backoff: first interval and ceiling. */
  poll: { initialMs: number; maxMs: number };
  /** At most this many operations followed at once by this replica. */
  concurrency: number;
  leaseMs: number;
  logger: Logger;
  metrics?: Metrics | undefined;
}

const WAKE_CHANNEL = 'api_operations';
/** BOSH's description of an instance listing (`bosh instances --details`): a read, never an operation's step. */
const INSTANCE_LISTING_TASK = 'retrieve vm-stats';

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
   * Drives a stuck operation again now: its lease is taken from whoever holds it (a driver here stops),
   * the broker outage clock restarts, and every replica looks for work; an unacknowledged request is
   * re-sent. False when the operation is no longer in progress.
   */
  async retry(operationId: string): Promise<boolean> {
    if (!(await this.#o.operations.retry(operationId))) return false;
    this.#drivers.get(operationId)?.abort.abort();
    return true;
  }

  /**
   * Ends an operation failed with `description`, whoever drives it (its driver stops at its next write);
   * the cluster can then be changed or deleted again. The broker's side is not stopped. False when the
   * operation is no longer in progress.
   */
  async abandon(operationId: string, description: string): Promise<boolean> {
    const op = await this.#o.operations.abandon(operationId, description);
    if (op === undefined) return false;
    this.#drivers.get(operationId)?.abort.abort();
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
    const ms = await this.#o.operations.nextForeignLeaseExpiryMs();
    if (ms === null) return this.#o.leaseMs;
    return Math.min(Math.max(ms + 20, 20), this.#o.leaseMs);
  }

  async #scan(): Promise<void> {
    while (!this.#stopped && this.#drivers.size < this.#o.concurrency) {
      // Never a second driver here: an operation this replica drives is skipped even if its lease looks
      // expired (the heartbeat renews it; a lost lease stops the driver).
      const op = await this.#o.operations.claim([...this.#drivers.keys()]);
      if (op === undefined) return;
      this.#drive(op);
    }
  }

  #drive(op: OperationRecord): void {
    const abort = new AbortController();
    const entry = { abort, done: Promise.resolve() };
    // The lease is renewed on a clock of its own, not only between calls: one OSB call can outlast it.
    // A renewal that finds the lease gone (taken over, abandoned, finished elsewhere) stops this driver.
    const stopHeartbeat = this.#o.operations.heartbeat(op.id, () => abort.abort());
    entry.done = this.#follow(op, abort.signal)
      .catch((error: unknown) =>
        this.#o.logger.warn({ err: error, operation: op.id }, 'following an operation failed'),
      )
      .finally(async () => {
        stopHeartbeat();
        this.#drivers.delete(op.id);
        // Hand the row back at once (unless finished) so another look, here or elsewhere, picks it up.
        await this.#o.operations.release(op.id).catch(() => undefined);
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
      if (!(await this.#o.operations.renew(op.id))) return;
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
        if (await this.#o.operations.brokerUnreachable(op, reasonOf(error))) return;
        await backoff();
        continue;
      }
      if (signal.aborted) return;
      if (outage) {
        await this.#o.operations.brokerAnswered(op);
        outage = false;
      }
      this.#o.metrics?.trackerPolls.inc();
      const { operations } = this.#o;
      if (answer === 'gone') {
        if (op.kind === OperationKind.DELETE) return operations.finish(op, OperationState.SUCCEEDED);
        return operations.finish(
          op,
          OperationState.FAILED,
          'the broker no longer has this cluster (410 Gone)',
        );
      }
      if (answer === 'unknown') {
        if (op.kind === OperationKind.DELETE) return operations.finish(op, OperationState.SUCCEEDED);
        return operations.finish(op, OperationState.FAILED, 'the broker does not know this cluster (404)');
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
        // Success reads as PKS words it (the owner's default), whatever the broker called it.
        return answer.state === 'succeeded'
          ? operations.finish(op, OperationState.SUCCEEDED)
          : operations.finish(op, OperationState.FAILED, answer.description || `${op.kind} failed`);
      }
      if (answer.description && answer.description !== lastDescription) {
        lastDescription = answer.description;
        await operations.progress(op, answer.description);
      }
      if (await operations.pollingOverdue(op, lastDescription)) return;
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

  /** Sends again a request the broker never acknowledged (OSB: a re-sent PUT during provisioning gets 202). */
  async #resend(op: OperationRecord): Promise<{ operation: string | undefined } | 'retry' | 'failed'> {
    const { broker, operations } = this.#o;
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
      // The lease was lost during the call: whoever holds it now re-sends (the broker answers a repeat).
      if (!(await operations.resent(op, answer.operation))) return 'failed';
      return { operation: answer.operation };
    } catch (error) {
      if (error instanceof BrokerError && error.status >= 400 && error.status < 500) {
        await operations.finish(op, OperationState.FAILED, error.description);
        return 'failed';
      }
      this.#o.logger.warn({ err: error, operation: op.id }, 'broker unreachable; will re-send');
      if (await operations.brokerUnreachable(op, reasonOf(error))) return 'failed';
      return 'retry';
    }
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
        .filter((t) =>
          contextId !== undefined
            ? t.context_id === contextId
            : t.timestamp >= since && t.description !== INSTANCE_LISTING_TASK,
        )
        .sort((a, b) => a.id - b.id)[0];
      if (task === undefined) return undefined;
      await this.#o.operations.directorTask(op, task.id);
      return task.id;
    } catch (error) {
      this.#o.logger.debug({ err: error }, 'no Director task found yet');
      return undefined;
    }
  }

  /** The Director task's progress as cluster events (pushed when the Director offers a stream). */
  async #tail(op: OperationRecord, taskId: number, signal: AbortSignal): Promise<void> {
    const cluster = await clusterStore.byUuid(this.#o.db, op.clusterUuid);
    if (cluster === undefined) return;
    // Events that arrive while a write is under way go together in the next one (one statement for a
    // batch), in the order they came; a write at a time keeps the feed's order.
    let pending: ClusterEventMessage[] = [];
    let writing: Promise<void> | undefined;
    const flush = async (): Promise<void> => {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        await recordClusterEvents(this.#o.db, batch).catch((error: unknown) =>
          this.#o.logger.warn({ err: error, events: batch.length }, 'could not record progress events'),
        );
      }
      writing = undefined;
    };
    await this.#o.director!.followTask(taskId, {
      signal,
      onEvent: (event: TaskEvent) => {
        if (event.stage === undefined) return;
        pending.push({
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
        });
        // A microtask later, so that events handed over in one go (a replayed log) share the first write.
        writing ??= Promise.resolve().then(flush);
      },
    });
    await writing;
  }
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/** Why the broker did not answer, in a few words. */
function reasonOf(error: unknown): string {
  return error instanceof BrokerError ? `HTTP ${error.status}: ${error.description}` : describe(error);
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
