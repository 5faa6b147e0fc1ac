import { startTestApi, type TestApi } from '@openpks/api/testing';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import type { SimOptions } from '@openpks/bosh';
import type { Database } from '@openpks/db';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { openBenchDatabase } from './backend.js';
import { QueryStats } from './queryStats.js';

/** The whole control plane on loopback, as the tests start it: UAA, embedded Director (sim CPI), broker, API. */
export interface Stack {
  db: Database;
  /** Statement counts and times of every component (start/stop around a measurement). */
  queries: QueryStats;
  uaa: TestUaa;
  bosh: TestDirector;
  broker: TestBroker;
  api: TestApi;
  /** An access token with `pks.clusters.admin` (reads and changes every cluster). */
  adminToken: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  sim?: Omit<SimOptions, 'ipRange'>;
  /** Director worker count (default: the Director's own default). */
  workers?: number;
  /**
   * The sim VM address range: big figures need more than a /24, and each stack its own (sim masters bind
   * :8443 on their IPs). Default: a /16 per stack from 127.5.0.0, away from the tests' 127.1.0.0/16.
   */
  ipRange?: string;
  /** Upgrade-run driver of the broker. */
  upgrades?: { scanMs?: number };
  /** Follow operations without a Director client (the tracker only polls the broker). */
  noDirectorClient?: boolean;
}

/** The upgrade figure's Director runs this many tasks at once: enough for max_in_flight 50. */
export const UPGRADE_DIRECTOR_WORKERS = 50;

let stackCount = 0;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  stackCount += 1;
  // Each stack is one installation: its own PGlite, or its own database on the DATABASE_URL server.
  const own = await openBenchDatabase(`stack${stackCount}`);
  try {
    return await startOn(own.db, own.close, options);
  } catch (error) {
    // A stack that did not come up leaves no database behind on a shared server.
    await own.close().catch(() => undefined);
    throw error;
  }
}

async function startOn(raw: Database, closeDb: () => Promise<void>, options: StackOptions): Promise<Stack> {
  const queries = new QueryStats();
  const db = queries.wrap(raw);
  const uaa = await startTestUaa({ db });
  const bosh = await startTestDirector({
    uaa,
    db,
    ipRange: options.ipRange ?? `127.${4 + stackCount}.0.0/16`,
    ...(options.sim ? { sim: options.sim } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    // pks-server's Director settings (the testing door's defaults poll faster, for short tests).
    pollMs: 1_000,
    leaseMs: 15_000,
  });
  const broker = await startTestBroker({
    uaa,
    bosh,
    db,
    upgrades: { holder: `bench-broker-${stackCount}`, ...options.upgrades },
  });
  const api = await startTestApi({
    uaa,
    db,
    broker: { url: broker.url, ...broker.credentials },
    ...(options.noDirectorClient ? {} : { director: bosh.client }),
    // What a production API uses (apps/api role defaults), not the tests' faster polling.
    leaseMs: 15_000,
    poll: { initialMs: 250, maxMs: 5_000 },
  });
  await uaa.createUser('bench-admin', 'bench-admin-password-1', ['pks.clusters.admin']);
  const adminToken = (await uaa.tokenFor({ username: 'bench-admin', password: 'bench-admin-password-1' }))
    .access_token;
  return {
    db,
    queries,
    uaa,
    bosh,
    broker,
    api,
    adminToken,
    async stop() {
      await api.stop();
      await broker.stop();
      await bosh.stop();
      await uaa.stop();
      await closeDb();
    },
  };
}
