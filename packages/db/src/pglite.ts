import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, TransactionAbortedError } from '@electric-sql/pglite';
import { ChannelListeners } from './channels.js';
import type { Database, DatabaseLogger, QueryResult, Queryable, Transaction, Unlisten } from './database.js';
import { quoteIdentifier, validateChannel } from './names.js';
import { abortedTransactionError, closedError, guardTransaction, notifyThrough } from './support.js';
import { PreparedStatements, runScript, runStatement } from './pgliteWire.js';
import { pgliteParsers } from './types.js';

export const MEMORY_DATA_DIR = 'memory://';

/**
 * PostgreSQL settings PGlite starts with, on top of its own defaults (`PGlite.defaultStartParams`, which
 * the `startParams` option replaces rather than extends). Given as `-c` options: they apply to this run
 * and are not written into the data directory's postgresql.conf.
 *
 * shared_buffers: initdb leaves PostgreSQL's 128MB, and PGlite allocates and touches all of PostgreSQL's
 * shared memory (145MB with it) inside its WebAssembly memory at start: the memory grows from its 128MB
 * minimum (pglite.wasm declares it; a smaller `initialMemory` fails to link) to 189MB, 151MB of it
 * resident, before the first query, and WebAssembly memory never shrinks. The buffer pool only saves
 * copies from the data files, which are already in this process (memory://) or in the operating
 * system's page cache (a directory), for one backend that runs one statement at a time. With 16MB
 * (wal_buffers follows: 512kB) the memory stays at 128MB, ~30MB of it resident. Measured (2 cores,
 * PGlite 0.5.16): the `api-memory` benchmark's API process after reading 10,000 clusters went from
 * 497MB to 381MB resident (idle 476 to 354MB); 2,000 small INSERT + SELECT pairs took the same time
 * within the noise of a loaded machine (1.3-2.7 s in memory, 3.1-3.6 s on a directory, either way).
 *
 * max_wal_size / min_wal_size: PGlite runs PostgreSQL in single-user mode, where nothing checkpoints on
 * its own, so the WAL grew without bound until a restart (120,000 1kB rows: 40 segments, 1.4GB in
 * memory://, the same on disk in a directory). `PGliteDatabase` now checkpoints when the WAL since the
 * last checkpoint passes WAL_CHECKPOINT_BYTES, and these sizes make that checkpoint remove the old
 * segments instead of keeping up to 1GB of them for reuse (measured: 17 segments, 272MB, down to 4).
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  max_wal_size: '64MB',
  min_wal_size: '32MB',
};

/** WAL written since the last checkpoint that makes the next periodic look checkpoint. */
export const WAL_CHECKPOINT_BYTES = 32 * 1024 * 1024;
const WAL_CHECK_INTERVAL_MS = 30_000;

/**
 * Opens PGlite in `<dataDir>/pgdata`, or in memory, on this thread: what the worker thread
 * (`pgliteWorker.ts`) runs; `openDatabase` opens it through `openPGlite` (workerDatabase.ts). PGlite is
 * one PostgreSQL backend: statements and transactions run one at a time, so inside `transaction()` use
 * only `tx` (a query on the database itself waits for the transaction to end, and the transaction waits
 * for it: a deadlock).
 */
export async function openPGliteInProcess(
  dataDir: string | undefined,
  logger: DatabaseLogger,
): Promise<Database> {
  let directory: string | undefined;
  if (dataDir !== undefined && dataDir !== MEMORY_DATA_DIR) {
    directory = path.join(dataDir, 'pgdata');
    await mkdir(directory, { recursive: true });
  }
  const options = {
    parsers: pgliteParsers,
    startParams: pgliteStartParams(),
    // In memory the data directory, its WAL included, is JavaScript memory (ArrayBuffers): 1MB WAL
    // segments instead of 16MB take 15MB off a new database (api-memory: 381 to 364MB after loading).
    // initdb fixes the size in the directory, so on-disk directories keep PostgreSQL's default.
    ...(directory === undefined ? { initDbStartParams: ['--wal-segsize=1'] } : {}),
  };
  const pglite =
    directory === undefined ? await PGlite.create(options) : await PGlite.create(directory, options);
  return new PGliteDatabase(pglite, logger);
}

