import { isInterruption } from './interruptions.js';

/**
 * A task's event log in BOSH's format: one JSON object per line (director `event_log.rb`). Stage events
 * carry `stage`, `tags`, `total`, `task`, `index`, `state` (started, finished, failed) and `progress`;
 * errors and warnings have their own shapes. Lines are written in order through one queue per task.
 */
export interface StageEvent {
  time: number;
  stage: string;
  tags: string[];
  total: number;
  task: string;
  index: number;
  state: 'started' | 'in_progress' | 'finished' | 'failed';
  progress: number;
  data?: { error: string };
}

export class EventLog {
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly write: (text: string) => Promise<void>) {}

  #line(event: Record<string, unknown>): Promise<void> {
    const text = `${JSON.stringify({ time: Math.floor(Date.now() / 1000), ...event })}\n`;
    this.#queue = this.#queue.then(() => this.write(text));
    return this.#queue;
  }

  /** A stage of `total` tasks; each task reports started, then finished or failed. */
  stage(name: string, total: number, tags: string[] = []): Stage {
    let index = 0;
    const emit = (line: Record<string, unknown>) => this.#line(line);
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
    return this.#queue;
  }
}

export interface Stage {
  track<T>(task: string, fn: () => Promise<T>): Promise<T>;
}
