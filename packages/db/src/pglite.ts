import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, TransactionAbortedError } from '@electric-sql/pglite';
import { ChannelListeners } from './channels.js';
import type { Database, DatabaseLogger, QueryResult, Queryable, Transaction, Unlisten } from './database.js';
import { quoteIdentifier, validateChannel, validatePayload } from './names.js';
import { abortedTransactionError, closedError, guardTransaction } from './support.js';
import { pgliteParsers } from './types.js';

export const MEMORY_DATA_DIR = 'memory://';

/**
 * Opens PGlite in `<dataDir>/pgdata`, or in memory. PGlite is one PostgreSQL backend in this process:
 * statements and transactions run one at a time, so inside `transaction()` use only `tx` (a query on the
 * database itself waits for the transaction to end, and the transaction waits for it: a deadlock).
 */
export async function openPGlite(dataDir: string | undefined, logger: DatabaseLogger): Promise<Database> {
  let directory: string | undefined;
  if (dataDir !== undefined && dataDir !== MEMORY_DATA_DIR) {
    directory = path.join(dataDir, 'pgdata');
    await mkdir(directory, { recursive: true });
  }
  const pglite =
    directory === undefined
      ? await PGlite.create({ parsers: pgliteParsers })
      : await PGlite.create(directory, { parsers: pgliteParsers });
  return new PGliteDatabase(pglite, logger);
}

/** Wraps a PGlite instance made elsewhere (the testing door starts them from a template). */
export function pgliteDatabase(pglite: PGlite, logger: DatabaseLogger): Database {
  return new PGliteDatabase(pglite, logger);
}

interface PGliteQueryable {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; rowCount?: number; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

async function runQuery<R extends object>(
  target: PGliteQueryable,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  const result = await target.query<R>(sql, params === undefined ? undefined : [...params]);
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly #pglite: PGlite;
  readonly #listeners: ChannelListeners;
  readonly #callbacks = new Map<string, (payload: string) => void>();
  #closing: Promise<void> | undefined;

  constructor(pglite: PGlite, logger: DatabaseLogger) {
    this.#pglite = pglite;
    this.#listeners = new ChannelListeners(
      {
        start: async (channel) => {
          // PGlite runs `LISTEN <name>` as given and strips the quotes for its own bookkeeping. The
          // unsubscribe function it returns passes the stripped name to UNLISTEN (a syntax error for a
          // reserved word such as "select"), so we call unlisten() with the quoted name ourselves.
          const callback = (payload: string): void => this.#listeners.dispatch(channel, payload);
          await pglite.listen(quoteIdentifier(channel), callback);
          this.#callbacks.set(channel, callback);
        },
        stop: async (channel) => {
          const callback = this.#callbacks.get(channel);
          this.#callbacks.delete(channel);
          if (callback === undefined || pglite.closed) return;
          await pglite.unlisten(quoteIdentifier(channel), callback);
        },
      },
      logger,
    );
  }

  #open(): PGlite {
    if (this.#closing !== undefined) throw closedError();
    return this.#pglite;
  }

  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return runQuery<R>(this.#open(), sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.#open().exec(sql);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const pglite = this.#open();
    try {
      return await pglite.transaction(async (inner) => {
        const guard = guardTransaction({
          query: (sql, params) => runQuery(inner, sql, params),
          exec: async (sql) => {
            await inner.exec(sql);
          },
        });
        try {
          return await fn(guard.tx);
        } finally {
          guard.end();
        }
      });
    } catch (error) {
      if (error instanceof TransactionAbortedError) throw abortedTransactionError(error);
      throw error;
    }
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    validateChannel(channel);
    this.#open();
    return this.#listeners.add(channel, handler);
  }

  async notify(channel: string, payload: string, tx?: Queryable): Promise<void> {
    validateChannel(channel);
    validatePayload(payload);
    await (tx ?? this).query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      this.#callbacks.clear();
      await this.#pglite.close();
    })();
    return this.#closing;
  }
}
