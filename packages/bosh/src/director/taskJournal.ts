import type { DirectorEventInput } from './store/eventStore.js';
import type { TaskStore } from './store/taskStore.js';
import { OutputType } from './tasks.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** What a task wrote that is not in the database yet: it goes out as one statement. */
class Batch {
  /** The pieces of each output type, in write order (a Map keeps the order types first came in). */
  readonly outputs = new Map<OutputType, string[]>();
  readonly outputWaiters: { type: OutputType; waiter: Waiter<void> }[] = [];
  readonly events: {
    event: DirectorEventInput;
    at: Date;
    waiter: Waiter<number>;
    /** The event's own promise (what a child names as its parent). */
    done: Promise<number>;
    parent: Promise<number> | undefined;
  }[] = [];
  /** Someone waits for it to continue: it goes out at once rather than at the end of the window. */
  urgent = false;
}

/**
 * Everything one task writes as it runs (its output lines of every type and its Director events) goes
 * through here, one statement at a time and in order. Writes that nobody needs at once (a stage's
 * started and finished lines, a CPI log line, an end event) wait up to `windowMs`, or until something
 * urgent (an event whose id is needed, a line its writer waits for, `flush`), and go out with it in one
 * statement: a deploy's steps write ~80 rows one by one otherwise, each a round trip (and a `writev` on
 * PostgreSQL, a trip through wasm on PGlite).
 *
 * Each write's promise settles when the statement holding it has: a caller that awaits a write continues
 * once it is in the database. Event lines are poisoned: after a statement with event lines fails, no
 * later event line is written (a gap in the event log would mislead), and `flush` rejects; other writes
 * are each tried on their own.
 */
export class TaskJournal {
  #open: Batch | undefined;
  #inflight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The last row written of each output type, for notices (null: unknown, as for a resumed task's first). */
  readonly #last = new Map<OutputType, number | null>();
  #eventLinesFailure: { error: unknown } | undefined;
  /** The ids of events written, by their promise, for children that name them as parents. */
  readonly #eventIds = new WeakMap<Promise<number>, number>();

  constructor(
    private readonly store: Pick<TaskStore, 'writeBatch'>,
    private readonly taskId: number,
    private readonly windowMs: number,
  ) {}

  /** Adds output; `urgent` when the caller waits for it (it goes out at once, with whatever is pending). */
  output(type: OutputType, text: string, urgent = false): Promise<void> {
    if (type === OutputType.EVENT && this.#eventLinesFailure !== undefined) {
      return Promise.reject(this.#eventLinesFailure.error);
    }
    const batch = this.#batch();
    const pieces = batch.outputs.get(type) ?? [];
    pieces.push(text);
    batch.outputs.set(type, pieces);
    const done = new Promise<void>((resolve, reject) =>
      batch.outputWaiters.push({ type, waiter: { resolve, reject } }),
    );
    this.#schedule(batch, urgent);
    return done;
  }

  /**
   * Records a Director event; resolves with its id once written (`urgent` when the id is needed now).
   * `parent`: another event's promise from here, when its id may not be known yet (the start of a step
   * whose end this is, both waiting for a write): the row names it all the same.
   */
  event(event: DirectorEventInput, urgent = true, parent?: Promise<number>): Promise<number> {
    const batch = this.#batch();
    let waiter: Waiter<number> | undefined;
    const done = new Promise<number>((resolve, reject) => (waiter = { resolve, reject }));
    batch.events.push({ event, at: new Date(), waiter: waiter!, done, parent });
    this.#schedule(batch, urgent);
    return done;
  }

  /** Writes whatever is pending; resolves once all of it is written (rejects when event lines were lost). */
  async flush(): Promise<void> {
    while (this.#open !== undefined || this.#inflight !== undefined) {
      if (this.#open !== undefined) this.#open.urgent = true;
      if (this.#inflight === undefined) this.#send();
      await this.#inflight;
    }
    if (this.#eventLinesFailure !== undefined) throw this.#eventLinesFailure.error;
  }

  #batch(): Batch {
    this.#open ??= new Batch();
    return this.#open;
  }

  #schedule(batch: Batch, urgent: boolean): void {
    if (urgent && !batch.urgent) {
      batch.urgent = true;
      // Writes of the same turn still join it: it goes out after the current microtasks.
      if (this.#inflight === undefined) queueMicrotask(() => this.#send());
    }
    // While a statement is in flight its end sends the open batch (or arms the window).
    if (this.#inflight === undefined && this.#timer === undefined && !batch.urgent) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#send();
      }, this.windowMs);
    }
  }

  #send(): void {
    if (this.#inflight !== undefined || this.#open === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#open;
    this.#open = undefined;
    this.#inflight = this.#write(batch).finally(() => {
      this.#inflight = undefined;
      const next = this.#open;
      if (next === undefined) return;
      if (next.urgent) this.#send();
      else
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.#send();
        }, this.windowMs);
    });
  }

  async #write(batch: Batch): Promise<void> {
    let waiters = batch.outputWaiters;
    if (this.#eventLinesFailure !== undefined && batch.outputs.has(OutputType.EVENT)) {
      // Queued before the failure was known: not written after the line that was lost.
      batch.outputs.delete(OutputType.EVENT);
      for (const { type, waiter } of waiters)
        if (type === OutputType.EVENT) waiter.reject(this.#eventLinesFailure.error);
      waiters = waiters.filter(({ type }) => type !== OutputType.EVENT);
    }
    if (batch.outputs.size === 0 && batch.events.length === 0) return;
    const outputs = [...batch.outputs].map(([type, pieces]) => ({
      type,
      text: pieces.join(''),
      after: this.#last.get(type) ?? null,
    }));
    // A statement that fails may still have landed: the next row cannot vouch for what precedes it.
    for (const { type } of outputs) this.#last.set(type, null);
    // A parent written by an earlier statement is known by its id; one in this batch by its place.
    const events = batch.events.map((entry) => {
      if (entry.parent === undefined) return entry;
      const id = this.#eventIds.get(entry.parent);
      if (id !== undefined) return { ...entry, event: { ...entry.event, parentId: id } };
      const index = batch.events.findIndex((other) => other.done === entry.parent);
      // Not found: the parent was lost with a failed statement; the end is still worth recording.
      return index >= 0 ? { ...entry, parentIndex: index } : entry;
    });
    try {
      const written = await this.store.writeBatch(this.taskId, outputs, events);
      for (const [type, row] of written.rows) this.#last.set(type, row);
      batch.events.forEach(({ done }, i) => this.#eventIds.set(done, written.events[i]!));
      for (const { waiter } of waiters) waiter.resolve();
      batch.events.forEach(({ waiter }, i) => waiter.resolve(written.events[i]!));
    } catch (error) {
      if (batch.outputs.has(OutputType.EVENT)) this.#eventLinesFailure ??= { error };
      for (const { waiter } of waiters) waiter.reject(error);
      for (const { waiter } of batch.events) waiter.reject(error);
    }
  }
}
