import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { openDatabase } from '@openpks/db';
import { describe, expect, it } from 'vitest';
import { openBenchDatabase } from './backend.js';
import { threadCpu, threadCpuSince } from './threadCpu.js';

const serverUrl = process.env.PKS_TEST_DATABASE_URL;

describe('openBenchDatabase', () => {
  it('without a server, opens a PGlite of its own in memory', async () => {
    const own = await openBenchDatabase('unit', '');
    try {
      expect(own.db.kind).toBe('pglite');
      expect(own.url).toBeUndefined();
      const { rows } = await own.db.query<{ n: number }>('SELECT 1 + 1 AS n');
      expect(rows[0]!.n).toBe(2);
    } finally {
      await own.close();
    }
  });

  it.skipIf(!serverUrl)('on PostgreSQL, makes a database of its own and drops it on close', async () => {
    const own = await openBenchDatabase('unit', serverUrl);
    const name = new URL(own.url!).pathname.slice(1);
    expect(name).toMatch(new RegExp(`^bench_${process.pid}_\\d+_unit$`));
    const admin = await openDatabase({ url: serverUrl!, maxConnections: 1, logger: quiet });
    try {
      await own.db.exec('CREATE TABLE t (x int)');
      const exists = async () =>
        (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length;
      expect(await exists()).toBe(1);
      await own.close();
      await own.close(); // idempotent
      expect(await exists()).toBe(0);
    } finally {
      await own.close();
      await admin.close();
    }
  });
});

describe.skipIf(process.platform !== 'linux')('threadCpu', () => {
  it('puts key generation in libuv pool on the other threads, not the main one', async () => {
    const before = threadCpu();
    await Promise.all([1, 2, 3].map(() => promisify(generateKeyPair)('rsa', { modulusLength: 2048 })));
    const spent = threadCpuSince(before);
    expect(spent.otherThreads ?? 0).toBeGreaterThan(spent.mainThread ?? 0);
    expect(Object.keys(spent).every((k) => k === 'mainThread' || k === 'otherThreads')).toBe(true);
  });
});

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
