import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from './index.js';
import { openDatabase } from './index.js';
import { checkpointIfDue } from './pglite.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function setting(db: Database, name: string): Promise<string> {
  const { rows } = await db.query<{ value: string }>('SELECT current_setting($1) AS value', [name]);
  return rows[0]!.value;
}

describe('openDatabase on PGlite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('starts in memory with a small buffer pool and 1MB WAL segments', async () => {
    const db = await openDatabase({ dataDir: 'memory://', logger: quiet });
    try {
      expect(await setting(db, 'shared_buffers')).toBe('16MB');
      expect(await setting(db, 'wal_buffers')).toBe('512kB');
      expect(await setting(db, 'wal_segment_size')).toBe('1MB');
      // PGlite's own start parameters are kept.
      expect(await setting(db, 'search_path')).toBe('public');
      expect(await setting(db, 'max_parallel_workers')).toBe('0');
    } finally {
      await db.close();
    }
  });

  it('keeps committed data in a directory across a reopen, with the same buffer pool', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openpks-pglite-'));
    dirs.push(dataDir);
    const first = await openDatabase({ dataDir, logger: quiet });
    try {
      expect(await setting(first, 'shared_buffers')).toBe('16MB');
      expect(await setting(first, 'wal_segment_size')).toBe('16MB');
      await first.exec('CREATE TABLE kept (id int PRIMARY KEY, name text NOT NULL)');
      await first.transaction(async (tx) => {
        await tx.query('INSERT INTO kept (id, name) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
      });
    } finally {
      await first.close();
    }
    const second = await openDatabase({ dataDir, logger: quiet });
    try {
      expect(await setting(second, 'shared_buffers')).toBe('16MB');
      const { rows } = await second.query('SELECT id, name FROM kept ORDER BY id');
      expect(rows).toEqual([
        { id: 1, name: 'one' },
        { id: 2, name: 'two' },
      ]);
    } finally {
      await second.close();
    }
  }, 60_000);
  it('checkpoints once enough WAL was written, and the checkpoint removes the old segments', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openpks-pglite-'));
    dirs.push(dataDir);
    const db = await openDatabase({ dataDir, logger: quiet });
    const wal = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_ls_waldir()')).rows[0]!.n;
    try {
      expect(await checkpointIfDue(db)).toBe(false); // nothing written yet
      await db.exec('CREATE TABLE filler (id serial PRIMARY KEY, v text NOT NULL)');
      for (let i = 0; i < 8; i++) {
        await db.query(`INSERT INTO filler (v) SELECT repeat('x', 1000) FROM generate_series(1, 20000)`);
      }
      const grown = await wal();
      expect(grown).toBeGreaterThan(6); // 16MB segments: ~170MB of WAL without a checkpoint
      expect(await checkpointIfDue(db)).toBe(true);
      expect(await wal()).toBeLessThanOrEqual(4); // max_wal_size 64MB
      expect(await checkpointIfDue(db)).toBe(false);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM filler')).rows[0]!.n).toBe(
        160_000,
      );
    } finally {
      await db.close();
    }
  }, 120_000);
});
