import { openDatabase, parseDatabaseUrl, quoteIdentifier, type Database } from '@openpks/db';

export type Backend = 'pglite' | 'postgres';

/** `DATABASE_URL` runs the figures on that PostgreSQL server; without it every stack has its own PGlite. */
export const BACKEND: Backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';

export interface BenchDatabase {
  db: Database;
  /** On PostgreSQL, the URL of the database made for this stack (a child process opens it too). */
  url?: string;
  /** Closes it and, on PostgreSQL, drops the database it made. */
  close(): Promise<void>;
}

let made = 0;

/**
 * A database of its own for one stack (or one measured child process). On PostgreSQL, `DATABASE_URL`
 * names the server (any database it can connect to, to create others): each stack gets a new
 * `bench_<pid>_<n>_<label>` that is dropped when it stops. Two stacks in one database would be one
 * installation with two data directories, whose sealed UAA keys and shared secrets do not open with each
 * other's key; and the run never writes into a database someone else is using (the tests' `test`).
 */
export async function openBenchDatabase(
  label: string,
  serverUrl = process.env.DATABASE_URL,
): Promise<BenchDatabase> {
  if (!serverUrl) {
    const db = await openDatabase({ dataDir: 'memory://' });
    return { db, close: () => db.close() };
  }
  made += 1;
  const name = `bench_${process.pid}_${made}_${label.replace(/[^a-z0-9_]/g, '_')}`;
  const admin = parseDatabaseUrl(serverUrl);
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  await onServer(admin, `CREATE DATABASE ${quoteIdentifier(name)}`);
  let db: Database;
  try {
    // As many connections as pks-server's default pool: the figures measure the product's settings.
    db = await openDatabase({ url: url.href, logger: quiet });
  } catch (error) {
    await onServer(admin, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    db,
    url: url.href,
    close: () =>
      (closing ??= (async () => {
        await db.close().catch(() => undefined);
        await onServer(admin, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      })()),
  };
}

async function onServer(admin: URL, sql: string): Promise<void> {
  const db = await openDatabase({ url: admin.href, maxConnections: 1, logger: quiet });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
