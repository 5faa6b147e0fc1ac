/**
 * The PGlite worker thread's entry: opens PGlite in this thread and runs what the `WorkerDatabase` on
 * the caller's thread asks for, so PostgreSQL's WebAssembly work, the wire protocol and the decoding of
 * results never block the caller's event loop (in pks-server: the HTTP servers of every role).
 *
 * It is the in-process `PGliteDatabase` unchanged (locks, prepared statements, the WAL checkpoint
 * timer, LISTEN), driven by messages. A transaction is that database's own `transaction()`, held open
 * here while the callback runs in the caller's thread: its statements arrive with the transaction's id,
 * and an `end` message commits (or, after a throwing callback, rolls back).
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Database, DatabaseLogger, Transaction, Unlisten } from './database.js';
import { openPGliteInProcess } from './pglite.js';
import {
  serializeError,
  type WorkerMessage,
  type WorkerOptions,
  type WorkerRequest,
} from './workerProtocol.js';

if (parentPort === null)
  throw new Error('pgliteWorker.js runs as a worker thread (new Worker), not as a module');
const port = parentPort;

function send(message: WorkerMessage): void {
  port.postMessage(message);
}

/** The caller's logger lives in the caller's thread; fields that do not clone are sent as text. */
function log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
  const plain =
    fields === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(fields).map(([key, value]) => [
            key,
            value instanceof Error ? serializeError(value) : value,
          ]),
        );
  try {
    send({ type: 'log', level, message, ...(plain ? { fields: plain } : {}) });
  } catch {
    send({ type: 'log', level, message, fields: { fields: String(JSON.stringify(plain)) } });
  }
}

const logger: DatabaseLogger = {
  info: (message, fields) => log('info', message, fields),
  warn: (message, fields) => log('warn', message, fields),
  error: (message, fields) => log('error', message, fields),
};

/** Thrown inside a held transaction when the caller's callback threw: PGlite rolls back. */
const ROLLBACK = Symbol('rollback');

interface HeldTransaction {
  tx: Transaction;
  /** Ends the transaction (commit, or roll back); `replyTo` is the `end` request to answer. */
  finish(commit: boolean, replyTo: number): void;
}

const options = workerData as WorkerOptions;
// PostgreSQL's WebAssembly compiled by V8's baseline compiler (Liftoff) only. By default V8 also tiers hot
// functions up to TurboFan in the background and keeps both codes and the compilers' freed memory: 70-80 MB
// of the API process (bench api-memory on PGlite, idle 277-299 against 207-216 MB). A control plane's
// statements are small: creates and upgrades cost no more CPU without TurboFan, and only the 1,000-cluster
// uncached list is slower (about 15 %; bench/ANALYSIS.md has the A/B). The flag is the process's: set
// before this thread compiles PGlite's module, it holds for any WebAssembly the process compiles after.
setFlagsFromString('--liftoff-only');
let db: Database;
try {
  db = await openPGliteInProcess(options.dataDir, logger);
} catch (error) {
  send({ type: 'failed', error: serializeError(error) });
  process.exit(1);
}

const transactions = new Map<number, HeldTransaction>();
const listening = new Map<string, Unlisten>();

function reply(id: number, work: Promise<unknown>): void {
  work.then(
    (value) => send({ type: 'reply', id, ok: true, value }),
    (error: unknown) => send({ type: 'reply', id, ok: false, error: serializeError(error) }),
  );
}

/** The queryable a statement runs on: the database, or the held transaction it names. */
function target(tx: number | undefined): Database | Transaction {
  if (tx === undefined) return db;
  const held = transactions.get(tx);
  if (held === undefined) throw new Error(`the database worker holds no transaction ${tx}`);
  return held.tx;
}

function begin(id: number, txId: number): void {
  let began = false;
  let replyTo: number | undefined;
  let release!: (commit: boolean) => void;
  const released = new Promise<boolean>((resolve) => (release = resolve));
  db.transaction(async (tx) => {
    transactions.set(txId, {
      tx,
      finish: (commit, endId) => {
        replyTo = endId;
        release(commit);
      },
    });
    began = true;
    send({ type: 'reply', id, ok: true, value: undefined });
    if (!(await released)) throw ROLLBACK;
  })
    .then(
      () => replyTo !== undefined && send({ type: 'reply', id: replyTo, ok: true, value: undefined }),
      (error: unknown) => {
        // Failing before the callback ran (BEGIN itself, a closed database) answers `begin`; after,
        // COMMIT's or ROLLBACK's outcome answers `end`.
        const to = began ? replyTo : id;
        if (to === undefined) return;
        if (error === ROLLBACK) send({ type: 'reply', id: to, ok: true, value: undefined });
        else send({ type: 'reply', id: to, ok: false, error: serializeError(error) });
      },
    )
    .finally(() => transactions.delete(txId));
}

function end(id: number, txId: number, commit: boolean): void {
  const held = transactions.get(txId);
  if (held === undefined) {
    const error = new Error(`the database worker holds no transaction ${txId}`);
    send({ type: 'reply', id, ok: false, error: serializeError(error) });
    return;
  }
  transactions.delete(txId);
  held.finish(commit, id);
}

async function listen(channel: string): Promise<void> {
  if (listening.has(channel)) return;
  listening.set(
    channel,
    await db.listen(channel, (payload) => send({ type: 'notification', channel, payload })),
  );
}

async function unlisten(channel: string): Promise<void> {
  const stop = listening.get(channel);
  listening.delete(channel);
  await stop?.();
}

port.on('message', (request: WorkerRequest) => {
  switch (request.op) {
    case 'query':
      reply(request.id, (async () => target(request.tx).query(request.sql, request.params))());
      return;
    case 'exec':
      reply(request.id, (async () => target(request.tx).exec(request.sql))());
      return;
    case 'begin':
      begin(request.id, request.tx);
      return;
    case 'end':
      end(request.id, request.tx, request.commit);
      return;
    case 'listen':
      reply(request.id, listen(request.channel));
      return;
    case 'unlisten':
      reply(request.id, unlisten(request.channel));
      return;
    case 'collectGarbage': {
      // Only with --expose-gc (measurements); the answer says whether it ran.
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      send({ type: 'reply', id: request.id, ok: true, value: gc !== undefined });
      return;
    }
    case 'close':
      reply(
        request.id,
        (async () => {
          listening.clear();
          await db.close();
        })(),
      );
      return;
  }
});

send({ type: 'ready' });
