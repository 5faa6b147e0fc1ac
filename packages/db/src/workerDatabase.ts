import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InternalError } from '@openpks/domain';
import { ChannelListeners } from './channels.js';
import type { Database, DatabaseLogger, QueryResult, Queryable, Transaction, Unlisten } from './database.js';
import { validateChannel } from './names.js';
import { textParameter } from './parameters.js';
import { closedError, guardTransaction, notifyThrough } from './support.js';
import {
  deserializeError,
  type WorkerMessage,
  type WorkerOptions,
  type WorkerRequest,
} from './workerProtocol.js';

/**
 * The worker's module when this module runs from sources rather than from `dist/` (vitest runs
 * TypeScript through aliases, while a worker thread is plain Node and cannot load `.ts`): vitest's
 * global setup bundles `pgliteWorker.ts` from the current sources and its setup file (vitest.setup.ts)
 * registers the bundle here. Nothing is read from the environment here.
 */
let sourceBundle: URL | undefined;

/** For vitest's setup file only: the bundled worker to run when no built one sits beside this module. */
export function useWorkerBundle(file: string | undefined): void {
  sourceBundle = file === undefined || file === '' ? undefined : pathToFileURL(file);
}

/**
 * The built worker beside this module (`dist/pgliteWorker.js`: pks-server, the bench), else the bundle
 * the tests registered. Built code never looks at the bundle, so a test run's bundle cannot stand in for
 * a build.
 */
