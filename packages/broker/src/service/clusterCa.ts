import { configServerName, type ConfigServerClient, type DirectorClient } from '@openpks/bosh';
import type { ClusterCaSource } from './brokerService.js';

/** The variable of a kubo deployment that holds the cluster CA (kubeconfigs trust it). */
export const CLUSTER_CA_VARIABLE = 'kubo_ca';

/**
 * The cluster CA as ODB reads it: the certificate of the deployment's `kubo_ca` variable from the
 * Director's config server (CredHub), at `/<director name>/<deployment>/kubo_ca`. The config server client
 * may be made lazily (a remote Director may not be reachable when the broker starts).
 */
export function configServerClusterCa(
  director: DirectorClient,
  configServer: ConfigServerClient | (() => Promise<ConfigServerClient>),
): ClusterCaSource {
  let client: Promise<ConfigServerClient> | undefined;
  const clientOf = (): Promise<ConfigServerClient> => {
    if (typeof configServer !== 'function') return Promise.resolve(configServer);
    const pending = (client ??= configServer());
    pending.catch(() => {
      client = undefined;
    });
    return pending;
  };
  return {
    async clusterCa(deployment) {
      const [{ name }, server] = await Promise.all([director.info(), clientOf()]);
      const certificate = await server.certificate(configServerName(name, deployment, CLUSTER_CA_VARIABLE));
      return certificate?.certificate;
    },
  };
}
