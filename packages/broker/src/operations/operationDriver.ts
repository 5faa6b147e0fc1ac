import { randomUUID } from 'node:crypto';
import { ACTIVE_TASK_STATES, type DirectorClient, type ErrandResult } from '@openpks/bosh';
import type { Database } from '@openpks/db';
import { InternalError, isPksError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { deploymentNameOf } from '../contract/deployment.js';
import { OperationState, OperationType } from '../contract/operationData.js';
import { instanceStore } from '../store/instanceStore.js';
import { operationStore, type OperationRow } from '../store/operationStore.js';
import { errandFailure } from './errandOutcome.js';
import { DESCRIPTIONS, type Step } from './steps.js';

export interface OperationDriverOptions {
  db: Database;
  director: DirectorClient;
  logger: Logger;
  /** This replica's name on the leases (default `broker-<uuid>`). */
  holder?: string | undefined;
  /** A replica that stops renewing (it crashed) loses its operations to another after this long (default 15 s). */
  leaseMs?: number | undefined;
  /** How often to look for operations nobody drives (default 1 s). */
  scanMs?: number | undefined;
  /** A step claimed but never seen at the Director (its starter died in between) is started again after this long (default 30 s). */
  stepRetryMs?: number | undefined;
  /** At most this many operations driven at once by this replica, beyond those its own requests start (default 500). */
  maxDriving?: number | undefined;
}

/** What one look at an operation decided. */
type Move =
  /** The operation has ended (here or elsewhere). */
  | { kind: 'ended' }
  /** Another replica holds its lease now. */
  | { kind: 'lost' }
  /** Its current step is a running Director task: wait for that task's end. */
  | { kind: 'follow'; taskId: number }
  /** A step was just started: look again at once. */
  | { kind: 'again' }
  /** Nothing to do until a claim falls due: look again after this long. */
  | { kind: 'later'; ms: number };

interface Driving {
  id: string;
  /** Ends the driving (stop, or the lease was lost): aborts the wait for a task. */
  abort: AbortController;
  /** Looks at the operation, one at a time (the driver's own and those asked for by a poll). */
  turns: Promise<unknown>;
  /** Cuts a pause short (someone asked for a look). */
  wake: () => void;
  done: Promise<void>;
  /**
   * The operation's row as the last turn left it, while this replica holds its lease: only the lease
   * holder changes a row in progress, so the next turn (and a `last_operation` poll) starts from it rather
   * than reading it again. Unset after anything that leaves the row uncertain (a claim refused, an error).
   */
  row: OperationRow | undefined;
}

/** What one look decided, and the row as it stands after it (unknown when the lease was lost). */
interface Look {
  move: Move;
  row: OperationRow | undefined;
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
/** How often a claimed step whose task has not shown up yet is looked for. */
const CLAIM_RECHECK_MS = 250;

/**
 * Drives the broker's operations to their end on its own: a deploy (or the drain errand) is followed to its
 * end at the Director, the next step (the lifecycle errand, the deletion) started, and the operation ended
 * with what the Director reports, errand exit codes included. Nobody needs to poll `last_operation` for
 * this; a poll only asks for a fresh look.
 *
 * Every operation in progress is leased by the replica driving it (`broker.operations.lease_holder`):
 * a request records its operation under its replica's lease, the heartbeat renews the leases while
 * Director calls run, a stopping replica releases them, and the scan takes up operations whose lease is
 * free or expired (a replica that crashed). Only the holder claims a step or ends an operation, and a step
 * is claimed in the row before it is started, so two replicas never start the same step.
 */
export class OperationDriver {
  readonly holder: string;
  readonly leaseMs: number;
  readonly #db: Database;
  readonly #director: DirectorClient;
  readonly #logger: Logger;
  readonly #scanMs: number;
  readonly #stepRetryMs: number;
  readonly #maxDriving: number;
  /** Operations this replica drives now. */
  readonly #driving = new Map<string, Driving>();
  /** Operations whose lease this replica keeps alive: those it drives and those its requests are starting. */
  readonly #held = new Set<string>();
  #scanTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #stopped = false;
  /** Whether a stopped driver gives leases up (a graceful stop) or leaves them to expire (a crash). */
  #releaseOnStop = true;

  constructor(options: OperationDriverOptions) {
    this.#db = options.db;
    this.#director = options.director;
    this.#logger = options.logger;
    this.holder = options.holder ?? `broker-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.#scanMs = options.scanMs ?? 1_000;
    this.#stepRetryMs = options.stepRetryMs ?? 30_000;
    this.#maxDriving = options.maxDriving ?? 500;
  }

  /** The lease a request on this replica records its new operation under. */
  get lease(): { holder: string; ttlMs: number } {
    return { holder: this.holder, ttlMs: this.leaseMs };
  }

  /** Starts driving: at once what nobody drives (a stopped broker's operations), then on every scan. */
  start(): void {
    this.#heartbeat = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.#heartbeat.unref?.();
    this.#scheduleScan(0);
  }

  /** Stops driving; `release: false` leaves the leases to expire, as a crash would. */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    this.#releaseOnStop = release;
    clearTimeout(this.#scanTimer);
    clearInterval(this.#heartbeat);
    await this.#scanning;
    const held = [...this.#held];
    const driving = [...this.#driving.values()];
    for (const entry of driving) entry.abort.abort();
    await Promise.all(driving.map((entry) => entry.done));
    if (release) {
      await operationStore
        .release(this.#db, this.holder, held)
        .catch((error: unknown) => this.#logger.warn({ err: error }, 'could not release operation leases'));
    }
    this.#held.clear();
  }

  /**
   * Runs a request's first Director call on the operation it just recorded under this replica's lease,
   * keeping the lease alive meanwhile, and then drives the operation on (whatever the call did).
   */
  async begin<T>(operationId: string, first: () => Promise<T>): Promise<T> {
    this.#held.add(operationId);
    try {
      return await first();
    } finally {
      this.#spawn(operationId);
    }
  }

  /**
   * A fresh look at an operation, for an answer that is up to date (a `last_operation` poll): a look now
   * if this replica drives it, a claim of it if nobody does. Progress never depends on this. Returns the
   * operation's row after a look this replica made under its lease, undefined when it did not look (or
   * the look lost the lease): then the record is what tells.
   */
  async nudge(operationId: string): Promise<OperationRow | undefined> {
    if (this.#stopped) return undefined;
    if (this.#driving.has(operationId)) return this.refresh(operationId);
    try {
      // A request of this replica is starting it: it is driven as soon as the request is through.
      if (this.#held.has(operationId)) return undefined;
      if (!(await operationStore.claim(this.#db, operationId, this.holder, this.leaseMs))) return undefined;
      await this.#spawn(operationId)?.turns;
    } catch (error) {
      this.#logger.debug({ err: error, operation: operationId }, 'looking at an operation failed');
    }
    return undefined;
  }

  /**
   * A look now at an operation this replica drives, and its row after it; undefined when this replica
   * does not drive it (nothing is claimed) or the look did not end knowing the row.
   */
  async refresh(operationId: string): Promise<OperationRow | undefined> {
    const entry = this.#driving.get(operationId);
    if (entry === undefined || this.#stopped) return undefined;
    try {
      const { row } = await this.#look(entry);
      entry.wake();
      return row;
    } catch (error) {
      this.#logger.debug({ err: error, operation: operationId }, 'looking at an operation failed');
      return undefined;
    }
  }

  /**
   * The row of an operation this replica drives, as its last turn left it (authoritative while the lease
   * is held: nobody else changes it); undefined when it does not drive it or a turn is making it uncertain.
   */
  known(operationId: string): OperationRow | undefined {
    return this.#driving.get(operationId)?.row;
  }

  #scheduleScan(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#scanTimer);
    this.#scanTimer = setTimeout(() => {
      this.#scanning = this.#scan()
        .catch((error: unknown) =>
          this.#logger.warn({ err: error }, 'looking for operations to drive failed; trying again'),
        )
        .finally(() => {
          this.#scanning = undefined;
          this.#scheduleScan(this.#scanMs);
        });
    }, delayMs);
    this.#scanTimer.unref?.();
  }

  async #scan(): Promise<void> {
    const room = this.#maxDriving - this.#driving.size;
    if (room <= 0) return;
    const claimed = await operationStore.claimUndriven(
      this.#db,
      this.holder,
      this.leaseMs,
      [...this.#held],
      room,
    );
    for (const id of claimed) {
      if (this.#stopped) {
        await operationStore.release(this.#db, this.holder, [id]);
        continue;
      }
      this.#logger.info({ operation: id }, 'driving an operation nobody drove');
      this.#held.add(id);
      this.#spawn(id);
    }
  }

  /** One statement renews every lease this replica holds; a driving whose lease was taken stops. */
  async #renew(): Promise<void> {
    if (this.#held.size === 0 || this.#stopped) return;
    try {
      const ours = await operationStore.renew(this.#db, this.holder, [...this.#held], this.leaseMs);
      for (const id of this.#held) {
        if (ours.has(id)) continue;
        // Ended (its driving stops on its own) or taken by another replica (stop waiting for its task).
        this.#driving.get(id)?.abort.abort();
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'renewing operation leases failed; retrying');
    }
  }

  #spawn(id: string): Driving | undefined {
    if (this.#stopped) {
      // A request that was still running when the broker stopped: its operation is left to the next driver.
      this.#held.delete(id);
      if (this.#releaseOnStop) {
        operationStore
          .release(this.#db, this.holder, [id])
          .catch((error: unknown) =>
            this.#logger.warn({ err: error }, 'could not release an operation lease'),
          );
      }
      return undefined;
    }
    const existing = this.#driving.get(id);
    if (existing !== undefined) return existing;
    this.#held.add(id);
    let wakeNow = () => {};
    const entry: Driving = {
      id,
      abort: new AbortController(),
      turns: Promise.resolve(),
      wake: () => wakeNow(),
      done: Promise.resolve(),
      row: undefined,
    };
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          entry.abort.signal.removeEventListener('abort', done);
          wakeNow = () => {};
          resolve();
        }
        entry.abort.signal.addEventListener('abort', done, { once: true });
        wakeNow = done;
      });
    this.#driving.set(id, entry);
    entry.done = this.#drive(entry, pause).finally(() => {
      this.#driving.delete(id);
      this.#held.delete(id);
    });
    return entry;
  }

  async #drive(entry: Driving, pause: (ms: number) => Promise<void>): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    while (!entry.abort.signal.aborted) {
      let move: Move;
      try {
        ({ move } = await this.#look(entry));
        backoff = FIRST_BACKOFF_MS;
      } catch (error) {
        // The Director or the database did not answer: the lease is kept (the heartbeat renews it) and the
        // look is repeated, backing off.
        this.#logger.warn({ err: error, operation: entry.id }, 'driving an operation failed; retrying');
        await pause(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      switch (move.kind) {
        case 'ended':
        case 'lost':
          return;
        case 'again':
          continue;
        case 'later':
          await pause(move.ms);
          continue;
        case 'follow':
          try {
            // Pushed by a Director with an event stream; polled with backoff otherwise. The wait ends at
            // once when the driving does: DirectorClient misses an abort that comes while it is still
            // opening the stream, and such a follow would otherwise last until the task ends.
            const follow = this.#director.followTask(move.taskId, { signal: entry.abort.signal });
            follow.catch(() => undefined);
            await Promise.race([follow, aborted(entry.abort.signal)]);
          } catch (error) {
            if (entry.abort.signal.aborted) return;
            this.#logger.debug({ err: error, operation: entry.id }, 'following a task broke off');
            await pause(backoff);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          }
          continue;
      }
    }
  }

  /** One look at a time per operation: the driver's own and those a poll asks for. */
  #look(entry: Driving): Promise<Look> {
    const look = entry.turns.then(async () => {
      // Uncertain until the turn says otherwise (it may fail half-way).
      const known = entry.row;
      entry.row = undefined;
      const result = await this.#turn(entry.id, known);
      entry.row = result.row;
      return result;
    });
    entry.turns = look.catch(() => undefined);
    return look;
  }

  /**
   * Brings the operation up to date from the Director: its tasks are found by context id; when the newest
   * has ended `done` (and, for an errand, every instance exited 0) the next step is claimed and started,
   * or the operation ends when it was the last.
   */
  async #turn(id: string, known: OperationRow | undefined): Promise<Look> {
    const read = known ?? (await operationStore.get(this.#db, id));
    if (read === undefined || read.state !== OperationState.IN_PROGRESS) {
      return { move: { kind: 'ended' }, row: read };
    }
    if (read.lease_holder !== this.holder) return { move: { kind: 'lost' }, row: undefined };
    let op: OperationRow = read;
    const as = (move: Move): Look => ({ move, row: op });
    const tasks = (
      await this.#director.tasks({
        deployment: deploymentNameOf(op.instance_id),
        contextId: op.id,
        verbose: 2,
        limit: 100,
      })
    )
      .filter((t) => t.context_id === op.id)
      .sort((a, b) => a.id - b.id);
    const words = DESCRIPTIONS[op.type];
    const latest = tasks.at(-1);
    if (latest === undefined) {
      const waited = Date.now() - op.step_started_at.getTime();
      if (waited > this.#stepRetryMs) {
        return this.#finish(op, OperationState.FAILED, `${words.failed}: the Director has no task for it`);
      }
      return as({ kind: 'later', ms: Math.min(CLAIM_RECHECK_MS, this.#stepRetryMs - waited + 1) });
    }
    if (ACTIVE_TASK_STATES.includes(latest.state)) return as({ kind: 'follow', taskId: latest.id });
    if (latest.state !== 'done') {
      return this.#finish(
        op,
        OperationState.FAILED,
        `${words.failed}: ${latest.result ?? `task ${latest.id} ${latest.state}`}`,
      );
    }
    const step: Step | undefined = op.steps[tasks.length - 1];
    if (step?.kind === 'errand') {
      const failure = errandFailure(
        step.name,
        latest.id,
        await this.#director.taskResult<ErrandResult>(latest.id),
      );
      if (failure !== undefined)
        return this.#finish(op, OperationState.FAILED, `${words.failed}: ${failure}`);
    }
    if (tasks.length >= op.steps.length) {
      if (op.type === OperationType.DELETE) await instanceStore.forget(this.#db, op.instance_id);
      return this.#finish(op, OperationState.SUCCEEDED, words.done);
    }
    const next = tasks.length;
    if (!(await operationStore.claimStep(this.#db, op.id, next, this.holder, this.#stepRetryMs))) {
      // Claimed already (a moment ago, here or by the replica before) and its task not at the Director yet:
      // started again only once the claim is overdue (its starter died before the Director took it).
      // The row is read again next time: the claim may have been refused for a lease lost.
      const waited = Date.now() - op.step_started_at.getTime();
      return {
        move: { kind: 'later', ms: Math.max(10, Math.min(CLAIM_RECHECK_MS, this.#stepRetryMs - waited + 1)) },
        row: undefined,
      };
    }
    // What the claim wrote (`now()` there; this clock only times a retry of a claim that never showed up).
    op = { ...op, step: next + 1, step_started_at: new Date() };
    try {
      await this.#startStep(op, op.steps[next]!);
    } catch (error) {
      // The Director refused the step: the operation fails with its reason. No answer at all: whether it
      // took the step is unknown, so the claim stands and the step is looked for (and started again once
      // the claim is overdue).
      if (isPksError(error)) {
        return this.#finish(op, OperationState.FAILED, `${words.failed}: ${(error as Error).message}`);
      }
      throw error;
    }
    return as({ kind: 'again' });
  }

  #startStep(op: OperationRow, step: Step): Promise<unknown> {
    const deployment = deploymentNameOf(op.instance_id);
    switch (step.kind) {
      case 'errand':
        return this.#director.runErrand(deployment, step.name, { contextId: op.id });
      case 'delete':
        return this.#director.deleteDeployment(deployment, { contextId: op.id });
      case 'deploy':
        throw new InternalError(
          'a deploy is only ever the first step of an operation, started by its request',
        );
    }
  }

  async #finish(op: OperationRow, state: OperationState, description: string): Promise<Look> {
    const ended = await operationStore.finish(this.#db, op.id, this.holder, state, description);
    if (ended === undefined) return { move: { kind: 'lost' }, row: undefined };
    this.#logger.info({ operation: op.id, state, description }, 'operation finished');
    return { move: { kind: 'ended' }, row: ended };
  }
}

/** Settles when the signal aborts (at once if it has). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
