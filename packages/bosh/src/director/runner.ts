import { randomUUID } from 'node:crypto';
import type { Database, Unlisten } from '@openpks/db';
import { InputError, isPksError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { CpiError, CpiTimeoutError } from '../cpi/cpi.js';
import { EventLog } from './eventLog.js';
import { Interrupted, LeaseLost, TaskCancelled } from './interruptions.js';
import { OutputType, TASK_EVENTS_CHANNEL, TaskState, type TaskRow, type TaskStore } from './tasks.js';

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
  debug(line: string): Promise<void>;
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
 * The worker pool: each worker claims a runnable task (FOR UPDATE SKIP LOCKED, one deployment lock),
 * runs its handler under a renewed lease, and records how it ended. A stop aborts handlers at their next
 * step and releases their tasks, so the next director resumes them; a crash leaves the lease to expire.
 */
export class TaskRunner {
  readonly #holder = `director-${randomUUID()}`;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #wakers = new Set<() => void>();
  #unlisten: Unlisten | undefined;
  #release = true;

  constructor(
    private readonly db: Database,
    private readonly store: TaskStore,
    private readonly handlers: Record<string, HandlerEntry>,
    private readonly options: TaskRunnerOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#unlisten = await this.db.listen(TASK_EVENTS_CHANNEL, (payload) => {
      if (payload.includes('"state"')) this.wake();
    });
    for (let i = 0; i < this.options.workers; i++) this.#loops.push(this.#loop());
  }

  wake(): void {
    const wakers = this.#wakers;
    this.#wakers = new Set();
    for (const wake of wakers) wake();
  }

  /** Stops the workers; with `release: false` running tasks keep their lease, as after a crash. */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.#release = release;
    this.#abort.abort();
    this.wake();
    await Promise.all(this.#loops);
    await this.#unlisten?.();
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let claimed: Awaited<ReturnType<TaskStore['claim']>>;
      try {
        claimed = await this.store.claim(this.#holder, this.options.leaseMs);
      } catch (error) {
        if (signal.aborted) return;
        this.logger.error({ err: error }, 'cannot claim director tasks');
        claimed = undefined;
      }
      if (claimed === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.#wakers.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      }
      await this.#run(claimed.task, claimed.recovered);
    }
  }

  async #run(task: TaskRow, recovered: boolean): Promise<void> {
    const { id } = task;
    const events = new EventLog((text) => this.store.append(id, OutputType.EVENT, text));
    // Losing the lease (it expired, another director took the task over) stops this run at its next step.
    let lost = false;
    const renew = setInterval(
      () => {
        this.store.renew(id, this.#holder, this.options.leaseMs).then(
          (held) => {
            if (!held && !lost) {
              lost = true;
              this.logger.warn({ task: id }, 'lost the lease of a running task; stopping it here');
            }
          },
          (error: unknown) => this.logger.warn({ err: error, task: id }, 'cannot renew task lease'),
        );
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    const signal = this.#abort.signal;
    let checkpointState: Record<string, unknown> = task.checkpoint ?? {};
    const context: TaskContext = {
      task,
      events,
      signal,
      resumed: recovered,
      checkpoint: async (progress) => {
        if (progress) {
          checkpointState = { ...checkpointState, ...progress };
          await this.store.saveCheckpoint(id, checkpointState);
        }
        if (lost) throw new LeaseLost();
        if ((await this.store.state(id)) === TaskState.CANCELLING) throw new TaskCancelled();
        if (signal.aborted) throw new Interrupted();
      },
      result: (line) => this.store.append(id, OutputType.RESULT, `${JSON.stringify(line)}\n`),
      debug: (line) => this.store.append(id, OutputType.DEBUG, `${new Date().toISOString()} ${line}\n`),
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
      await context.debug(`task ${id} (${task.type}) started by ${this.#holder}`);
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
        await this.store.finish(
          id,
          error instanceof CpiTimeoutError ? TaskState.TIMEOUT : TaskState.ERROR,
          message,
        );
      }
    } finally {
      clearInterval(renew);
    }
  }
}