/**
 * Checkpoints when more than `bytes` of WAL were written since the last checkpoint (PGlite's single-user
 * PostgreSQL never checkpoints on its own); with PGLITE_SETTINGS that removes the WAL segments no longer
 * needed. True when it checkpointed.
 */
export async function checkpointIfDue(db: Database, bytes = WAL_CHECKPOINT_BYTES): Promise<boolean> {
  const { rows } = await db.query<{ bytes: number }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn)::float8 AS bytes FROM pg_control_checkpoint()`,
  );
  if ((rows[0]?.bytes ?? 0) < bytes) return false;
  await db.exec('CHECKPOINT');
  return true;
}

/** PGlite's own start parameters followed by ours (`-c name=value` for each of `PGLITE_SETTINGS`). */
export function pgliteStartParams(): string[] {
  return [
    ...PGlite.defaultStartParams,
    ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}

/** Wraps a PGlite instance made elsewhere (the testing door starts them from a template). */
export function pgliteDatabase(pglite: PGlite, logger: DatabaseLogger): Database {
  return new PGliteDatabase(pglite, logger);
}

function queryResult<R extends object>(result: {
  rows: unknown[];
  rowCount?: number;
  affectedRows?: number;
}): QueryResult<R> {
  return {
    rows: result.rows as R[],
    rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
  };
}

class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly #pglite: PGlite;
  readonly #listeners: ChannelListeners;
  readonly #callbacks = new Map<string, (payload: string) => void>();
  #closing: Promise<void> | undefined;
  readonly #walTimer: NodeJS.Timeout;
  readonly #statements = new PreparedStatements();

  constructor(pglite: PGlite, logger: DatabaseLogger) {
    this.#pglite = pglite;
    this.#walTimer = setInterval(() => {
      checkpointIfDue(this).catch((error: unknown) => {
        if (this.#closing === undefined) logger.warn('periodic checkpoint failed', { err: error });
      });
    }, WAL_CHECK_INTERVAL_MS);
    this.#walTimer.unref();
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
    const pglite = this.#open();
    await pglite._checkReady();
    // PGlite's own order of locks for a statement outside a transaction: after any open transaction
    // (so it never runs inside someone else's), then the statement lock.
    const result = await pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(() => runStatement(pglite, sql, params, false, this.#statements)),
    );
    return queryResult<R>(result);
  }

  async exec(sql: string): Promise<void> {
    const pglite = this.#open();
    await pglite._checkReady();
    await pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(() => this.#script(pglite, sql, false)),
    );
  }

  /**
   * Scripts are DDL (migrations) or settings: prepared statements made before may bind to what changed
   * (a search_path, a table's columns), so they are made afresh afterwards, in the same lock.
   */
  async #script(pglite: PGlite, sql: string, inTransaction: boolean): Promise<void> {
    try {
      await runScript(pglite, sql, inTransaction);
    } finally {
      if (this.#statements.size > 0) {
        this.#statements.forgetAll();
        await runScript(pglite, 'DEALLOCATE ALL', inTransaction).catch(() => undefined);
      }
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const pglite = this.#open();
    try {
      return await pglite.transaction(async () => {
        const guard = guardTransaction({
          // The transaction lock is held by pglite.transaction(); a statement takes the statement lock.
          query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
            queryResult<R>(
              await pglite._runExclusiveQuery(() =>
                runStatement(pglite, sql, params, true, this.#statements),
              ),
            ),
          exec: (sql) => pglite._runExclusiveQuery(() => this.#script(pglite, sql, true)),
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
    await notifyThrough(tx ?? this, channel, payload);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#walTimer);
      this.#listeners.clear();
      this.#callbacks.clear();
      await this.#pglite.close();
    })();
    return this.#closing;
  }
}
