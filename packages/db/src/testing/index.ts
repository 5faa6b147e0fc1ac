/**
 * The testing door of `@openpks/db`: the backends every database test runs on. Always PGlite in memory;
 * PostgreSQL too when `PKS_TEST_DATABASE_URL` is set (an admin URL such as
 * `postgres://postgres@127.0.0.1:5432/test`). Each `open()` gives an isolated database: a fresh PGlite,
 * or a new `pks_test_<random>` database that `close()` drops. Opening PGlite costs a second or two, so
 * open one per file or `describe` and give each test its own rows, schemas or channel names.
 *
 * ```ts
 * describe.each(testDatabaseBackends())('tasks on $name', (backend) => {
 *   let db: TestDatabase;
 *   beforeAll(async () => { db = await backend.open(); });
 *   afterAll(async () => { await db.close(); });
 * });
 * ```
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type {
  Database,
  DatabaseKind,
  DatabaseLogger,
  QueryResult,
  Queryable,
  Transaction,
  Unlisten,
} from '../database.js';
import { openDatabase, parseDatabaseUrl } from '../open.js';
import { WorkerDatabase } from '../workerDatabase.js';
import { quoteIdentifier } from '../names.js';
import { pgliteDatabase } from '../pglite.js';
import { pgliteParsers } from '../types.js';

export { EventCollector, flushEvents } from './events.js';

/**
 * For measurements in a process started with --expose-gc: a full garbage collection in this isolate and,
 * for embedded PGlite, in its worker thread's isolate too, so resident memory is what is kept, not what
 * waits to be collected. Answers whether every isolate collected.
 */
export async function collectGarbage(db: Database): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const worker = db instanceof WorkerDatabase ? await db.collectGarbage() : true;
  return gc !== undefined && worker;
}

export const TEST_DATABASE_URL_VARIABLE = 'PKS_TEST_DATABASE_URL';

/** A database of its own for one test (or one file). */
export interface TestDatabase extends Database {
  /**
   * Another connection to the same database, as a second replica would open: on PostgreSQL a new pool
   * (its own LISTEN connection), on PGlite the same in-process instance. Closing it leaves this open.
   */
  replica(): Promise<Database>;
  /** On PostgreSQL, the database's URL, for a test that starts whole servers on it (as `database.url`). */
  readonly url?: string;
}

export interface TestDatabaseBackend {
  /**
   * `pglite`, `postgres`, or `pglite-worker` (PGlite in its worker thread, as `openDatabase` opens it):
   * reads well in `describe.each(...)('… on $name')`.
   */
  readonly name: DatabaseKind | 'pglite-worker';
  readonly kind: DatabaseKind;
  open(options?: { logger?: DatabaseLogger }): Promise<TestDatabase>;
}

/**
 * PGlite runs in process here, since a test's PGlite starts several times faster from a template than
 * a worker's initdb. With `pgliteWorker`, also PGlite in a worker thread as pks-server runs it: for the
 * database contract's own tests, which must hold for what the product opens.
 */
export function testDatabaseBackends(
  env: NodeJS.ProcessEnv = process.env,
  options: { pgliteWorker?: boolean } = {},
): TestDatabaseBackend[] {
  const backends: TestDatabaseBackend[] = [pgliteBackend];
  if (options.pgliteWorker === true) backends.push(pgliteWorkerBackend);
  const adminUrl = env[TEST_DATABASE_URL_VARIABLE];
  if (adminUrl !== undefined && adminUrl !== '') backends.push(postgresBackend(adminUrl));
  return backends;
}

const pgliteBackend: TestDatabaseBackend = {
  name: 'pglite',
  kind: 'pglite',
  async open(options = {}) {
    const db = pgliteDatabase(await freshPGlite(), options.logger ?? quietLogger);
    return withReplica(db, db.close.bind(db), async () => sharedView(db));
  },
};

const pgliteWorkerBackend: TestDatabaseBackend = {
  name: 'pglite-worker',
  kind: 'pglite',
  async open(options = {}) {
    const db = await openDatabase({ dataDir: 'memory://', logger: options.logger ?? quietLogger });
    return withReplica(db, db.close.bind(db), async () => sharedView(db));
  },
};

