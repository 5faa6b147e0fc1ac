import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements, runStatement, textParameter } from './pgliteWire.js';
import { pgliteParsers } from './types.js';

describe('runStatement (one call into PGlite per statement)', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await PGlite.create({ parsers: pgliteParsers });
    await pglite.exec(`CREATE TABLE w (id serial PRIMARY KEY, t text UNIQUE, n int8, b boolean, at timestamptz,
      d date, j jsonb, ids uuid[], tags text[], grid int[][], raw bytea)`);
  });
  afterAll(() => pglite.close());

  const run = (sql: string, params?: unknown[]) =>
    pglite.runExclusive(() => runStatement(pglite, sql, params, false));

  it('returns the rows, fields and counts PGlite query() returns, for every kind of parameter', async () => {
    const params = [
      'it\'s "quoted" \\ and ünïcode',
      2 ** 40,
      true,
      new Date('2026-11-24T04:05:06.789Z'),
      '2026-11-24',
      JSON.stringify({ a: [1, 'two'], b: null }),
      ['6b0e9f6c-1b4a-4bde-9d53-7b9f2d7f2a11', '0f3c6f0e-5f6a-4a7b-8c9d-0e1f2a3b4c5d'],
      ['a,b', 'c"d', 'e\\f', null, ''],
      [
        [1, 2],
        [3, 4],
      ],
      Buffer.from([0, 1, 254, 255]),
    ];
    const insert = `INSERT INTO w (t, n, b, at, d, j, ids, tags, grid, raw)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::uuid[], $8, $9, $10) RETURNING *`;
    const ours = await run(insert, params);
    const theirs = await pglite.query(insert, [
      'other',
      ...params.slice(1, 6),
      // PGlite's query() serialises arrays by their described type; the literal is what both send.
      textParameter(params[6]),
      textParameter(params[7]),
      textParameter(params[8]),
      params[9],
    ]);
    expect(ours.affectedRows).toBe(1);
    expect(ours.fields).toEqual(theirs.fields);
    const { id: _a, t: t1, ...rest1 } = ours.rows[0]!;
    const { id: _b, t: t2, ...rest2 } = theirs.rows[0] as Record<string, unknown>;
    expect(rest1).toEqual(rest2);
    expect(t1).toBe(params[0]);
    expect(t2).toBe('other');
    expect(rest1).toMatchObject({
      n: 2 ** 40,
      b: true,
      at: new Date('2026-11-24T04:05:06.789Z'),
      d: '2026-11-24',
      j: { a: [1, 'two'], b: null },
      tags: ['a,b', 'c"d', 'e\\f', null, ''],
      grid: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(Buffer.from(rest1.raw as Uint8Array)).toEqual(Buffer.from([0, 1, 254, 255]));
  });

  it('passes null and undefined as NULL, objects as JSON', async () => {
    const { rows } = await run(`SELECT $1::text AS a, $2::text AS b, $3::jsonb AS c`, [
      null,
      undefined,
      { x: 1 },
    ]);
    expect(rows[0]).toEqual({ a: null, b: null, c: { x: 1 } });
  });

  it('counts the rows an UPDATE or DELETE touched and returns none', async () => {
    await run(`INSERT INTO w (t) VALUES ('u1'), ('u2')`);
    const updated = await run(`UPDATE w SET n = $1 WHERE t LIKE 'u%'`, [7]);
    expect(updated.affectedRows).toBe(2);
    expect(updated.rows).toEqual([]);
  });

  it('throws PostgreSQL errors with their SQLSTATE, and the next statement runs normally', async () => {
    await run(`INSERT INTO w (t) VALUES ('dup')`);
    await expect(run(`INSERT INTO w (t) VALUES ($1)`, ['dup'])).rejects.toMatchObject({ code: '23505' });
    await expect(run(`SELEC 1`)).rejects.toMatchObject({ code: '42601' });
    expect((await run(`SELECT count(*)::int AS n FROM w WHERE t = $1`, ['dup'])).rows).toEqual([{ n: 1 }]);
    expect(pglite.isInTransaction()).toBe(false);
  });

  it('delivers notifications to PGlite listeners', async () => {
    const heard: string[] = [];
    const unlisten = await pglite.listen('wire_test', (payload) => heard.push(payload));
    await run(`SELECT pg_notify('wire_test', $1)`, ['hello']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toEqual(['hello']);
    await unlisten();
  });
  describe('with prepared statements', () => {
    const statements = new PreparedStatements(3);
    const prepared = (sql: string, params?: unknown[], inTransaction = false) =>
      pglite.runExclusive(() => runStatement(pglite, sql, params, inTransaction, statements));
    const names = async () =>
      (
        await pglite.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')
      ).rows.map((r) => r.name);

    it('parses a statement once and binds it after that', async () => {
      await pglite.exec('CREATE TABLE p (id int PRIMARY KEY, v text)');
      for (let i = 0; i < 3; i++) await prepared('INSERT INTO p (id, v) VALUES ($1, $2)', [i, `v${i}`]);
      const rows = await prepared('SELECT v FROM p WHERE id = $1', [2]);
      expect(rows.rows).toEqual([{ v: 'v2' }]);
      expect(statements.size).toBe(2);
      expect(await names()).toHaveLength(2);
      expect(statements.nameOf('INSERT INTO p (id, v) VALUES ($1, $2)')?.fresh).toBe(false);
    });

    it('forgets a statement that did not parse, and runs unnamed past its bound', async () => {
      await expect(prepared('SELEC nothing')).rejects.toMatchObject({ code: '42601' });
      expect(statements.size).toBe(2);
      await prepared('SELECT 1 AS one');
      expect(statements.size).toBe(3);
      expect((await prepared('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]); // over the bound of 3
      expect(statements.size).toBe(3);
    });

    it('makes a statement again when its table changed, or when something deallocated it', async () => {
      expect((await prepared('SELECT * FROM p WHERE id = $1', [0])).rows).toEqual([{ id: 0, v: 'v0' }]);
      await pglite.exec(`ALTER TABLE p ADD COLUMN extra text DEFAULT 'x'`);
      statements.forgetAll();
      await pglite.exec('DEALLOCATE ALL');
      const again = new PreparedStatements();
      const run = (sql: string, params?: unknown[], inTransaction = false) =>
        pglite.runExclusive(() => runStatement(pglite, sql, params, inTransaction, again));
      await run('SELECT * FROM p WHERE id = $1', [0]);
      await pglite.exec(`ALTER TABLE p ADD COLUMN more int DEFAULT 7`);
      // 0A000 "cached plan must not change result type": made again, outside a transaction.
      expect((await run('SELECT * FROM p WHERE id = $1', [0])).rows).toEqual([
        { id: 0, v: 'v0', extra: 'x', more: 7 },
      ]);
      await run('SELECT * FROM p WHERE id = $1', [1]); // prepared again under a new name
      expect(again.size).toBe(1);
      await pglite.exec('DEALLOCATE ALL');
      // 26000 "prepared statement does not exist": made again.
      expect((await run('SELECT * FROM p WHERE id = $1', [1])).rows).toEqual([
        { id: 1, v: 'v1', extra: 'x', more: 7 },
      ]);
    });
  });
});
