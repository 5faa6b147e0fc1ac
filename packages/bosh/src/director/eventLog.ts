import type { TaskEvent } from '../protocol/types.js';
import { isInterruption } from './interruptions.js';

/**
 * A task's event log in BOSH's format (director `event_log.rb`): one `TaskEvent` per line, as JSON. Stage
 * events carry `stage`, `tags`, `total`, `task`, `index`, `state` (started, finished, failed) and
 * `progress`; errors and warnings have their own shapes. Lines are written in order through one queue per
 * task.
 */
export class EventLog {
  /**
   * `write`: a line to the task's event output, `urgent` when the caller waits for it (see TaskJournal);
   * `flush`: resolves once every line so far is written, rejects when one was lost.
   */
  constructor(
    private readonly write: (text: string, urgent: boolean) => Promise<void>,
    private readonly flushed: () => Promise<void>,
  ) {}

  #line(event: Omit<TaskEvent, 'time'>, urgent: boolean): Promise<void> {
    const text = `${JSON.stringify({ time: Math.floor(Date.now() / 1000), ...event })}\n`;
    return this.write(text, urgent);
  }

  /** A stage of `total` tasks; each task reports started, then finished or failed. */
  stage(name: string, total: number, tags: string[] = []): Stage {
    let index = 0;
    // A stage's lines are not waited for: the step goes on while they wait for the next write (a lost
    // line poisons the log, and the task's end flushes it, so the task fails rather than end without it).
    const emit = (line: Omit<TaskEvent, 'time'>) => {
      this.#line(line, false).catch(() => undefined);
    };
    return {
      async track<T>(task: string, fn: () => Promise<T>): Promise<T> {
        index += 1;
        const base = { stage: name, tags, total, task, index };
        emit({ ...base, state: 'started', progress: 0 });
        try {
          const value = await fn();
          emit({ ...base, state: 'finished', progress: 100 });
          return value;
        } catch (error) {
          if (!isInterruption(error)) {
            emit({
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
    return this.#line({ type: 'warning', message }, true);
  }

  error(code: number, message: string): Promise<void> {
    return this.#line({ error: { code, message } }, true);
  }

  /** Resolves once every line so far is written. */
  flush(): Promise<void> {
    return this.flushed();
  }
}

export interface Stage {
  track<T>(task: string, fn: () => Promise<T>): Promise<T>;
}
