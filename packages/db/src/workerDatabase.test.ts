import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InternalError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SqlState, sqlStateOf } from './index.js';
import { EventCollector } from './testing/index.js';
import { openWorkerDatabase, workerEntry, type WorkerDatabase } from './workerDatabase.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

// What vitest.globalSetup.ts provides (declared there too; that file is outside this package's program).
declare module 'vitest' {
  export interface ProvidedContext {
    pgliteWorkerBundle: string;
  }
}

describe('PGlite in a worker thread', () => {
  let db: WorkerDatabase;
  beforeAll(async () => {
    db = await openWorkerDatabase({ dataDir: 'memory://' }, quiet);
    await db.exec(`
      CREATE SCHEMA w;
      CREATE TABLE w.items (id int PRIMARY KEY, name text NOT NULL UNIQUE CHECK (name <> ''));
    `);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('runs PGlite off the caller thread', async () => {
    expect(db.worker.threadId).toBeGreaterThan(0);
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('keeps the PostgreSQL fields of an error that crosses the thread', async () => {
    await db.query(`INSERT INTO w.items VALUES (1, 'one')`);
    const error = (await db
      .query(`INSERT INTO w.items VALUES (2, 'one')`)
      .catch((e: unknown) => e)) as Record<string, unknown>;
    expect(error).toBeInstanceOf(Error);
    expect(sqlStateOf(error)).toBe(SqlState.UNIQUE_VIOLATION);
    expect(error).toMatchObject({
      code: '23505',
      severity: 'ERROR',
      schema: 'w',
      table: 'items',
      constraint: 'items_name_key',
      detail: 'Key (name)=(one) already exists.',
    });
    expect((error as unknown as Error).message).toBe(
      'duplicate key value violates unique constraint "items_name_key"',
    );

    const check = await db.query(`INSERT INTO w.items VALUES (3, '')`).catch((e: unknown) => e);
    expect(sqlStateOf(check)).toBe(SqlState.CHECK_VIOLATION);
    const syntax = await db.query('SELEC 1').catch((e: unknown) => e);
    expect(sqlStateOf(syntax)).toBe('42601');
  });

  it('fails a transaction whose failed statement was swallowed with the aborted InternalError', async () => {
    const error = await db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO w.items VALUES (1, 'again')`).catch(() => undefined);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(/rolled back at COMMIT/);
  });

  it('rethrows the callback error itself and rolls back, and a later transaction works', async () => {
    const failure = new Error('mine');
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO w.items VALUES (50, 'fifty')`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO w.items VALUES (51, 'fifty-one')`);
    });
    const { rows } = await db.query<{ id: number }>('SELECT id FROM w.items WHERE id >= 50 ORDER BY id');
    expect(rows).toEqual([{ id: 51 }]);
  });

  it('makes a query on the database wait for a transaction in progress, as in process', async () => {
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO w.items VALUES (60, 'sixty')`);
      outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM w.items WHERE id = 60').then((r) => {
        order.push('outside');
        return r.rows[0]?.n;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.query('SELECT 1');
      order.push('transaction');
    });
    expect(await outside).toBe(1);
    expect(order).toEqual(['transaction', 'outside']);
  });

  it('returns the same values as PGlite in process, and takes parameters as node-postgres prepares them', async () => {
    const at = new Date('2024-05-06T07:08:09.123Z');
    const withJson = { toJSON: () => ({ via: 'toJSON' }) };
    const { rows } = await db.query(
      `SELECT $1::timestamptz AS at, $2::jsonb AS doc, $3::bytea AS bytes, $4::bytea AS buffer,
              9007199254740991::int8 AS big, '2024-01-02'::date AS day, $5::text[] AS tags,
              $6::jsonb AS custom, $7::text AS missing, '\\x0001ff'::bytea AS literal`,
      [
        at,
        { a: [1, { b: null }] },
        new Uint8Array([1, 2, 3]),
        Buffer.from('hi'),
        ['x', 'y'],
        withJson,
        undefined,
      ],
    );
    const row = rows[0]!;
    expect(row).toEqual({
      at,
      doc: { a: [1, { b: null }] },
      bytes: new Uint8Array([1, 2, 3]),
      buffer: new Uint8Array([104, 105]),
      big: 9007199254740991,
      day: '2024-01-02',
      tags: ['x', 'y'],
      custom: { via: 'toJSON' },
      missing: null,
      literal: new Uint8Array([0, 1, 255]),
    });
    expect(row.at).toBeInstanceOf(Date);
    expect(row.bytes).toBeInstanceOf(Uint8Array);
  });

  it('forwards notifications after commit, in commit order', async () => {
    const received = new EventCollector<string>();
    const unlisten = await db.listen('w_notes', received.push);
    await db.transaction(async (tx) => {
      await db.notify('w_notes', 'first', tx);
      await tx.query('SELECT 1');
      expect(received.events).toEqual([]);
    });
    await db.notify('w_notes', 'second');
    expect(await received.waitFor(2)).toEqual(['first', 'second']);
    await unlisten();
    await db.notify('w_notes', 'unheard');
    await db.query('SELECT 1');
    expect(received.events).toEqual(['first', 'second']);
  });
});

describe('garbage collection in the worker', () => {
  it('runs only where the process exposes gc (measurements), and says whether it ran', async () => {
    const db = await openWorkerDatabase({ dataDir: 'memory://' }, quiet);
    try {
      // Test processes run without --expose-gc; the worker shares the process's V8 flags.
      expect(await db.collectGarbage()).toBe(typeof (globalThis as { gc?: unknown }).gc === 'function');
      expect((await db.query<{ v: number }>('SELECT 1 AS v')).rows).toEqual([{ v: 1 }]);
    } finally {
      await db.close();
    }
  });
});

describe('the PGlite worker ending', () => {
  it('lets statements already sent finish when closed, and refuses later ones with the closed error', async () => {
    const lost: Error[] = [];
    const db = await openWorkerDatabase({ dataDir: 'memory://' }, quiet, { onLost: (e) => lost.push(e) });
    const pending = db.query<{ v: number }>('SELECT 7 AS v FROM pg_sleep(0.3)');
    const closing = db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/database connection is closed/);
    expect((await pending).rows).toEqual([{ v: 7 }]);
    await closing;
    await expect(db.query('SELECT 1')).rejects.toThrow(/database connection is closed/);
    await expect(db.transaction(async () => undefined)).rejects.toBeInstanceOf(InternalError);
    await expect(db.listen('w_closed', () => {})).rejects.toThrow(/database connection is closed/);
    // A worker that ends because it was closed was not lost.
    expect(lost).toEqual([]);
  });

  it('lets a transaction in progress finish when closed', async () => {
    const db = await openWorkerDatabase({ dataDir: 'memory://' }, quiet);
    let closing: Promise<void> | undefined;
    const result = await db.transaction(async (tx) => {
      closing = db.close();
      await tx.query('SELECT pg_sleep(0.05)');
      return (await tx.query<{ v: number }>('SELECT 8 AS v')).rows[0]?.v;
    });
    expect(result).toBe(8);
    await closing;
  });

  it('fails pending and later calls with an error naming the database worker when the thread dies', async () => {
    const errors: string[] = [];
    const lost: Error[] = [];
    const db = await openWorkerDatabase(
      { dataDir: 'memory://' },
      { ...quiet, error: (message) => errors.push(message) },
      { onLost: (error) => lost.push(error) },
    );
    try {
      const pending = db.query('SELECT pg_sleep(30)').catch((e: unknown) => e);
      const inTransaction = db
        .transaction(async (tx) => {
          await tx.query('SELECT pg_sleep(30)');
        })
        .catch((e: unknown) => e);
      // Let the statement reach the worker, then kill the thread as a crash or an OOM would.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await db.worker.terminate();
      for (const error of [await pending, await inTransaction]) {
        expect(error).toBeInstanceOf(InternalError);
        expect((error as Error).message).toMatch(/PGlite database worker exited unexpectedly/);
      }
      await expect(db.query('SELECT 1')).rejects.toThrow(/PGlite database worker exited unexpectedly/);
      await expect(db.listen('w_dead', () => {})).rejects.toThrow(/PGlite database worker/);
      expect(errors).toEqual([expect.stringMatching(/PGlite database worker exited/)]);
      // Once, with the same error every call gets: the owner (pks-server) stops on it.
      expect(lost.map((e) => e.message)).toEqual([expect.stringMatching(/PGlite database worker exited/)]);
    } finally {
      await db.close();
    }
    await expect(db.query('SELECT 1')).rejects.toThrow(/database connection is closed/);
  }, 60_000);

  it('reports a database that cannot open, from the worker', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'openpks-worker-'));
    try {
      // A file where the data directory's pgdata must be created.
      await writeFile(path.join(dir, 'pgdata'), 'not a directory');
      const error = await openWorkerDatabase({ dataDir: dir }, quiet).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe('EEXIST');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the worker entry', () => {
  it('is the bundle of the current sources under vitest (no dist beside the sources)', () => {
    const bundled = inject('pgliteWorkerBundle');
    expect(bundled).toMatch(/pgliteWorker\.mjs$/);
    expect(workerEntry().pathname).toBe(new URL(`file://${bundled}`).pathname);
  });

  it('is never read from the environment', () => {
    expect(Object.keys(process.env).filter((name) => /PGLITE_WORKER/i.test(name))).toEqual([]);
  });

  it('names what is missing when there is neither a build nor a bundle', () => {
    expect(() => workerEntry(null)).toThrow(/PGlite database worker is missing.*npm run build/);
  });
});
