import type { DirectorClient } from '@openpks/bosh';
import { deploymentNameOf } from '@openpks/broker';
import { InternalError, NotFoundError } from '@openpks/domain';
import type { ClusterNode } from './types.js';

/**
 * The VMs of clusters as the Director reports them, read-only. `process_state` and `vm_type` exist only in
 * the Director's full instance listing (`bosh instances --details`, a short `vms` task), not in the plain
 * `/instances` one, so that is what is read: one task per deployment per request, never cached, so a
 * console refresh shows what the Director sees now.
 *
 * Per cluster uuid the answer is its nodes, or an InternalError when the Director failed for that
 * deployment (so only that cluster's `nodes` field errors, not the whole query).
 */
export async function clusterNodesOf(
  director: DirectorClient | undefined,
  uuids: readonly string[],
): Promise<(ClusterNode[] | InternalError)[]> {
  // No Director configured (an API deployed without read access to it): nothing to report, not an error.
  if (director === undefined) return uuids.map(() => []);
  return Promise.all(uuids.map((uuid) => nodesOfDeployment(director, uuid)));
}

async function nodesOfDeployment(
  director: DirectorClient,
  uuid: string,
): Promise<ClusterNode[] | InternalError> {
  const deployment = deploymentNameOf(uuid);
  try {
    const instances = await director.instancesFull(deployment);
    return instances
      .map(nodeOf)
      .filter((node): node is ClusterNode => node !== undefined)
      .sort((a, b) => groupOrder(a.instanceGroup) - groupOrder(b.instanceGroup) || a.index - b.index);
  } catch (error) {
    // A deleted cluster, or a create that failed before the Director had the deployment: no VMs.
    if (error instanceof NotFoundError) return [];
    return new InternalError(`listing the VMs of deployment ${deployment} on the BOSH Director failed`, {
      cause: error,
      // The formatted error hides an INTERNAL message (it may carry Director internals); this says what
      // failed in words a console can show, without them.
      details: { reason: 'the BOSH Director could not list this cluster’s VMs; try again later' },
    });
  }
}

/** One line of the full listing; errand instances (no VM expected outside an errand run) are left out. */
function nodeOf(line: Record<string, unknown>): ClusterNode | undefined {
  if (line.expects_vm === false) return undefined;
  const instanceGroup = stringOf(line.job_name);
  const id = stringOf(line.id);
  if (instanceGroup === null || id === null || typeof line.index !== 'number') return undefined;
  return {
    instanceGroup,
    index: line.index,
    id,
    ips: Array.isArray(line.ips) ? line.ips.filter((ip): ip is string => typeof ip === 'string') : [],
    // The Director reports no process_state for an instance whose VM is missing (being created, deleted).
    state: stringOf(line.process_state) ?? 'unknown',
    vmType: stringOf(line.vm_type),
    az: stringOf(line.az),
  };
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Masters before workers (how `pks cluster` and the console list them), then any other group. */
function groupOrder(group: string): number {
  return group === 'master' ? 0 : group === 'worker' ? 1 : 2;
}