/**
 * A new in-memory PGlite runs initdb, which takes seconds. The first one is dumped to a template in the
 * system's temporary directory (per PGlite version, written atomically, shared by parallel test
 * processes), and later ones start from that copy of a freshly initialised cluster, several times faster.
 */
let pgliteTemplate: Promise<Blob | undefined> | undefined;

async function freshPGlite(): Promise<PGlite> {
  pgliteTemplate ??= readTemplate();
  const template = await pgliteTemplate;
  if (template !== undefined) {
    try {
      return await PGlite.create({ parsers: pgliteParsers, loadDataDir: template });
    } catch {
      // An unreadable template: fall through and make a new one.
    }
  }
  const pglite = await PGlite.create({ parsers: pgliteParsers });
  const dump = await pglite.dumpDataDir('gzip');
  pgliteTemplate = Promise.resolve(dump);
  await writeTemplate(dump).catch(() => undefined); // only a cache
  return pglite;
}

function templatePath(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@electric-sql/pglite');
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return path.join(tmpdir(), `openpks-pglite-template-${manifest.version}.tar.gz`);
}

async function readTemplate(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(templatePath())]);
  } catch {
    return undefined;
  }
}

async function writeTemplate(dump: Blob): Promise<void> {
  const target = templatePath();
  const partial = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, target);
}

function postgresBackend(adminUrlText: string): TestDatabaseBackend {
  const adminUrl = parseDatabaseUrl(adminUrlText);
  return {
    name: 'postgres',
    kind: 'postgres',
    async open(options = {}) {
      const logger = options.logger ?? quietLogger;
      const name = `pks_test_${randomBytes(8).toString('hex')}`;
      await admin(adminUrl, `CREATE DATABASE ${quoteIdentifier(name)}`);
      const url = new URL(adminUrl.href);
      url.pathname = `/${name}`;
      let db: Database;
      try {
        db = await openDatabase({ url: url.href, logger, maxConnections: 5 });
      } catch (error) {
        await admin(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
        throw error;
      }
      const replicas = new Set<Database>();
      let dropping: Promise<void> | undefined;
      const close = (): Promise<void> => {
        dropping ??= (async () => {
          await Promise.all([...replicas].map((replica) => replica.close()));
          await db.close();
          await admin(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
        })();
        return dropping;
      };
      return {
        ...withReplica(db, close, async () => {
          const replica = await openDatabase({ url: url.href, logger, maxConnections: 5 });
          replicas.add(replica);
          return replica;
        }),
        url: url.href,
      };
    },
  };
}

async function admin(adminUrl: URL, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl.href, application_name: 'openpks-test-admin' });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Expected failures in tests are not news; pass a logger to `open()` to look at them. */
const quietLogger: DatabaseLogger = { info: () => {}, warn: () => {}, error: () => {} };

function withReplica(
  db: Database,
  close: () => Promise<void>,
  replica: () => Promise<Database>,
): TestDatabase {
  return {
    kind: db.kind,
    query: <R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
      db.query<R>(sql, params),
    exec: (sql: string) => db.exec(sql),
    transaction: <T>(fn: (tx: Transaction) => Promise<T>) => db.transaction(fn),
    listen: (channel: string, handler: (payload: string) => void) => db.listen(channel, handler),
    notify: (channel: string, payload: string, tx?: Queryable) => db.notify(channel, payload, tx),
    close,
    replica,
  };
}

/** PGlite's "second replica": the same instance; closing the view drops only the view's listeners. */
function sharedView(db: Database): Database {
  const unlistens = new Set<Unlisten>();
  let closed = false;
  return {
    kind: db.kind,
    query: <R extends object = Record<string, unknown>>(
      sql: string,
      params?: readonly unknown[],
    ): Promise<QueryResult<R>> => db.query<R>(sql, params),
    exec: (sql: string) => db.exec(sql),
    transaction: <T>(fn: (tx: Transaction) => Promise<T>) => db.transaction(fn),
    async listen(channel: string, handler: (payload: string) => void) {
      const unlisten = await db.listen(channel, handler);
      unlistens.add(unlisten);
      return async () => {
        unlistens.delete(unlisten);
        await unlisten();
      };
    },
    notify: (channel: string, payload: string, tx?: Queryable) => db.notify(channel, payload, tx),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...unlistens].map((unlisten) => unlisten()));
    },
  };
}
