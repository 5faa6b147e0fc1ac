import { parseManifest, type DirectorClient } from '@openpks/bosh';
import { deploymentNameOf } from '@openpks/broker';
import { NotFoundError } from '@openpks/domain';
import { versionsOfReleases, type Release } from './versions.js';

/** One instance of the cluster's deployment as the Director reported it. */
export interface InstanceStatus {
  group: string;
  index: number;
  id: string;
  /** The Director's process_state (running, failing, stopped), or `no vm` while the instance has none. */
  state: string;
  ips: string[];
}

/** The process state an instance is in when everything on it runs. */
export const RUNNING = 'running';
/** What an instance without a VM (being created, or whose creation failed) is reported as. */
export const NO_VM = 'no vm';

/**
 * What was last observed of a cluster on the BOSH Director: its instances and their state, and the
 * releases its deployment runs (with the PKS and Kubernetes versions they stand for).
 */
export interface ClusterStatus {
  /** When the Director was read. */
  observedAt: string;
  /** Whether the Director has the deployment's manifest (a first deploy that failed has none). */
  deployed: boolean;
  instances: InstanceStatus[];
  /** The releases of the deployed manifest (the last deploy that succeeded). */
  releases: Release[];
  pksVersion: string | null;
  kubernetesVersion: string | null;
}

/** Per instance group: how many instances it has and how many of them run. */
export function instanceGroupsOf(
  status: ClusterStatus,
): { name: string; instances: number; running: number }[] {
  const groups = new Map<string, { name: string; instances: number; running: number }>();
  for (const instance of status.instances) {
    const group = groups.get(instance.group) ?? { name: instance.group, instances: 0, running: 0 };
    group.instances += 1;
    if (instance.state === RUNNING) group.running += 1;
    groups.set(instance.group, group);
  }
  return [...groups.values()].sort((a, b) => groupOrder(a.name) - groupOrder(b.name));
}

export function runningIn(status: ClusterStatus, group: string): number {
  return status.instances.filter((i) => i.group === group && i.state === RUNNING).length;
}

export function masterIpsOf(status: ClusterStatus): string[] {
  return status.instances.filter((i) => i.group === 'master').flatMap((i) => i.ips);
}

/**
 * Reads a cluster's status from the Director: the full instance listing (`bosh instances --details`, the
 * only one with process states) and the deployed manifest (its releases), at once. A deployment the
 * Director does not have is observed as such, not as an error.
 */
export async function observeCluster(director: DirectorClient, uuid: string): Promise<ClusterStatus> {
  const deployment = deploymentNameOf(uuid);
  const [manifest, lines] = await Promise.all([
    director.manifest(deployment),
    director.instancesFull(deployment).catch((error: unknown) => {
      if (error instanceof NotFoundError) return [];
      throw error;
    }),
  ]);
  const releases = manifest === undefined ? [] : parseManifest(manifest).releases;
  return {
    observedAt: new Date().toISOString(),
    deployed: manifest !== undefined,
    instances: lines
      .map(instanceOf)
      .filter((i): i is InstanceStatus => i !== undefined)
      .sort((a, b) => groupOrder(a.group) - groupOrder(b.group) || a.index - b.index),
    releases: releases.map((r) => ({ name: r.name, version: String(r.version) })),
    ...versionsOfReleases(releases),
  };
}

/** One line of the full listing; errand instances (no VM outside an errand run) are left out. */
function instanceOf(line: Record<string, unknown>): InstanceStatus | undefined {
  if (line.expects_vm === false) return undefined;
  const group = typeof line.job_name === 'string' ? line.job_name : undefined;
  const id = typeof line.id === 'string' ? line.id : undefined;
  if (group === undefined || id === undefined || typeof line.index !== 'number') return undefined;
  const hasVm = typeof line.vm_cid === 'string' && line.vm_cid !== '';
  const state =
    typeof line.process_state === 'string' && line.process_state !== '' ? line.process_state : null;
  return {
    group,
    index: line.index,
    id,
    state: hasVm ? (state ?? 'unknown') : NO_VM,
    ips: Array.isArray(line.ips) ? line.ips.filter((ip): ip is string => typeof ip === 'string') : [],
  };
}

/** Masters before workers (how `pks cluster` and the console list them), then any other group. */
export function groupOrder(group: string): number {
  return group === 'master' ? 0 : group === 'worker' ? 1 : 2;
}
