import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError, InternalError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseLogger } from './index.js';
import { MAX_NOTIFY_PAYLOAD_BYTES, SqlState, openDatabase, sqlStateOf } from './index.js';
import type { TestDatabase } from './testing/index.js';
import { EventCollector, flushEvents, testDatabaseBackends } from './testing/index.js';

describe.each(testDatabaseBackends(process.env, { pgliteWorker: true }))('Database on $name', (backend) => {
  let db: TestDatabase;
  const logged: string[] = [];
  beforeAll(async () => {
    db = await backend.open({
      logger: { info: () => {}, warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await db.exec(`
      CREATE SCHEMA t;
      CREATE TABLE t.items (id int PRIMARY KEY, name text NOT NULL);
    `);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('reports its kind', () => {
    expect(db.kind).toBe(backend.kind);
  });

  it('runs a query with parameters and reports returned and affected rows', async () => {
    const inserted = await db.query<{ id: number }>(
      'INSERT INTO t.items (id, name) VALUES ($1, $2), ($3, $4) RETURNING id',
      [1, 'one', 2, 'two'],
    );
    expect(inserted).toEqual({ rows: [{ id: 1 }, { id: 2 }], rowCount: 2 });

    const updated = await db.query('UPDATE t.items SET name = upper(name) WHERE id >= $1', [1]);
    expect(updated.rowCount).toBe(2);
    expect(updated.rows).toEqual([]);

    const selected = await db.query<{ name: string }>('SELECT name FROM t.items WHERE id = $1', [2]);
    expect(selected).toEqual({ rows: [{ name: 'TWO' }], rowCount: 1 });

    const none = await db.query('DELETE FROM t.items WHERE id = $1', [99]);
    expect(none.rowCount).toBe(0);
  });

  it('returns the same JavaScript values for the same SQL types on every backend', async () => {
    const { rows } = await db.query(
      `SELECT 9007199254740991::int8 AS big, count(*) AS counted, 1.50::numeric AS num,
              '2024-01-02'::date AS day, interval '1 day 2 hours' AS span,
              '2024-01-02T03:04:05Z'::timestamptz AS at, $1::jsonb AS doc, $2::text[] AS tags,
              ARRAY[1, 2]::int8[] AS bigs, ARRAY['2024-01-02']::date[] AS days, NULL::int8 AS nothing
       FROM (VALUES (1), (2)) AS v(x)`,
      [{ plan: 'small', workers: [1, 2] }, ['a', 'b']],
    );
    expect(rows).toEqual([
      {
        big: 9007199254740991,
        counted: 2,
        num: '1.50',
        day: '2024-01-02',
        span: '1 day 02:00:00',
        at: new Date('2024-01-02T03:04:05Z'),
        doc: { plan: 'small', workers: [1, 2] },
        tags: ['a', 'b'],
        bigs: [1, 2],
        days: ['2024-01-02'],
        nothing: null,
      },
    ]);
  });

  it('runs a script of several statements with exec', async () => {
    await db.exec(`
      CREATE TABLE t.script (n int);
      INSERT INTO t.script VALUES (1);
      INSERT INTO t.script VALUES (2);
    `);
    const { rows } = await db.query<{ total: number }>('SELECT sum(n)::int AS total FROM t.script');
    expect(rows[0]?.total).toBe(3);
  });

  it('refuses several statements in one query, as both backends use the extended protocol', async () => {
    await expect(db.query('SELECT 1; SELECT 2')).rejects.toThrow(/multiple commands/);
  });

  it('exposes the SQLSTATE of a database error', async () => {
    await db.query(`INSERT INTO t.items (id, name) VALUES (10, 'ten')`);
    const error: unknown = await db
      .query(`INSERT INTO t.items (id, name) VALUES (10, 'again')`)
      .catch((e) => e);
    expect(sqlStateOf(error)).toBe(SqlState.UNIQUE_VIOLATION);
    expect(sqlStateOf(new Error('plain'))).toBeUndefined();
  });

  it('commits a transaction when the callback resolves', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO t.items (id, name) VALUES (20, 'twenty')`);
      await tx.query(`INSERT INTO t.items (id, name) VALUES (21, 'twenty-one')`);
      return 'done';
    });
    expect(result).toBe('done');
    const { rowCount } = await db.query('SELECT 1 FROM t.items WHERE id IN (20, 21)');
    expect(rowCount).toBe(2);
  });

  it('rolls a transaction back when the callback throws, and rethrows its error', async () => {
    const failure = new Error('changed my mind');
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO t.items (id, name) VALUES (30, 'thirty')`);
        await tx.exec(`INSERT INTO t.items (id, name) VALUES (31, 'thirty-one')`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const { rowCount } = await db.query('SELECT 1 FROM t.items WHERE id IN (30, 31)');
    expect(rowCount).toBe(0);
  });

  it('runs every statement of a transaction on one connection', async () => {
    const pids = await db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL application_name = 'one-connection'`);
      const first = await tx.query<{ pid: number; app: string }>(
        `SELECT pg_backend_pid() AS pid, current_setting('application_name') AS app`,
      );
      const second = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return { first: first.rows[0], second: second.rows[0] };
    });
    expect(pids.first?.app).toBe('one-connection');
    expect(pids.second?.pid).toBe(pids.first?.pid);
  });

  it('refuses to commit a transaction whose failed statement the callback swallowed', async () => {
    const error: unknown = await db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO t.items (id, name) VALUES (40, 'forty')`);
        await tx.query(`INSERT INTO t.items (id, name) VALUES (40, 'duplicate')`).catch(() => undefined);
        return 'pretends all is well';
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(/rolled back at COMMIT/);
    const { rowCount } = await db.query('SELECT 1 FROM t.items WHERE id = 40');
    expect(rowCount).toBe(0);
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    let kept: { query(sql: string): Promise<unknown> } | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept?.query('SELECT 1')).rejects.toThrow(/transaction has already ended/);
  });

  it('delivers a notification to every handler of the channel', async () => {
    const first = new EventCollector<string>();
    const second = new EventCollector<string>();
    const unlistenFirst = await db.listen('db_fanout', first.push);
    const unlistenSecond = await db.listen('db_fanout', second.push);
    await db.notify('db_fanout', 'hello');
    expect(await first.waitFor(1)).toEqual(['hello']);
    expect(await second.waitFor(1)).toEqual(['hello']);

    await unlistenFirst();
    await unlistenFirst(); // idempotent
    await db.notify('db_fanout', 'again');
    expect(await second.waitFor(2)).toEqual(['hello', 'again']);
    expect(first.events).toEqual(['hello']);
    await unlistenSecond();
  });

  it('keeps delivering to other handlers when one throws or rejects, and logs it', async () => {
    const good = new EventCollector<string>();
    const unlistenThrowing = await db.listen('db_throwing', () => {
      throw new Error('handler bug');
    });
    const unlistenRejecting = await db.listen('db_throwing', (async () => {
      throw new Error('async handler bug');
    }) as () => void);
    const unlistenGood = await db.listen('db_throwing', good.push);
    logged.length = 0;
    await db.notify('db_throwing', 'one');
    await db.notify('db_throwing', 'two');
    expect(await good.waitFor(2)).toEqual(['one', 'two']);
    await flushEvents();
    expect(logged.sort()).toEqual([
      'a notification handler failed',
      'a notification handler failed',
      'a notification handler threw',
      'a notification handler threw',
    ]);
    await Promise.all([unlistenThrowing(), unlistenRejecting(), unlistenGood()]);
  });

  it('delivers a notification sent inside a transaction only after commit, and never after rollback', async () => {
    const received = new EventCollector<string>();
    const unlisten = await db.listen('db_tx', received.push);

    await db.transaction(async (tx) => {
      await db.notify('db_tx', 'committed', tx);
      await tx.query('SELECT 1');
      await flushEvents();
      expect(received.events).toEqual([]);
    });
    expect(await received.waitFor(1)).toEqual(['committed']);

    await db
      .transaction(async (tx) => {
        await db.notify('db_tx', 'rolled back', tx);
        throw new Error('abandon');
      })
      .catch(() => undefined);
    // Notifications arrive in commit order: once 'after' is here, a rolled-back one would have been too.
    await db.notify('db_tx', 'after');
    expect(await received.waitFor(2)).toEqual(['committed', 'after']);
    await unlisten();
  });

  it('quotes channel names, so a reserved word is a channel like any other', async () => {
    const received = new EventCollector<string>();
    const unlisten = await db.listen('select', received.push);
    await db.notify('select', 'ok');
    expect(await received.waitFor(1)).toEqual(['ok']);
    await unlisten();
    const again = await db.listen('select', received.push);
    await db.notify('select', 'again');
    expect(await received.waitFor(2)).toEqual(['ok', 'again']);
    await again();
  });

  it.each(['', 'Upper', '1starts_with_digit', 'has-dash', 'has space', 'quote"d', 'x'.repeat(64)])(
    'refuses the channel name %j',
    async (channel) => {
      await expect(db.listen(channel, () => {})).rejects.toBeInstanceOf(InputError);
      await expect(db.notify(channel, 'x')).rejects.toThrow(/invalid channel name/);
    },
  );

  it('accepts a payload of the maximum size and refuses one byte more', async () => {
    const received = new EventCollector<string>();
    const unlisten = await db.listen('db_big', received.push);
    const largest = 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES);
    await db.notify('db_big', largest);
    expect((await received.waitFor(1))[0]).toHaveLength(MAX_NOTIFY_PAYLOAD_BYTES);

    const error: unknown = await db.notify('db_big', `${largest}x`).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('payload');
    // The limit is in UTF-8 bytes, not characters.
    await expect(db.notify('db_big', 'é'.repeat(MAX_NOTIFY_PAYLOAD_BYTES / 2 + 1))).rejects.toThrow(
      /bytes, over the limit/,
    );
    await unlisten();
  });

  it.runIf(backend.kind === 'postgres')(
    'listens again on its channels after the LISTEN connection drops',
    async () => {
      const warnings: string[] = [];
      const logger: DatabaseLogger = { info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
      const own = await backend.open({ logger });
      try {
        const received = new EventCollector<string>();
        await own.listen('db_reconnect', received.push);
        await own.notify('db_reconnect', 'before');
        await received.waitFor(1);

        const terminated = await own.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'openpks-listen'`,
        );
        expect(terminated.rowCount).toBe(1);

        // Notifications sent while it reconnects are lost; keep probing until one gets through.
        let probe = 0;
        const probing = setInterval(() => {
          probe += 1;
          void own.notify('db_reconnect', `probe ${probe}`).catch(() => undefined);
        }, 50);
        try {
          await received.waitUntil((events) => events.some((e) => e.startsWith('probe')), 'a probe');
        } finally {
          clearInterval(probing);
        }
        expect(warnings).toContain('the LISTEN connection dropped; reconnecting');
      } finally {
        await own.close();
      }
    },
  );
});

describe.each(testDatabaseBackends(process.env, { pgliteWorker: true }))(
  'closing a database on $name',
  (backend) => {
    it('is idempotent and refuses queries afterwards', async () => {
      const db = await backend.open();
      await db.listen('db_closing', () => {});
      await Promise.all([db.close(), db.close()]);
      await db.close();
      await expect(db.query('SELECT 1')).rejects.toThrow(/database connection is closed/);
      await expect(db.listen('db_closing', () => {})).rejects.toBeInstanceOf(InternalError);
    });
  },
);

describe('openDatabase', () => {
  it('keeps PGlite data in <dataDir>/pgdata across restarts', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openpks-db-'));
    try {
      const first = await openDatabase({ dataDir });
      expect(first.kind).toBe('pglite');
      await first.exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');`);
      await first.close();
      expect((await stat(path.join(dataDir, 'pgdata'))).isDirectory()).toBe(true);

      const second = await openDatabase({ dataDir });
      const { rows } = await second.query('SELECT v FROM kept');
      expect(rows).toEqual([{ v: 'still here' }]);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['not a url', /not a valid URL/],
    ['mysql://root@localhost/db', /must be a postgres:\/\/ URL/],
    ['postgres://', /names no host/],
  ])('refuses DATABASE_URL %j with an error naming the variable', async (url, message) => {
    const error: unknown = await openDatabase({ url }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('DATABASE_URL');
    expect((error as Error).message).toMatch(message);
  });

  it('fails with an error naming DATABASE_URL, without the password, when the server is unreachable', async () => {
    const port = await closedPort();
    const error: unknown = await openDatabase({ url: `postgres://pks:s3cret@127.0.0.1:${port}/pks` }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(
      /cannot connect to PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/pks/,
    );
    expect((error as Error).message).toMatch(/DATABASE_URL/);
    expect((error as Error).message).not.toMatch(/s3cret/);
  });

  it('refuses a pool size that is not a positive whole number', async () => {
    await expect(
      openDatabase({ url: 'postgres://pks@127.0.0.1/pks', maxConnections: 0 }),
    ).rejects.toBeInstanceOf(InputError);
  });
});

/** A loopback port nothing listens on: bind an ephemeral one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
