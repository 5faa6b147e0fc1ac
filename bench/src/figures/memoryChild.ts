import { startTestApi } from '@openpks/api/testing';
import { openDatabase } from '@openpks/db';
import { collectGarbage } from '@openpks/db/testing';
import { seedClusters } from '../seed.js';
import { sleep } from '../stats.js';

/**
 * The API alone in this process (started by the memory figure with --expose-gc): its own embedded
 * database, the parent's UAA and broker. Reports resident memory idle, then after 10,000 clusters were
 * loaded through the API.
 */
interface ChildJob {
  uaa: { url: string; issuer: string; caPem: string; dataDir: string };
  broker: { url: string; username: string; password: string };
  token: string;
  clusters: number;
  /** The data directory of the embedded database (`memory://` for one in this process's memory). */
  dataDir?: string;
  /** A PostgreSQL database made for this measurement (instead of the embedded one). */
  databaseUrl?: string;
}

const job = JSON.parse(process.env.BENCH_MEMORY_JOB!) as ChildJob;
// Resident memory is measured after full collections in every isolate: this one and, for embedded
// PGlite, its worker thread's, which holds the garbage of every result it decoded (this isolate's gc()
// does not reach it). Peak memory is sampled while loading, garbage included.
let collected = true;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    collected = (await collectGarbage(db)) && collected;
    await sleep(200);
  }
  return process.memoryUsage();
};
const FIELDS = `name uuid planName owner lastAction lastActionState lastActionDescription kubernetesMasterHost
  kubernetesMasterPort kubernetesMasterIps workerInstances k8sVersion pksVersion networkProfileName`;

// The embedded default (PGlite in this process, in a data directory as `npm start` runs it, or in
// memory), or a database of its own on a PostgreSQL server.
const db = job.databaseUrl
  ? await openDatabase({ url: job.databaseUrl })
  : await openDatabase({ dataDir: job.dataDir ?? 'memory://' });
const api = await startTestApi({ uaa: job.uaa, db, broker: job.broker });
const ask = async (query: string, variables?: Record<string, unknown>) => {
  const result = await api.query(job.token, query, variables);
  if (result.errors) throw new Error(result.errors[0]!.message);
  return result.data;
};
// Idle: started, migrated, one request of each kind answered (so lazy parts are loaded in both states).
await ask(`{ clustersConnection(first: 1) { totalCount } clusters { name } }`);
const idle = await settle();

await seedClusters(db, 'mem', job.clusters, 'bench-admin');
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const started = Date.now();
let after: string | null = null;
let seen = 0;
for (;;) {
  const data = (await ask(
    `query($after: String) { clustersConnection(first: 500, after: $after) {
       edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor } totalCount } }`,
    { after },
  )) as {
    clustersConnection: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  };
  seen += data.clustersConnection.edges.length;
  if (!data.clustersConnection.pageInfo.hasNextPage) break;
  after = data.clustersConnection.pageInfo.endCursor;
}
const all = (await ask(`{ clusters { ${FIELDS} } }`)) as { clusters: unknown[] };
const loadMs = Date.now() - started;
clearInterval(sampler);
const loaded = await settle();
process.send!({
  collected,
  idle,
  loaded,
  peakRss: peak,
  pagedClusters: seen,
  listedClusters: all.clusters.length,
  loadMs,
});
await api.stop();
await db.close();
process.exit(0);
