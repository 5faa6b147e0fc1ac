import type { TaskEvent } from '../protocol/types.js';
import { isInterruption } from './interruptions.js';

/**
 * Writes pieces of a task's output in order, one write at a time, coalescing the pieces that arrive while
 * a write is in flight (or in the same tick) into the next write: parallel steps (VMs created at once)
 * add one output row and one notification per batch instead of per line. The concatenated output stays
 * byte for byte the same. A piece's promise settles when the write holding it has.
 */
export class OutputWriter {
  #tail: Promise<void> = Promise.resolve();
  /** The batch still taking pieces: its write has not started yet. */
  #open: string[] | undefined;
  #openDone: Promise<void> = Promise.resolve();

  /**
   * `poison`: after a failed write, every later piece fails too (none is written after a missing one);
   * otherwise each batch is tried on its own.
   */
  constructor(
    private readonly sink: (text: string) => Promise<void>,
    private readonly poison: boolean,
  ) {}

  write(text: string): Promise<void> {
    if (this.#open !== undefined) {
      this.#open.push(text);
      return this.#openDone;
    }
    const pieces = [text];
    const run = () => {
      if (this.#open === pieces) this.#open = undefined;
      return this.sink(pieces.join(''));
    };
    this.#open = pieces;
    this.#openDone = this.poison ? this.#tail.then(run) : this.#tail.then(run, run);
    this.#tail = this.#openDone;
    return this.#openDone;
  }

  /** Resolves once every piece so far is written (rejects as the last write did). */
  flush(): Promise<void> {
    return this.#tail;
  }
}

/**
 * A task's event log in BOSH's format (director `event_log.rb`): one `TaskEvent` per line, as JSON. Stage
 * events carry `stage`, `tags`, `total`, `task`, `index`, `state` (started, finished, failed) and
 * `progress`; errors and warnings have their own shapes. Lines are written in order through one queue per
 * task.
 */
export class EventLog {
  readonly #writer: OutputWriter;

  constructor(write: (text: string) => Promise<void>) {
    // Poisoned as the single queue was: a line is never written after one that failed to be.
    this.#writer = new OutputWriter(write, true);
  }

  #line(event: Omit<TaskEvent, 'time'>): Promise<void> {
    const text = `${JSON.stringify({ time: Math.floor(Date.now() / 1000), ...event })}\n`;
    return this.#writer.write(text);
  }

  /** A stage of `total` tasks; each task reports started, then finished or failed. */
  stage(name: string, total: number, tags: string[] = []): Stage {
    let index = 0;
    const emit = (line: Omit<TaskEvent, 'time'>) => this.#line(line);
    return {
      async track<T>(task: string, fn: () => Promise<T>): Promise<T> {
        index += 1;
        const base = { stage: name, tags, total, task, index };
        await emit({ ...base, state: 'started', progress: 0 });
        try {
          const value = await fn();
          await emit({ ...base, state: 'finished', progress: 100 });
          return value;
        } catch (error) {
          if (!isInterruption(error)) {
            await emit({
              ...base,
              state: 'failed',
              progress: 100,
              data: { error: (error as Error).message },
            });
          }
          throw error;
        }
      },
    };
  }

  warning(message: string): Promise<void> {
    return this.#line({ type: 'warning', message });
  }

  error(code: number, message: string): Promise<void> {
    return this.#line({ error: { code, message } });
  }

  /** Resolves once every line so far is written. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }
}

export interface Stage {
  track<T>(task: string, fn: () => Promise<T>): Promise<T>;
}
