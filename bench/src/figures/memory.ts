import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Figure } from '../figure.js';
import { BACKEND, openBenchDatabase } from '../backend.js';
import { round } from '../stats.js';

interface ChildReport {
  /** Whether every isolate (the API's and the database worker's) ran its full collections. */
  collected: boolean;
  idle: NodeJS.MemoryUsage;
  loaded: NodeJS.MemoryUsage;
  peakRss: number;
  pagedClusters: number;
  listedClusters: number;
  loadMs: number;
}

const MB = 1024 * 1024;

async function measure(job: Record<string, unknown>): Promise<ChildReport> {
  const child = fork(new URL('./memoryChild.js', import.meta.url), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, BENCH_MEMORY_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const report = await new Promise<ChildReport>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ChildReport));
    child.once('exit', (code) => reject(new Error(`the API process exited ${code} before reporting`)));
  });
  await new Promise((r) => child.once('exit', r));
  if (!report.collected) throw new Error('the API process could not collect garbage in every isolate');
  if (report.pagedClusters !== job.clusters || report.listedClusters !== job.clusters) {
    throw new Error(
      `loaded ${report.pagedClusters} paged / ${report.listedClusters} listed, expected ${String(job.clusters)}`,
    );
  }
  return report;
}

/** The API's resident memory after loading 10,000 clusters, against the same process idle. */
export const memory: Figure = {
  name: 'api-memory',
  title: 'API resident memory after loading 10,000 clusters',
  async run(ctx) {
    const clusters = ctx.quick ? 1_000 : 10_000;
    // UAA and broker for the API child (token verification, its broker client); the API runs alone in
    // its own process so that its memory is not mixed with theirs.
    const { stack } = ctx;
    {
      const job = {
        uaa: {
          url: stack.uaa.url,
          issuer: stack.uaa.issuer,
          caPem: stack.uaa.caPem,
          dataDir: stack.uaa.dataDir,
        },
        broker: { url: stack.broker.url, ...stack.broker.credentials },
        token: stack.adminToken,
        clusters,
      };
      // The embedded server as `npm start` runs it: PGlite in a data directory, started before (the first
      // start creates the database, and PGlite's initdb leaves ~130 MB in the process that did it; every
      // later start opens the directory). A new in-memory database, as tests use, is reported beside it.
      const dataDir = await mkdtemp(path.join(tmpdir(), 'openpks-bench-memory-'));
      let report: ChildReport;
      let inMemory: ChildReport;
      try {
        await measure({ ...job, dataDir, clusters: 0 });
        report = await measure({ ...job, dataDir });
        inMemory = await measure(job);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
      // The API's own share, without an embedded database engine in its process: the same on PostgreSQL.
      // A database of its own on the run's server (DATABASE_URL), or on the tests' server, dropped after.
      // On a PostgreSQL run this is the figure's subject, and its failure fails the figure.
      const serverUrl = process.env.DATABASE_URL || process.env.PKS_TEST_DATABASE_URL;
      let onPostgres: ChildReport | undefined;
      if (serverUrl) {
        const own = await openBenchDatabase('memory', serverUrl);
        try {
          onPostgres = await measure({ ...job, databaseUrl: own.url });
        } catch (error) {
          if (BACKEND === 'postgres') throw error;
          ctx.log(`the API on PostgreSQL was not measured: ${(error as Error).message}`);
        } finally {
          await own.close();
        }
      }
      // The figure's subject is the run's backend: the embedded database, or the API on PostgreSQL.
      const subject = BACKEND === 'postgres' ? onPostgres! : report;
      const idleMb = subject.idle.rss / MB;
      const loadedMb = subject.loaded.rss / MB;
      const peakMb = subject.peakRss / MB;
      const met = loadedMb <= 300 && peakMb <= 300;
      ctx.log(`idle ${round(idleMb, 1)} MB, loaded ${round(loadedMb, 1)} MB, peak ${round(peakMb, 1)} MB`);
      return {
        measured: {
          value: round(loadedMb, 1),
          unit: 'MB',
          label:
            BACKEND === 'postgres'
              ? `RSS after loading ${clusters} clusters, the API on PostgreSQL (embedded PGlite in a data directory: ${round(report.loaded.rss / MB, 1)} MB, peak ${round(report.peakRss / MB, 1)} MB)`
              : `RSS after loading ${clusters} clusters, embedded PGlite (data directory) in the process` +
                (onPostgres
                  ? ` (API on PostgreSQL: ${round(onPostgres.loaded.rss / MB, 1)} MB, peak ${round(onPostgres.peakRss / MB, 1)} MB)`
                  : ''),
        },
        baseline: { value: round(idleMb, 1), unit: 'MB', label: 'the same process idle with 0 clusters' },
        ratio: round(loadedMb / idleMb, 3),
        ratioLabel: 'loaded ÷ idle',
        target: { text: '≤ 300 MB total (after loading, and at the peak while loading)', met },
        details: {
          clusters,
          idleRssMb: round(idleMb, 1),
          loadedRssMb: round(loadedMb, 1),
          peakRssMb: round(peakMb, 1),
          idleHeapUsedMb: round(subject.idle.heapUsed / MB, 1),
          loadedHeapUsedMb: round(subject.loaded.heapUsed / MB, 1),
          loadedExternalMb: round(subject.loaded.external / MB, 1),
          loadedArrayBuffersMb: round(subject.loaded.arrayBuffers / MB, 1),
          loadSeconds: round(subject.loadMs / 1000, 2),
          embeddedDataDirectoryLoadedRssMb: round(report.loaded.rss / MB, 1),
          embeddedDataDirectoryPeakRssMb: round(report.peakRss / MB, 1),
          how:
            (BACKEND === 'postgres'
              ? 'API role alone in a child process on a PostgreSQL database of its own (the headline); beside it, with its embedded PGlite in a data directory a first start had created'
              : 'API role alone in a child process with its embedded PGlite in a data directory a first start had created') +
            '; clusters read through clustersConnection (pages of 500) and one full `clusters` list' +
            "; idle and loaded are measured after full collections in the API's isolate and the PGlite worker's (peak: sampled every 20 ms while loading, garbage included)",
          newInMemoryDatabaseIdleRssMb: round(inMemory.idle.rss / MB, 1),
          newInMemoryDatabaseLoadedRssMb: round(inMemory.loaded.rss / MB, 1),
          newInMemoryDatabasePeakRssMb: round(inMemory.peakRss / MB, 1),
          ...(onPostgres
            ? {
                onPostgresIdleRssMb: round(onPostgres.idle.rss / MB, 1),
                onPostgresLoadedRssMb: round(onPostgres.loaded.rss / MB, 1),
                onPostgresPeakRssMb: round(onPostgres.peakRss / MB, 1),
                onPostgresLoadedHeapUsedMb: round(onPostgres.loaded.heapUsed / MB, 1),
              }
            : { onPostgres: 'not measured (set PKS_TEST_DATABASE_URL to a PostgreSQL admin URL)' }),
        },
        notes: met ? [] : [`over by ${round(Math.max(loadedMb, peakMb) - 300, 1)} MB`],
        plot: {
          title: 'resident memory',
          x: '',
          y: 'MB',
          kind: 'bars',
          series: [
            { label: 'idle', points: [[0, round(idleMb, 1)]] },
            { label: 'loaded', points: [[1, round(loadedMb, 1)]] },
            { label: 'peak', points: [[2, round(peakMb, 1)]] },
            ...(onPostgres
              ? [
                  {
                    label: 'idle (PostgreSQL)',
                    points: [[3, round(onPostgres.idle.rss / MB, 1)]] as [number, number][],
                  },
                  {
                    label: 'loaded (PostgreSQL)',
                    points: [[4, round(onPostgres.loaded.rss / MB, 1)]] as [number, number][],
                  },
                ]
              : []),
          ],
          rules: [{ label: 'target 300 MB', y: 300 }],
        },
      };
    }
  },
};
