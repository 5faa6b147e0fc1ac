import { readFileSync } from 'node:fs';
import { discoverUaaIssuer } from '@openpks/auth';
import { Role, type PksConfig } from '@openpks/config';
import { DirectorClient } from '@openpks/bosh';
import { loadBrokerCredentials } from '@openpks/broker';
import { nsxProxyFor } from '@openpks/nsx';
import type { RoleDeps, RoleModule, RunningRole } from '@openpks/role';
import { loadDirectorClientSecret } from '@openpks/uaa';
import { startApiServer } from './http/apiServer.js';

/** Where the running API leaves its URL, for operator tools on this machine (`pks-admin operations`). */
export const API_URL_FILE = 'api/url';

export interface ApiRoleOptions {
  /** Tracker lease length (default 15 s): how soon another replica resumes a crashed one's operations. */
  leaseMs?: number;
}

/** The `api` role of pks-server: GraphQL + graphql-ws on :9021, talking OSB to the broker. */
export function createApiRole(options: ApiRoleOptions = {}): RoleModule {
  return {
    name: Role.API,
    after: [Role.UAA, Role.BROKER, Role.DIRECTOR, Role.NSX],
    async start(config: PksConfig, deps: RoleDeps): Promise<RunningRole> {
      const uaaUrl = deps.endpoints.url(Role.UAA);
      const director =
        config.director.type === 'remote'
          ? new DirectorClient({
              url: config.director.url,
              ca:
                config.director.caFile !== undefined
                  ? readFileSync(config.director.caFile, 'utf8')
                  : undefined,
              client: { id: config.director.clientId, secret: config.director.clientSecret },
            })
          : await embeddedDirectorClient(deps);
      const server = await startApiServer({
        host: config.roles.api.host,
        port: config.roles.api.port,
        credentials: await deps.tls.serverCredentials(Role.API),
        db: deps.db,
        logger: deps.logger,
        plans: config.plans,
        uaa: {
          url: uaaUrl,
          issuer: await discoverUaaIssuer(uaaUrl, { ca: deps.tls.caPem }),
          ca: deps.tls.caPem,
        },
        broker: {
          url: deps.endpoints.url(Role.BROKER),
          ca: deps.tls.caPem,
          ...(await loadBrokerCredentials(deps)),
        },
        director,
        // Every cluster gets its NSX-T networking, from the NSX Manager or the embedded simulator.
        nsx: { proxy: await nsxProxyFor(config, deps), topology: config.nsx.topology },
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      });
      await deps.dataDir.write(API_URL_FILE, `${server.url}\n`);
      return {
        url: server.url,
        banner: { api: `${server.graphqlUrl} (GraphQL, graphql-ws); ${server.url}/v1 (PKS v1 REST)` },
        stop: async () => {
          await server.stop();
          director?.close();
        },
      };
    },
  };
}

async function embeddedDirectorClient(deps: RoleDeps): Promise<DirectorClient | undefined> {
  const secret = await loadDirectorClientSecret(deps);
  if (secret === undefined) return undefined;
  return new DirectorClient({
    url: deps.endpoints.url(Role.DIRECTOR),
    ca: deps.tls.caPem,
    client: { id: 'pks_director', secret },
  });
}

export const apiRole: RoleModule = createApiRole();
