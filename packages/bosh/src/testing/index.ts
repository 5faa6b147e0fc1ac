/**
 * The testing door of `@openpks/bosh`: an embedded Director on 127.0.0.1 (port 0) with an isolated
 * database and a DirectorClient already authenticated against a real UAA, for tests of components that
 * drive BOSH (the broker, the API's operation tracker).
 *
 * ```ts
 * const uaa = await startTestUaa();
 * const bosh = await startTestDirector({ uaa, ipRange: '127.1.42.0/24' });
 * const task = await bosh.client.deploy(manifest);
 * await bosh.client.waitForTask(task.id);
 * await bosh.stop();
 * ```
 * Give each test its own `ipRange` (a /24 inside 127.1.0.0/16): sim masters bind :8443 on their VM IPs.
 */
import { openDatabase, type Database } from '@openpks/db';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, type Logger } from '@openpks/role';
import { ConfigServerClient } from '../client/configServerClient.js';
import { DirectorClient } from '../client/directorClient.js';
import { EmbeddedDirector, type SimOptions } from '../director/embeddedDirector.js';

/** What the Director needs of a UAA (the shape `startTestUaa()` returns). */
export interface TestUaaLike {
  url: string;
  issuer: string;
  caPem: string;
  /** UAA's data directory: the Director's certificate comes from the same installation CA. */
  dataDir: string;
  directorClientSecret: string;
}

export interface TestDirectorOptions {
  uaa: TestUaaLike;
  /** The sim's VM IP range; give every test its own (default: a /24 in 127.1.128.0/17 picked per process). */
  ipRange?: string;
  sim?: Omit<SimOptions, 'ipRange'>;
  workers?: number;
  /** Use this database (not closed on stop): another backend, or a restart on the same state. Default: PGlite in memory. */
  db?: Database;
  leaseMs?: number;
  pollMs?: number;
  logger?: Logger;
}

export interface TestDirector {
  director: EmbeddedDirector;
  /** A client authenticated as `pks_director` (bosh.admin) through UAA. */
  client: DirectorClient;
  /** A client of the Director's config server (CredHub's read API), authenticated as `pks_director`. */
  configServer: ConfigServerClient;
  url: string;
  /** The CA of the Director's and UAA's certificates. */
  caPem: string;
  db: Database;
  secrets: SecretBox;
  stop(): Promise<void>;
}

let rangeCounter = 0;

/**
 * A /24 in the upper half of 127.1.0.0/16, spread by process id so parallel test files rarely meet (this
 * package's own tests use fixed ranges in the lower half).
 */
function nextIpRange(): string {
  rangeCounter += 1;
  return `127.1.${128 + ((process.pid * 37 + rangeCounter) % 128)}.0/24`;
}

export async function startTestDirector(options: TestDirectorOptions): Promise<TestDirector> {
  const dataDir = await DataDirectory.open(options.uaa.dataDir);
  const tls = await TlsAuthority.load(dataDir);
  const secrets = await SecretBox.fromDataDirectory(dataDir);
  const ownDb = options.db === undefined;
  const db = options.db ?? (await openDatabase({ dataDir: 'memory://' }));
  const ipRange = options.ipRange ?? nextIpRange();
  let director: EmbeddedDirector;
  try {
    director = await EmbeddedDirector.start({
      db,
      secrets,
      logger: options.logger ?? createLogger({ level: 'silent', pretty: false }),
      credentials: await tls.serverCredentials('director'),
      host: '127.0.0.1',
      port: 0,
      uaa: { url: options.uaa.url, issuer: options.uaa.issuer, ca: options.uaa.caPem },
      sim: { ...options.sim, ipRange },
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      pollMs: options.pollMs ?? 200,
    });
  } catch (error) {
    if (ownDb) await db.close();
    throw error;
  }
  const client = new DirectorClient({
    url: director.url,
    ca: tls.caPem,
    client: { id: 'pks_director', secret: options.uaa.directorClientSecret },
    poll: { initialMs: 50, maxMs: 500 },
  });
  const configServer = await ConfigServerClient.fromDirector(client, {
    ca: tls.caPem,
    client: { id: 'pks_director', secret: options.uaa.directorClientSecret },
  });
  return {
    director,
    client,
    configServer,
    url: director.url,
    caPem: tls.caPem,
    db,
    secrets,
    stop: async () => {
      client.close();
      configServer.close();
      await director.stop();
      if (ownDb) await db.close();
    },
  };
}

export { kuboManifest } from './kuboManifest.js';
export type { KuboManifestOptions } from './kuboManifest.js';
