import { randomUUID } from 'node:crypto';
import type { Database, Unlisten } from '@openpks/db';
import { InputError, isPksError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { CpiError, CpiTimeoutError } from '../cpi/cpi.js';
import { EventLog } from './eventLog.js';
import type { DirectorEventInput } from './store/eventStore.js';
import { TaskJournal } from './taskJournal.js';
import { Interrupted, LeaseLost, TaskCancelled } from './interruptions.js';
import { TaskState } from '../protocol/types.js';
import type { TaskStore } from './store/taskStore.js';
import { OutputType, TASK_EVENTS_CHANNEL, type TaskNotice, type TaskRow } from './tasks.js';

/** What a task handler gets: its row, its event log, and the means to stop, cancel and resume. */
export interface TaskContext {
  task: TaskRow;
  events: EventLog;
  /** Aborted when this director stops: the handler should return at its next step (it will resume). */
  signal: AbortSignal;
  /** True when another director (or this one before a restart) already ran part of this task. */
  resumed: boolean;
  /** Throws TaskCancelled when someone cancelled the task, Interrupted when the director is stopping. */
  checkpoint(progress?: Record<string, unknown>): Promise<void>;
  result(line: unknown): Promise<void>;
  /** A debug line; `urgent` false when the caller goes on without it (it goes with the next write). */
  debug(line: string, urgent?: boolean): Promise<void>;
  /**
   * A line of the CPI log (`bosh task N --cpi`): one per CPI call the task made, with its outcome. Not
   * urgent: it goes out with the task's next write (the task's end flushes it).
   */
  cpi(line: string): Promise<void>;
  /**
   * Records a Director event of this task; resolves with its id. `urgent` false when the caller needs
   * neither the id nor the row at once (a step's start and end): it goes with the next write. `parent`:
   * the promise of the event this one ends, whose id may not be known yet.
   */
  event(event: DirectorEventInput, urgent?: boolean, parent?: Promise<number>): Promise<number>;
}

/**
 * How long a task's writes nobody waits for (stage lines, CPI log lines, end events) may wait for a
 * statement to share: a follower sees a line at most this much later; a task's end writes all at once.
 */
const OUTPUT_WINDOW_MS = 50;

/**
 * The notice, when it may mean a task can be claimed now: a new queued task, or a task that ended (its
 * deployment's lock is free). A claim (`processing`) or output growing makes nothing runnable. Notices
 * without a state (a cancel, a director of an older version) count as "maybe".
 */
function runnableNotice(payload: string): Partial<TaskNotice> | undefined {
  let notice: Partial<TaskNotice>;
  try {
    notice = JSON.parse(payload) as Partial<TaskNotice>;
  } catch {
    return undefined;
  }
  if (notice.kind !== 'state') return undefined;
  if (notice.state === TaskState.PROCESSING || notice.state === TaskState.CANCELLING) return undefined;
  return notice;
}

/** What a handler returns: the task's short `result` text. */
export type TaskHandler = (context: TaskContext) => Promise<string>;

/** Handlers that a restarted director can pick up again (they converge on recorded state). */
export interface HandlerEntry {
  run: TaskHandler;
  resumable: boolean;
}

export interface TaskRunnerOptions {
  workers: number;
  /** How long a claimed task stays ours without renewal (renewed every third of it). */
  leaseMs: number;
  /** How often idle workers look for work when no notification woke them. */
  pollMs: number;
  /** How many times a task is resumed after restarts before it ends `error`. */
  maxResumes: number;
}

/**
 * The worker pool: a dispatcher claims runnable tasks (FOR UPDATE SKIP LOCKED, one deployment lock) and
 * hands each to an idle worker, which runs its handler under a renewed lease and records how it ended. A
 * stop aborts handlers at their next step and releases their tasks, so the next director resumes them; a
 * crash leaves the lease to expire.
 *
 * Why a dispatcher rather than each worker claiming for itself: with every idle worker woken by every task
 * notification, 50 workers raced to claim the one new task (one read of `director.tasks` and one claim lock
 * each, ~20,000 of both in a 100-cluster upgrade). Here the process claims one task at a time and only
 * while it has an idle worker to give it to, so a notification costs one claim per task it made runnable
 * plus one that finds nothing. The database claim stays the arbiter between processes (another director's
 * dispatcher may take the task first; ours then finds nothing and waits).
 */
export class TaskRunner {
  readonly #holder = `director-${randomUUID()}`;

  /** This runner's name on the task leases (`director.tasks.holder`). */
  get holder(): string {
    return this.#holder;
  }
  readonly #abort = new AbortController();
  /** The tasks this runner's workers are running, by id. */
  readonly #running = new Map<number, Promise<void>>();
  #dispatcher: Promise<void> | undefined;
  /** Set when something may have made a task runnable since the dispatcher last found none. */
  #dirty = true;
  #kick: (() => void) | undefined;
  #unlisten: Unlisten | undefined;
  #release = true;
  #claims = 0;
  /** Running tasks that a notification says may have been cancelled since their last state read. */
  readonly #maybeCancelled = new Set<number>();
  /** The last task whose queued notification woke the dispatcher. */
  #announced: number | undefined;

  constructor(
    private readonly db: Database,
    private readonly store: TaskStore,
    private readonly handlers: Record<string, HandlerEntry>,
    private readonly options: TaskRunnerOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#unlisten = await this.db.listen(TASK_EVENTS_CHANNEL, (payload) => {
      this.#noteCancel(payload);
      const notice = runnableNotice(payload);
      if (notice === undefined) return;
      // A task running here can only end here, and its worker coming free makes the dispatcher look.
      if (notice.id !== undefined && this.#running.has(notice.id)) return;
      if (notice.state === TaskState.QUEUED && notice.id !== undefined) this.#announced = notice.id;
      this.wake();
    });
    this.#dispatcher = this.#dispatch();
  }

  /**
   * A state notice about a task running here that may be a cancel (`cancelling`, or no state as `cancel`
   * sends): its next checkpoint reads the state. Steps read it only then, not at every checkpoint.
   */
  #noteCancel(payload: string): void {
    let notice: Partial<TaskNotice>;
    try {
      notice = JSON.parse(payload) as Partial<TaskNotice>;
    } catch {
      return;
    }
    if (notice.kind !== 'state' || notice.id === undefined || !this.#running.has(notice.id)) return;
    if (notice.state === undefined || notice.state === TaskState.CANCELLING)
      this.#maybeCancelled.add(notice.id);
  }

  /** How many claims this runner has made (successful or not): what the dispatcher saves is visible here. */
  get claims(): number {
    return this.#claims;
  }

  /**
   * Something may be runnable now: the dispatcher looks once more (notifications while it looks coalesce).
   * With `queued`, the task just queued here: a wake its queued notification already gave is not repeated
   * (on PGlite the notification comes first, and a second wake cost a claim that found nothing).
   */
  wake(queued?: number): void {
    if (queued !== undefined && queued === this.#announced) return;
    this.#dirty = true;
    const kick = this.#kick;
    this.#kick = undefined;
    kick?.();
  }

  /** Stops the workers; with `release: false` running tasks keep their lease, as after a crash. */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.#release = release;
    this.#abort.abort();
    this.wake();
    await this.#dispatcher;
    await Promise.all(this.#running.values());
    await this.#unlisten?.();
  }

  async #dispatch(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let claimed: Awaited<ReturnType<TaskStore['claim']>>;
      if (this.#dirty && this.#running.size < this.options.workers) {
        // Cleared before the claim: a notification that arrives while it runs asks for one more look.
        this.#dirty = false;
        this.#claims += 1;
        try {
          claimed = await this.store.claim(this.#holder, this.options.leaseMs);
        } catch (error) {
          if (signal.aborted) return;
          this.logger.error({ err: error }, 'cannot claim director tasks');
          claimed = undefined;
        }
        if (claimed !== undefined) {
          if (signal.aborted) {
            // Claimed as we stopped: hand it straight back so the next director need not wait for the lease.
            if (this.#release) await this.store.release(claimed.task.id, this.#holder).catch(() => undefined);
            return;
          }
          const { id } = claimed.task;
          const run = this.#run(claimed.task, claimed.recovered).finally(() => {
            // (A task recovered from an expired lease may be this runner's own earlier run of it.)
            if (this.#running.get(id) === run) this.#running.delete(id);
            // A worker is free again, and its task's end may have unlocked its deployment's next task.
            this.wake();
          });
          this.#running.set(id, run);
          // The claim saw another runnable task: look again. Without one, whatever becomes runnable later
          // is announced by a notification (which sets #dirty, also while the claim ran) or the poll.
          if (claimed.more) this.#dirty = true;
          continue;
        }
      }
      if (this.#dirty && this.#running.size < this.options.workers) continue;
      // Nothing to do until a notification, a worker coming free, or the poll: the poll is for what no
      // notification announces, another director's lease running out. Only with a free worker does it claim.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#dirty = true;
          resolve();
        }, this.options.pollMs);
        this.#kick = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#kick = undefined;
    }
  }

  async #run(task: TaskRow, recovered: boolean): Promise<void> {
    const { id } = task;
    // One journal for all the task writes: lines nobody waits for share the next statement.
    const journal = new TaskJournal(this.store, id, OUTPUT_WINDOW_MS);
    const events = new EventLog(
      (text, urgent) => journal.output(OutputType.EVENT, text, urgent),
      () => journal.flush(),
    );
    // Losing the lease (it expired, another director took the task over) stops this run at its next step.
    let lost = false;
    /** A renewal saw the task `cancelling`. */
    let cancelSeen = false;
    const renew = setInterval(
      () => {
        this.store.renew(id, this.#holder, this.options.leaseMs).then(
          (state) => {
            if (state === undefined && !lost) {
              lost = true;
              this.logger.warn({ task: id }, 'lost the lease of a running task; stopping it here');
            }
            // A cancel whose notification never came (a dropped LISTEN connection) is seen here.
            if (state === TaskState.CANCELLING) cancelSeen = true;
          },
          (error: unknown) => this.logger.warn({ err: error, task: id }, 'cannot renew task lease'),
        );
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    const signal = this.#abort.signal;
    let checkpointState: Record<string, unknown> = task.checkpoint ?? {};
    // Whether a step must read the task's state for a cancel. The first checkpoint always reads it (a
    // cancel may have come between the claim and this run's notice watch); later ones only after a
    // notice that may be a cancel, or a renewal that saw `cancelling` (a read at every step cost one
    // statement per step of every task, for cancels that almost never come).
    let stateRead = false;
    const context: TaskContext = {
      task,
      events,
      signal,
      resumed: recovered,
      checkpoint: async (progress) => {
        let state: TaskState | undefined;
        if (progress) {
          checkpointState = { ...checkpointState, ...progress };
          // The update returns the state as it stands: it answers any notice so far.
          this.#maybeCancelled.delete(id);
          state = await this.store.saveCheckpoint(id, checkpointState);
        }
        if (lost) throw new LeaseLost();
        if (state === undefined && (!stateRead || cancelSeen || this.#maybeCancelled.has(id))) {
          // Cleared before the read: a notice that arrives during it asks for the next step's read.
          this.#maybeCancelled.delete(id);
          state = await this.store.state(id);
        }
        if (state !== undefined) stateRead = true;
        if (state === TaskState.CANCELLING || cancelSeen) throw new TaskCancelled();
        if (signal.aborted) throw new Interrupted();
      },
      result: (line) => journal.output(OutputType.RESULT, `${JSON.stringify(line)}\n`, true),
      debug: (line, urgent = true) =>
        journal.output(OutputType.DEBUG, `${new Date().toISOString()} ${line}\n`, urgent),
      cpi: (line) => journal.output(OutputType.CPI, `${new Date().toISOString()} ${line}\n`, false),
      event: (event, urgent = true, parent) => journal.event(event, urgent, parent),
    };
    try {
      const entry = this.handlers[task.type];
      if (entry === undefined) throw new Error(`unknown task type '${task.type}'`);
      if (recovered) {
        const resumes = Number(checkpointState.resumes ?? 0) + 1;
        if (task.state === TaskState.CANCELLING) throw new TaskCancelled();
        if (!entry.resumable) {
          throw new Error(
            `Task was interrupted by a director restart while running (${task.type} cannot resume)`,
          );
        }
        if (resumes > this.options.maxResumes) {
          throw new Error(`Task was interrupted by director restarts ${resumes - 1} times; giving up`);
        }
        await context.checkpoint({ resumes });
        await events.warning('Director restarted; resuming the task from its recorded progress');
        await context.debug(`resuming task ${id} (attempt ${resumes})`);
      }
      // Not waited for: it goes with the task's first write.
      context.debug(`task ${id} (${task.type}) started by ${this.#holder}`, false).catch(() => undefined);
      const result = await entry.run(context);
      await events.flush();
      await this.store.finish(id, TaskState.DONE, result);
    } catch (error) {
      await events.flush().catch(() => undefined);
      if (error instanceof LeaseLost || lost) {
        // Another director owns the task now; whatever it records is the outcome.
        this.logger.warn({ task: id }, 'abandoned a task whose lease another director holds');
      } else if (error instanceof Interrupted || (signal.aborted && !(error instanceof TaskCancelled))) {
        // Leave it `processing` with its checkpoint; the next director claims it at once.
        if (this.#release) await this.store.release(id, this.#holder).catch(() => undefined);
        await context.debug(`task ${id} released: director stopping`).catch(() => undefined);
      } else if (
        error instanceof TaskCancelled ||
        (await this.store.state(id).catch(() => undefined)) === TaskState.CANCELLING
      ) {
        // A step that fails while a cancel is pending ends the task as the user asked: cancelled.
        await journal.flush().catch(() => undefined);
        await this.store.finish(id, TaskState.CANCELLED, 'Task was cancelled');
      } else {
        const message = error instanceof Error ? error.message : String(error);
        const code =
          error instanceof InputError
            ? 440001
            : error instanceof CpiError
              ? 100
              : isPksError(error)
                ? 190001
                : 100;
        try {
          await events.error(code, message);
          await context.debug(
            `task ${id} failed: ${error instanceof Error ? (error.stack ?? message) : message}`,
          );
        } catch {
          // the outcome below matters more than the log line
        }
        // Lines nobody waited for (an end event, a CPI log line) go before the end, as on success.
        await journal.flush().catch(() => undefined);
        await this.store.finish(
          id,
          error instanceof CpiTimeoutError ? TaskState.TIMEOUT : TaskState.ERROR,
          message,
        );
      }
    } finally {
      clearInterval(renew);
      this.#maybeCancelled.delete(id);
    }
  }
}
