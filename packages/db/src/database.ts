/**
 * The one database interface every component uses. Two implementations sit behind it: PGlite (real
 * PostgreSQL in WebAssembly, stored in the data directory) for the embedded default, and node-postgres
 * for a PostgreSQL server (`DATABASE_URL`). Components write plain PostgreSQL SQL against their own
 * schema and never read another component's tables.
 */

export type DatabaseKind = 'pglite' | 'postgres';

export interface QueryResult<R> {
  rows: R[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

export interface Queryable {
  /** Runs one statement with `$1…$n` parameters. */
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction: committed when the callback resolves, rolled back when it throws. */
export type Transaction = Queryable;

export type Unlisten = () => Promise<void>;

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs `fn` in a transaction (READ COMMITTED). Row locks taken inside (`SELECT … FOR UPDATE SKIP LOCKED`)
   * are how leases on durable rows are claimed.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Subscribes to a `LISTEN/NOTIFY` channel; notifications sent inside a transaction arrive after commit. */
  listen(channel: string, handler: (payload: string) => void): Promise<Unlisten>;
  /** `pg_notify(channel, payload)`; pass `tx` to send it only if that transaction commits. */
  notify(channel: string, payload: string, tx?: Queryable): Promise<void>;
  close(): Promise<void>;
}

/** Where the database layer reports what it cannot throw (a dropped LISTEN connection, a failing handler). */
export interface DatabaseLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface OpenDatabaseOptions {
  /** `postgres://user:password@host:port/database` (from `DATABASE_URL`): use a PostgreSQL server. */
  url?: string | undefined;
  /**
   * Without `url`: the data directory; PGlite keeps its files in `<dataDir>/pgdata`. `'memory://'` or
   * undefined keeps the database in memory (tests).
   */
  dataDir?: string | undefined;
  /** PostgreSQL only: the pool size (default 10). The LISTEN connection comes on top of it. */
  maxConnections?: number | undefined;
  logger?: DatabaseLogger | undefined;
  /**
   * Called once if the database is lost for good: embedded PGlite's worker thread died (a crash, out of
   * memory), after which every call fails. A PostgreSQL pool reconnects on its own and never calls it.
   * A server cannot serve without its database, so pks-server stops on it and a supervisor restarts it.
   */
  onLost?: ((error: Error) => void) | undefined;
}
