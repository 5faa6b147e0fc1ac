/**
 * ODB's naming: the BOSH deployment of service instance `<id>` is `service-instance_<id>`. The broker
 * names deployments this way and the API finds a cluster's VMs and tasks by it; both read it here.
 */
export const DEPLOYMENT_PREFIX = 'service-instance_';

export function deploymentNameOf(instanceId: string): string {
  return `${DEPLOYMENT_PREFIX}${instanceId}`;
}

/** The service instance a deployment belongs to, or undefined for a deployment that is not ODB's. */
export function instanceIdOf(deployment: string): string | undefined {
  if (!deployment.startsWith(DEPLOYMENT_PREFIX)) return undefined;
  const id = deployment.slice(DEPLOYMENT_PREFIX.length);
  return id === '' ? undefined : id;
}
