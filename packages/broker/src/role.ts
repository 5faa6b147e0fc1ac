import { readFileSync } from 'node:fs';
import type { PksConfig } from '@openpks/config';
import { Role } from '@openpks/config';
import { DirectorClient } from '@openpks/bosh';
import { InternalError } from '@openpks/domain';
import { generatePassword } from '@openpks/pki';
import type { RoleDeps, RoleModule, RunningRole } from '@openpks/role';
import { loadDirectorClientSecret } from '@openpks/uaa';
import { defaultOidcSettings } from './adapter/plan.js';
import { Broker } from './broker.js';
import type { ClusterCaSource } from './service/brokerService.js';

/** The broker's Basic-auth user; the password is generated once into the data directory. */
export const BROKER_USERNAME = 'broker';
export const BROKER_PASSWORD_FILE = 'broker/password';

export async function loadBrokerCredentials(
  deps: Pick<RoleDeps, 'dataDir'>,
): Promise<{ username: string; password: string }> {
  const password = (await deps.dataDir.loadOrCreateSecret(BROKER_PASSWORD_FILE, () => generatePassword()))
    .toString('utf8')
    .trim();
  return { username: BROKER_USERNAME, password };
}

export interface BrokerRoleOptions {
  /** Where kubeconfigs get the cluster CA; the Director's config server read API is not there yet. */
  clusterCa?: ClusterCaSource;
}

/** The `broker` role of pks-server: the OSB broker driving the Director through DirectorClient. */
export function createBrokerRole(options: BrokerRoleOptions = {}): RoleModule {
  return {
    name: Role.BROKER,
    after: [Role.UAA, Role.DIRECTOR],
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
          : new DirectorClient({
              url: deps.endpoints.url(Role.DIRECTOR),
              ca: deps.tls.caPem,
              client: {
                id: 'pks_director',
                secret:
                  (await loadDirectorClientSecret(deps.dataDir, deps.secrets)) ??
                  (() => {
                    throw new InternalError(
                      'the pks_director client secret is missing: start the uaa role first',
                    );
                  })(),
              },
            });
      const broker = await Broker.start({
        db: deps.db,
        director,
        plans: config.plans,
        oidc: defaultOidcSettings(uaaUrl, deps.tls.caPem),
        secrets: deps.secrets,
        clusterCa: options.clusterCa ?? {
          clusterCa: async () => {
            throw new InternalError(
              'reading the cluster CA needs the Director config server API (pending in @openpks/bosh)',
            );
          },
        },
        credentials: await loadBrokerCredentials(deps),
        tls: await deps.tls.serverCredentials(Role.BROKER),
        host: config.roles.broker.host,
        port: config.roles.broker.port,
        logger: deps.logger.child({ role: Role.BROKER }),
      });
      return {
        url: broker.url,
        banner: {
          broker: `${broker.url} (OSB v2.17, basic auth user ${BROKER_USERNAME}, password in ${deps.dataDir.path(BROKER_PASSWORD_FILE)})`,
        },
        stop: async () => {
          await broker.stop();
          director.close();
        },
      };
    },
  };
}

export const brokerRole: RoleModule = createBrokerRole();
