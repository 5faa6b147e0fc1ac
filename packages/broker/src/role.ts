import { readFileSync } from 'node:fs';
import { discoverUaaIssuer, followRevocations, RevocationList, UaaTokenVerifier } from '@openpks/auth';
import type { BrokerSettings, PksConfig } from '@openpks/config';
import { Role } from '@openpks/config';
import { ConfigServerClient, DirectorClient } from '@openpks/bosh';
import { InternalError } from '@openpks/domain';
import { generatePassword } from '@openpks/pki';
import type { RoleDeps, RoleModule, RunningRole } from '@openpks/role';
import { loadDirectorClientSecret } from '@openpks/uaa';
import { defaultOidcSettings } from './adapter/plan.js';
import { Broker } from './broker.js';
import type { OidcSettings } from './adapter/types.js';
import type { ClusterCaSource } from './service/brokerService.js';
import { configServerClusterCa } from './service/clusterCa.js';

/** The broker's Basic-auth user; the password is generated once into the data directory. */
export const BROKER_USERNAME = 'broker';
export const BROKER_PASSWORD_FILE = 'broker/password';
const BROKER_PASSWORD_SECRET = 'broker.password';
/** Where the running broker leaves its URL, for operator tools on this machine (`pks-admin upgrade-all-clusters`). */
export const BROKER_URL_FILE = 'broker/url';

export async function loadBrokerCredentials(
  deps: Pick<RoleDeps, 'sharedSecrets'>,
): Promise<{ username: string; password: string }> {
  // Shared through the database: every broker replica and every API replica, on any machine, agree.
  const password = await deps.sharedSecrets.loadOrCreate(BROKER_PASSWORD_SECRET, () => generatePassword(), {
    file: BROKER_PASSWORD_FILE,
  });
  return { username: BROKER_USERNAME, password };
}

/** The OIDC settings clusters get: UAA as issuer, with pks.yaml's `broker.oidc` claims and prefixes. */
export function oidcSettingsOf(
  uaaUrl: string,
  ca: string | undefined,
  oidc: BrokerSettings['oidc'],
): OidcSettings {
  return {
    ...defaultOidcSettings(uaaUrl, ca),
    username_claim: oidc.usernameClaim,
    username_prefix: oidc.usernamePrefix,
    groups_claim: oidc.groupsClaim,
    groups_prefix: oidc.groupsPrefix,
  };
}

export interface BrokerRoleOptions {
  /**
   * Where kubeconfigs get the cluster CA. Default: the `kubo_ca` certificate from the config server the
   * Director advertises in `/info` (CredHub's read API), with the Director's UAA client.
   */
  clusterCa?: ClusterCaSource;
  /** Upgrade-run driving knobs (tests shorten them). */
  upgrades?: { holder?: string; leaseMs?: number; scanMs?: number };
  /** Operation driving knobs (tests shorten them). */
  operations?: { holder?: string; leaseMs?: number; scanMs?: number };
}

/** The `broker` role of pks-server: the OSB broker driving the Director through DirectorClient. */
export function createBrokerRole(options: BrokerRoleOptions = {}): RoleModule {
  return {
    name: Role.BROKER,
    after: [Role.UAA, Role.DIRECTOR],
    async start(config: PksConfig, deps: RoleDeps): Promise<RunningRole> {
      const uaaUrl = deps.endpoints.url(Role.UAA);
      const issuer = await discoverUaaIssuer(uaaUrl, { ca: deps.tls.caPem });
      const target =
        config.director.type === 'remote'
          ? {
              url: config.director.url,
              ca:
                config.director.caFile !== undefined
                  ? readFileSync(config.director.caFile, 'utf8')
                  : undefined,
              client: { id: config.director.clientId, secret: config.director.clientSecret },
            }
          : {
              url: deps.endpoints.url(Role.DIRECTOR),
              ca: deps.tls.caPem,
              client: {
                id: 'pks_director',
                secret:
                  (await loadDirectorClientSecret(deps)) ??
                  (() => {
                    throw new InternalError(
                      'the pks_director client secret is missing: start the uaa role first',
                    );
                  })(),
              },
            };
      const director = new DirectorClient(target);
      // A bind carries the user's id token: a user whose tokens UAA revoked must not get credentials.
      const revocations = new RevocationList();
      const stopFollowingRevocations = await followRevocations(deps.db, revocations, {
        onError: (error) =>
          deps.logger.warn({ err: error }, 'reading UAA revocations failed; retrying every second'),
      });
      // The config server (CredHub) is found through the Director's /info when first needed, so a remote
      // Director that is down at start-up does not keep the broker from starting.
      let configServer: ConfigServerClient | undefined;
      const clusterCa =
        options.clusterCa ??
        configServerClusterCa(director, async () => {
          configServer ??= await ConfigServerClient.fromDirector(director, {
            ca: target.ca,
            client: target.client,
          });
          return configServer;
        });
      const upgrades = config.broker.upgrades;
      const broker = await startBroker({
        db: deps.db,
        director,
        plans: config.plans,
        oidc: { ...oidcSettingsOf(uaaUrl, deps.tls.caPem, config.broker.oidc), issuer_url: issuer },
        // Bind requests carry the user's id token for pks_cluster_client: it must be UAA's, for that user.
        idTokenVerifier: new UaaTokenVerifier({
          issuer,
          jwksUrl: `${uaaUrl}/token_keys`,
          audience: 'pks_cluster_client',
          ca: deps.tls.caPem,
          revocations,
        }),
        secrets: deps.secrets,
        clusterCa,
        upgrades: {
          ...options.upgrades,
          defaults: {
            canaries: upgrades.canaries,
            maxInFlight: upgrades.maxInFlight,
            attemptLimit: upgrades.attemptLimit,
            attemptIntervalMs: upgrades.attemptIntervalSeconds * 1000,
          },
        },
        ...(options.operations ? { operations: options.operations } : {}),
        credentials: await loadBrokerCredentials(deps),
        tls: await deps.tls.serverCredentials(Role.BROKER),
        host: config.roles.broker.host,
        port: config.roles.broker.port,
        logger: deps.logger,
      });
      async function startBroker(options: Parameters<typeof Broker.start>[0]): Promise<Broker> {
        try {
          return await Broker.start(options);
        } catch (error) {
          await stopFollowingRevocations();
          throw error;
        }
      }
      await deps.dataDir.write(BROKER_URL_FILE, `${broker.url}\n`);
      return {
        url: broker.url,
        banner: {
          broker: `${broker.url} (OSB v2.17, basic auth user ${BROKER_USERNAME}, password in ${deps.dataDir.path(BROKER_PASSWORD_FILE)})`,
        },
        stop: async () => {
          await broker.stop();
          await stopFollowingRevocations();
          director.close();
          configServer?.close();
        },
      };
    },
  };
}

export const brokerRole: RoleModule = createBrokerRole();
