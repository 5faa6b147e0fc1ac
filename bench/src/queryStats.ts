import type { Database, Queryable } from '@openpks/db';

export interface QueryStat {
  sql: string;
  count: number;
  totalMs: number;
}

/**
 * Counts and times every statement the stack sends to its database (bench instrumentation). The embedded
 * database runs one statement at a time, so these times add up to where the database's share went.
 */
export class QueryStats {
  readonly #stats = new Map<string, QueryStat>();
  #on = false;

  start(): void {
    this.#stats.clear();
    this.#on = true;
  }

  /** Every statement recorded since `start`, not only the top ones. */
  get total(): { count: number; totalMs: number } {
    let count = 0;
    let totalMs = 0;
    for (const stat of this.#stats.values()) {
      count += stat.count;
      totalMs += stat.totalMs;
    }
    return { count, totalMs: Math.round(totalMs) };
  }

  stop(top = 10): QueryStat[] {
    this.#on = false;
    return [...this.#stats.values()]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top)
      .map((s) => ({ ...s, totalMs: Math.round(s.totalMs) }));
  }

  #captured: { sql: string; params: unknown[] | undefined }[] | undefined;

  /** Keeps every statement's text and parameters from now until `endCapture` (to replay them elsewhere). */
  capture(): void {
    this.#captured = [];
  }

  endCapture(): { sql: string; params: unknown[] | undefined }[] {
    const captured = this.#captured ?? [];
    this.#captured = undefined;
    return captured;
  }

  #record(sql: string, ms: number, params?: unknown[]): void {
    this.#captured?.push({ sql, params });
    if (!this.#on) return;
    const key = sql.replace(/\s+/g, ' ').trim().slice(0, 140);
    const stat = this.#stats.get(key) ?? { sql: key, count: 0, totalMs: 0 };
    stat.count += 1;
    stat.totalMs += ms;
    this.#stats.set(key, stat);
  }

  #wrapQueryable<T extends Queryable>(target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        if (prop === 'query') {
          return async (sql: string, params?: unknown[]) => {
            const started = performance.now();
            try {
              return await t.query(sql, params);
            } finally {
              this.#record(sql, performance.now() - started, params);
            }
          };
        }
        if (prop === 'transaction') {
          return (fn: (tx: Queryable) => Promise<unknown>) =>
            (t as unknown as Database).transaction((tx) => fn(this.#wrapQueryable(tx)));
        }
        const value = Reflect.get(t, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
  }

  wrap(db: Database): Database {
    return this.#wrapQueryable(db);
  }
}
