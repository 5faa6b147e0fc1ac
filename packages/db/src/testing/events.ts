/**
 * Collects events (notifications, published messages) and waits for them with a deadline, so a test
 * never sleeps longer than the event takes to arrive.
 */
export class EventCollector<T> {
  readonly events: T[] = [];
  readonly #waiters = new Set<() => void>();

  /** Pass this as the handler. */
  readonly push = (event: T): void => {
    this.events.push(event);
    for (const wake of [...this.#waiters]) wake();
  };

  /** Resolves with the events once there are at least `count`; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5_000): Promise<T[]> {
    return this.waitUntil((events) => events.length >= count, `${count} event(s)`, timeoutMs);
  }

  /** Resolves once `predicate` holds for the events seen so far; rejects after `timeoutMs`. */
  async waitUntil(
    predicate: (events: readonly T[]) => boolean,
    description = 'the expected events',
    timeoutMs = 5_000,
  ): Promise<T[]> {
    if (predicate(this.events)) return [...this.events];
    return new Promise<T[]>((resolve, reject) => {
      const wake = (): void => {
        if (!predicate(this.events)) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve([...this.events]);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${description}; got ${JSON.stringify(this.events)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}

/** Resolves after the event loop has run pending I/O callbacks once (lets in-flight deliveries land). */
export function flushEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
