import { InputError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transaction } from './index.js';
import { Leases, claimNext, claimRows, leasesMigration, migrate } from './index.js';
import type { TestDatabase } from './testing/index.js';
import { testDatabaseBackends } from './testing/index.js';

interface Job {
  id: number;
  state: string;
  holder: string | null;
}

describe.each(testDatabaseBackends(process.env, { pgliteWorker: true }))('leases on $name', (backend) => {
  let db: TestDatabase;
  let leases: Leases;
  beforeAll(async () => {
    db = await backend.open();
    await migrate(db, {
      schema: 'work',
      migrations: [
        {
          id: '0001_create_jobs',
          sql: `CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL, holder text);`,
        },
        leasesMigration('0002_create_leases'),
      ],
    });
    leases = new Leases(db, { schema: 'work' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('gives a free lease to the first holder and refuses a second holder', async () => {
    expect(await leases.tryAcquire('reconciler', 'replica-a', 60_000)).toBe(true);
    expect(await leases.tryAcquire('reconciler', 'replica-b', 60_000)).toBe(false);
    expect(await leases.current('reconciler')).toMatchObject({ name: 'reconciler', holder: 'replica-a' });
  });

  it('lets the holder take its own lease again, extending it', async () => {
    expect(await leases.tryAcquire('own', 'replica-a', 1_000)).toBe(true);
    const before = (await leases.current('own'))?.expiresAt;
    expect(await leases.tryAcquire('own', 'replica-a', 60_000)).toBe(true);
    const after = (await leases.current('own'))?.expiresAt;
    expect(after!.getTime()).toBeGreaterThan(before!.getTime());
  });

  it('lets another holder take a lease once it expired, and then refuses the old holder a renewal', async () => {
    const ttlMs = 200;
    const started = Date.now();
    expect(await leases.tryAcquire('expiring', 'replica-a', ttlMs)).toBe(true);
    expect(await leases.tryAcquire('expiring', 'replica-b', ttlMs)).toBe(false);
    let taken = false;
    while (!taken && Date.now() - started < 5_000) {
      taken = await leases.tryAcquire('expiring', 'replica-b', 60_000);
      if (!taken) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(taken).toBe(true);
    // The database's clock is this machine's: the lease cannot have gone before its time to live.
    expect(Date.now() - started).toBeGreaterThanOrEqual(ttlMs - 5);
    expect(await leases.renew('expiring', 'replica-a', 60_000)).toBe(false);
    expect((await leases.current('expiring'))?.holder).toBe('replica-b');
  });

  it('renews a lease only for its holder', async () => {
    await leases.tryAcquire('renewed', 'replica-a', 60_000);
    expect(await leases.renew('renewed', 'replica-a', 120_000)).toBe(true);
    expect(await leases.renew('renewed', 'replica-b', 120_000)).toBe(false);
    expect(await leases.renew('never-taken', 'replica-a', 120_000)).toBe(false);
  });

  it('frees a released lease for the next holder; only the holder can release it', async () => {
    await leases.tryAcquire('released', 'replica-a', 60_000);
    expect(await leases.release('released', 'replica-b')).toBe(false);
    expect(await leases.release('released', 'replica-a')).toBe(true);
    expect(await leases.current('released')).toBeUndefined();
    expect(await leases.tryAcquire('released', 'replica-b', 60_000)).toBe(true);
  });

  it('gives a lease to exactly one of several holders racing for it', async () => {
    const holders = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const results = await Promise.all(holders.map((holder) => leases.tryAcquire('raced', holder, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await leases.current('raced'))?.holder).toBe(holders[results.indexOf(true)]);
  });

  it('refuses a lease without a name or holder, or with a time to live that is not positive', async () => {
    await expect(leases.tryAcquire('', 'replica-a', 1_000)).rejects.toBeInstanceOf(InputError);
    await expect(leases.tryAcquire('x', '', 1_000)).rejects.toBeInstanceOf(InputError);
    await expect(leases.tryAcquire('x', 'replica-a', 0)).rejects.toThrow(/must be positive/);
    await expect(leases.renew('x', 'replica-a', Number.NaN)).rejects.toThrow(/must be positive/);
  });

  describe('claiming rows', () => {
    async function resetJobs(count: number): Promise<void> {
      await db.exec('DELETE FROM work.jobs');
      for (let id = 1; id <= count; id += 1) {
        await db.query(`INSERT INTO work.jobs (id, state) VALUES ($1, 'queued')`, [id]);
      }
    }

    async function claimOne(tx: Transaction, worker: string): Promise<Job | undefined> {
      const job = await claimNext<Job>(tx, { table: 'work.jobs', where: `state = 'queued'`, orderBy: 'id' });
      if (job === undefined) return undefined;
      await tx.query(`UPDATE work.jobs SET state = 'running', holder = $2 WHERE id = $1`, [job.id, worker]);
      return job;
    }

    it('never gives one row to two workers claiming at the same time', async () => {
      await resetJobs(12);
      const workers = ['w1', 'w2', 'w3', 'w4'];
      const claimed = await Promise.all(
        workers.map(async (worker) => {
          const mine: number[] = [];
          for (;;) {
            const job = await db.transaction((tx) => claimOne(tx, worker));
            if (job === undefined) return mine;
            mine.push(job.id);
          }
        }),
      );
      const all = claimed.flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const { rows } = await db.query<{ holder: string; n: number }>(
        `SELECT holder, count(*) AS n FROM work.jobs WHERE state = 'running' GROUP BY holder`,
      );
      expect(rows.reduce((sum, row) => sum + row.n, 0)).toBe(12);
    });

    it('claims up to a limit of rows, in the order asked for, with parameters', async () => {
      await resetJobs(5);
      const rows = await db.transaction((tx) =>
        claimRows<Job>(tx, {
          table: 'work.jobs',
          where: 'id > $1',
          params: [1],
          orderBy: 'id DESC',
          limit: 3,
        }),
      );
      expect(rows.map((row) => row.id)).toEqual([5, 4, 3]);
    });

    it('returns nothing when no row is claimable', async () => {
      await resetJobs(0);
      expect(await db.transaction((tx) => claimNext(tx, { table: 'work.jobs' }))).toBeUndefined();
    });

    it('refuses a table name that is not an identifier, and a bad limit', async () => {
      await expect(
        db.transaction((tx) => claimRows(tx, { table: 'work.jobs; DROP TABLE x' })),
      ).rejects.toBeInstanceOf(InputError);
      await expect(db.transaction((tx) => claimRows(tx, { table: 'work.jobs', limit: 0 }))).rejects.toThrow(
        /claim limit/,
      );
    });

    // PGlite is one connection: its transactions run one after another, so a row lock never meets a
    // second transaction there. On PostgreSQL we hold a lock open and watch the other claimer skip it.
    it.runIf(backend.kind === 'postgres')(
      'skips a row another open transaction holds, without waiting for it',
      async () => {
        await resetJobs(2);
        let releaseFirst!: () => void;
        const firstMayCommit = new Promise<void>((resolve) => {
          releaseFirst = resolve;
        });
        let firstClaimed!: (id: number) => void;
        const firstHasClaimed = new Promise<number>((resolve) => {
          firstClaimed = resolve;
        });
        const first = db.transaction(async (tx) => {
          const [row] = await claimRows<Job>(tx, { table: 'work.jobs', orderBy: 'id' });
          firstClaimed(row!.id);
          await firstMayCommit;
          return row!.id;
        });
        const firstId = await firstHasClaimed;
        const secondId = await db.transaction(async (tx) => {
          const [row] = await claimRows<Job>(tx, { table: 'work.jobs', orderBy: 'id' });
          return row?.id;
        });
        releaseFirst();
        expect(await first).toBe(firstId);
        expect(firstId).toBe(1);
        expect(secondId).toBe(2);
      },
    );
  });
});
