import { readFileSync } from 'node:fs';
import { Role, type PksConfig } from '@openpks/config';
import { migrate } from '@openpks/db';
import { generatePassword } from '@openpks/pki';
import type { RoleDeps, RoleModule, RunningRole } from '@openpks/role';
import { listenHttps } from '@openpks/role';
import { NsxClient } from './client.js';
import { NsxProxy } from './proxy.js';
import { nsxMigrations } from './simulator/migrations.js';
import { NsxSimulator } from './simulator/nsxSimulator.js';
import { seedSimulator } from './simulator/seed.js';
import type { NsxSimSeed, NsxTopology } from './topology.js';

export const NSX_SIM_USERNAME = 'admin';
export const NSX_SIM_PASSWORD_FILE = 'secrets/nsx-sim-password';

export interface NsxRoleOptions {
  /** The simulator's seed objects (default: `nsx` in pks.yaml: its topology ids and `sim` address space). */
  seed?: NsxSimSeed;
}

const NSX_SIM_PASSWORD_SECRET = 'nsx.sim-password';

/**
 * The embedded simulator's basic-auth user. Its password is shared through the database, so an API
 * replica on another machine signs in to the simulator with the same one.
 */
export async function loadNsxSimCredentials(
  deps: Pick<RoleDeps, 'sharedSecrets'>,
): Promise<{ username: string; password: string }> {
  const password = await deps.sharedSecrets.loadOrCreate(NSX_SIM_PASSWORD_SECRET, () => generatePassword(), {
    file: NSX_SIM_PASSWORD_FILE,
  });
  return { username: NSX_SIM_USERNAME, password };
}

/**
 * The `nsx` role of pks-server: with `nsx.type: embedded` it serves the NSX simulator (labelled "sim") on
 * :8444 over HTTPS, its objects in the `nsx` schema, seeded with the installation's tier-0, IP blocks and
 * floating IP pool. With `nsx.type: manager` there is nothing to serve: the API talks to the real manager.
 */
export function createNsxRole(options: NsxRoleOptions = {}): RoleModule {
  return {
    name: Role.NSX,
    async start(config: PksConfig, deps: RoleDeps): Promise<RunningRole> {
      // pks-server already binds `role` to the logger it hands each role.
      const logger = deps.logger;
      if (config.nsx.type === 'manager') {
        logger.info({ url: config.nsx.url }, 'NSX Manager configured; the nsx role serves nothing');
        return {
          url: config.nsx.url,
          banner: { nsx: `${config.nsx.url} (NSX Manager)` },
          stop: async () => {},
        };
      }
      await migrate(deps.db, { schema: 'nsx', migrations: nsxMigrations });
      const sim = new NsxSimulator(deps.db, await loadNsxSimCredentials(deps));
      await seedSimulator(sim, options.seed ?? { ...config.nsx.topology, ...config.nsx.sim });
      const listener = await listenHttps({
        role: Role.NSX,
        host: config.roles.nsx.host,
        port: config.roles.nsx.port,
        credentials: await deps.tls.serverCredentials(Role.NSX),
        handler: sim.handler,
        logger,
        healthChecks: { database: async () => void (await deps.db.query('SELECT 1')) },
      });
      return {
        url: listener.url,
        banner: { nsx: `${listener.url}/policy/api/v1 (NSX-T Policy API, sim)` },
        stop: () => listener.close(),
      };
    },
  };
}

export const nsxRole: RoleModule = createNsxRole();

/**
 * The NSX client and proxy step the API uses, for the configured target: the real NSX Manager (its URL,
 * user and CA) or the embedded simulator (found through the endpoints, trusting the installation CA).
 */
export async function nsxProxyFor(
  config: PksConfig,
  deps: Pick<RoleDeps, 'sharedSecrets' | 'endpoints' | 'tls'>,
  topology: NsxTopology = config.nsx.topology,
): Promise<NsxProxy> {
  const client =
    config.nsx.type === 'manager'
      ? new NsxClient({
          url: config.nsx.url,
          username: config.nsx.username,
          password: config.nsx.password,
          ...(config.nsx.caFile !== undefined ? { ca: readFileSync(config.nsx.caFile, 'utf8') } : {}),
        })
      : new NsxClient({
          url: deps.endpoints.url(Role.NSX),
          ca: deps.tls.caPem,
          ...(await loadNsxSimCredentials(deps)),
        });
  return new NsxProxy(client, topology);
}