export function workerEntry(bundle: URL | null = sourceBundle ?? null): URL {
  const built = new URL('./pgliteWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  if (bundle !== null) return bundle;
  throw new InternalError(
    `the PGlite database worker is missing: no ${fileURLToPath(built)} (build @openpks/db: npm run build)`,
  );
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const WORKER_YOUNG_GENERATION_MB = 8;

/** Request shapes without the id the client assigns. */
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Opens PGlite in a worker thread and returns the `Database` that talks to it. In pks-server every role
 * shares one event loop, and PGlite's statements ran on it: WebAssembly execution, the wire protocol and
 * result decoding were 28-52% of the main thread's profile, so under a burst of creates the API's reads
 * waited behind them and TLS handshakes queued (bench `api-under-load`: p99 489 ms, 20 of 200
 * connections accepted within 1 s). In the worker that work runs beside the event loop; what stays is
 * preparing parameters and cloning messages.
 */
export async function openPGlite(
  dataDir: string | undefined,
  logger: DatabaseLogger,
  onLost?: (error: Error) => void,
): Promise<Database> {
  return openWorkerDatabase({ dataDir }, logger, { ...(onLost ? { onLost } : {}) });
}

export interface WorkerDatabaseHooks {
  /** The worker's module (tests); by default the built one, or the tests' bundle. */
  entry?: URL;
  /** Called once if the worker dies: nothing can use this database again. */
  onLost?: (error: Error) => void;
}

/** `openPGlite`, with the worker's module given (tests) and the worker's handle kept. */
export async function openWorkerDatabase(
  options: WorkerOptions,
  logger: DatabaseLogger,
  { entry = workerEntry(), onLost }: WorkerDatabaseHooks = {},
): Promise<WorkerDatabase> {
  // A young generation of 8 MB: V8's default lets the worker's grow to 2 x 16 MB semi-spaces of decoded
  // results that are garbage as soon as they are posted (bench api-memory's peak, 327 against 292-303 MB).
  const worker = new Worker(entry, {
    workerData: options,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const listeners = {
    message: (_message: WorkerMessage): void => {},
    error: (_error: unknown): void => {},
    exit: (_code: number): void => {},
  };
  try {
    await new Promise<void>((resolve, reject) => {
      listeners.message = (message) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'failed') reject(deserializeError(message.error));
        else if (message.type === 'log') logger[message.level](message.message, message.fields);
      };
      listeners.error = (error) => reject(workerFailure(error));
      listeners.exit = (code) => reject(workerExited(code));
      worker.on('message', listeners.message);
      worker.on('error', listeners.error);
      worker.on('exit', listeners.exit);
    }).finally(() => {
      // Only ours: the Worker's own listeners (its port's ref counting) must stay.
      worker.off('message', listeners.message);
      worker.off('error', listeners.error);
      worker.off('exit', listeners.exit);
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return new WorkerDatabase(worker, logger, onLost);
}

function workerFailure(error: unknown): InternalError {
  return new InternalError(
    `the PGlite database worker failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

function workerExited(code: number): InternalError {
  return new InternalError(`the PGlite database worker exited unexpectedly (exit code ${code})`);
}

/**
 * The `Database` contract over the worker: statements, scripts, transactions and LISTEN are requests the
 * worker answers in order of arrival. A transaction's callback runs here; the worker holds the
 * transaction (and with it PGlite's transaction lock) until `end`. Parameters are prepared here exactly
 * as the in-process database prepares them (node-postgres' `prepareValue`), because structured clone
 * would drop a value's prototype (`toJSON`, `toPostgres`) before the worker could.
 */
export class WorkerDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly #worker: Worker;
  readonly #logger: DatabaseLogger;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners: ChannelListeners;
  #nextId = 0;
  #nextTransaction = 0;
  /** Set once the worker died: every call fails with it. */
  #failure: InternalError | undefined;
  #closing: Promise<void> | undefined;
  readonly #onLost: ((error: Error) => void) | undefined;

  constructor(worker: Worker, logger: DatabaseLogger, onLost?: (error: Error) => void) {
    this.#worker = worker;
    this.#logger = logger;
    this.#onLost = onLost;
    // An idle database does not keep the process alive (as PGlite in process did not); a call does.
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.#receive(message));
    worker.on('error', (error) => this.#fail(workerFailure(error)));
    worker.on('exit', (code) => {
      if (this.#closing === undefined) this.#fail(workerExited(code));
    });
    this.#listeners = new ChannelListeners(
      {
        start: (channel) => this.#request({ op: 'listen', channel }).then(() => undefined),
        stop: async (channel) => {
          if (this.#closing !== undefined || this.#failure !== undefined) return;
          await this.#request({ op: 'unlisten', channel });
        },
      },
      logger,
    );
  }

  /** The worker thread (tests: to make it die). */
  get worker(): Worker {
    return this.#worker;
  }

  #receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'reply': {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        if (this.#pending.size === 0) this.#worker.unref();
        if (message.ok) pending.resolve(message.value);
        else pending.reject(deserializeError(message.error));
        return;
      }
      case 'notification':
        this.#listeners.dispatch(message.channel, message.payload);
        return;
      case 'log':
        this.#logger[message.level](message.message, message.fields);
        return;
      case 'ready':
      case 'failed':
        return;
    }
  }

  #fail(failure: InternalError): void {
    if (this.#failure !== undefined) return;
    this.#failure = failure;
    this.#logger.error(failure.message, { err: failure });
    this.#rejectAll(failure);
    this.#onLost?.(failure);
  }

  #rejectAll(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) reject(error);
  }

  /** Sends a request; `during close` lets a held transaction finish and `close` itself be sent. */
  #request(request: Request, duringClose = false): Promise<unknown> {
    if (this.#closing !== undefined && !duringClose) return Promise.reject(closedError());
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id } as WorkerRequest);
    });
  }

  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return (await this.#request({ op: 'query', sql, params: prepare(params) })) as QueryResult<R>;
  }

  async exec(sql: string): Promise<void> {
    await this.#request({ op: 'exec', sql });
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const txId = this.#nextTransaction++;
    await this.#request({ op: 'begin', tx: txId });
    // Statements of a transaction that began before close() still run: close waits for it in the
    // worker, as PGlite's close waits for its transaction lock.
    const guard = guardTransaction({
      query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
        (await this.#request(
          { op: 'query', sql, params: prepare(params), tx: txId },
          true,
        )) as QueryResult<R>,
      exec: async (sql: string) => {
        await this.#request({ op: 'exec', sql, tx: txId }, true);
      },
    });
    let result: T;
    try {
      result = await fn(guard.tx);
    } catch (error) {
      guard.end();
      // The callback's error is the one to report; a rollback that fails (a dead worker) adds nothing.
      await this.#request({ op: 'end', tx: txId, commit: false }, true).catch(() => undefined);
      throw error;
    }
    guard.end();
    await this.#request({ op: 'end', tx: txId, commit: true }, true);
    return result;
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    validateChannel(channel);
    if (this.#closing !== undefined) throw closedError();
    if (this.#failure !== undefined) throw this.#failure;
    return this.#listeners.add(channel, handler);
  }

  async notify(channel: string, payload: string, tx?: Queryable): Promise<void> {
    await notifyThrough(tx ?? this, channel, payload);
  }

  /**
   * Lets the statements already sent finish (the worker closes PGlite behind them), then ends the
   * thread. Calls made afterwards fail with the closed error.
   */
  /**
   * Runs a full garbage collection in the worker's isolate, where the process runs with --expose-gc
   * (measurements: the caller's `gc()` reaches only its own isolate, and the worker's heap holds the
   * garbage of every result it decoded). Answers whether it ran.
   */
  async collectGarbage(): Promise<boolean> {
    return (await this.#request({ op: 'collectGarbage' })) as boolean;
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      if (this.#failure === undefined) {
        await this.#request({ op: 'close' }, true).catch((error: unknown) =>
          this.#logger.warn('closing the PGlite database worker failed', { err: error }),
        );
      }
      await this.#worker.terminate();
      this.#rejectAll(closedError());
    })();
    return this.#closing;
  }
}

function prepare(params: readonly unknown[] | undefined): unknown[] {
  return params === undefined ? [] : params.map((value) => textParameter(value));
}
