/**
 * The testing door of `@openpks/nsx`: the NSX simulator on 127.0.0.1 (port 0) over HTTPS with a test CA,
 * seeded, plus a client for it. Tests talk to it only through the Policy API.
 *
 * ```ts
 * const nsx = await startTestNsx({ db });
 * const proxy = new NsxProxy(nsx.client, nsx.topology);
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, type Database } from '@openpks/db';
import { DataDirectory, TlsAuthority } from '@openpks/pki';
import { createLogger, listenHttps } from '@openpks/role';
import { NsxClient } from '../client.js';
import { nsxMigrations } from '../simulator/migrations.js';
import { NsxSimulator } from '../simulator/nsxSimulator.js';
import { seedSimulator } from '../simulator/seed.js';
import { DEFAULT_NSX_SIM_SEED, type NsxSimSeed } from '../topology.js';

export interface TestNsx {
  url: string;
  caPem: string;
  credentials: { username: string; password: string };
  client: NsxClient;
  topology: NsxSimSeed;
  stop(): Promise<void>;
}

export async function startTestNsx(options: {
  db: Database;
  seed?: NsxSimSeed;
  dataDir?: string;
  /** How long the simulator takes to realise an intent (default: the simulator's own, 20 ms). */
  realizationDelayMs?: number;
}): Promise<TestNsx> {
  const ownDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'openpks-nsx-')) : undefined;
  const tls = await TlsAuthority.load(await DataDirectory.open(options.dataDir ?? ownDir!));
  await migrate(options.db, { schema: 'nsx', migrations: nsxMigrations });
  const credentials = { username: 'admin', password: 'sim-password' };
  const sim = new NsxSimulator(
    options.db,
    credentials,
    options.realizationDelayMs !== undefined ? { realizationDelayMs: options.realizationDelayMs } : {},
  );
  const topology = options.seed ?? DEFAULT_NSX_SIM_SEED;
  await seedSimulator(sim, topology);
  const listener = await listenHttps({
    role: 'nsx',
    host: '127.0.0.1',
    port: 0,
    credentials: await tls.serverCredentials('nsx'),
    handler: sim.handler,
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  const client = new NsxClient({ url: listener.url, ca: tls.caPem, ...credentials });
  return {
    url: listener.url,
    caPem: tls.caPem,
    credentials,
    client,
    topology,
    async stop() {
      client.close();
      await listener.close();
      if (ownDir !== undefined) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
