import type { Queryable } from '@openpks/db';
import { invariant } from '@openpks/domain';
import { operationStore, type OperationRecord } from '../operations/operationStore.js';
import { clusterStore, specOf, type ClusterRecord } from '../store/clusterStore.js';
import { deriveConditions } from './conditions.js';
import { lastActionOf } from './lastAction.js';
import type { ClusterSpec } from './spec.js';
import { masterIpsOf, type ClusterStatus } from './status.js';

/** What the PKS fields show for a PKS version the running releases do not tell. */
export const UNKNOWN_VERSION = 'unknown';

export interface ClusterStateChange {
  /** A new spec, at this generation. */
  spec?: { spec: ClusterSpec; generation: number };
  /** What was just observed on the Director. */
  status?: ClusterStatus;
  /** The generation an operation that just succeeded applied. */
  applied?: number;
  /**
   * The cluster's latest operation, when the caller has it (read otherwise). With `lastAction`, PKS's last
   * action is set from it: only the operation owner does that.
   */
  operation?: OperationRecord;
  lastAction?: boolean;
  deleted?: boolean;
}

/**
 * Writes a change to a cluster's spec, status or last action, and the conditions that follow from the
 * result, in `tx` (the cluster row is locked first, so concurrent writers serialise). Returns the cluster
 * as written.
 */
export async function updateClusterState(
  tx: Queryable,
  uuid: string,
  change: ClusterStateChange,
): Promise<ClusterRecord> {
  const cluster = await clusterStore.byUuid(tx, uuid, true);
  invariant(cluster !== undefined, `cluster ${uuid} is recorded`);
  const operation = change.operation ?? (await operationStore.latestFor(tx, uuid));
  const spec = change.spec?.spec ?? specOf(cluster);
  const generation = change.spec?.generation ?? cluster.generation;
  const observedGeneration = Math.max(cluster.observedGeneration, change.applied ?? 0);
  const status = change.status ?? cluster.status;
  const conditions = deriveConditions(
    { spec, generation, observedGeneration, status, operation },
    cluster.conditions,
  );
  const patch: Parameters<typeof clusterStore.update>[2] = { conditions };
  if (change.spec !== undefined) {
    Object.assign(patch, {
      workerInstances: spec.workerInstances,
      networkProfileName: spec.networkProfileName,
      drain: spec.drain,
      wantedPksVersion: spec.pksVersion,
      wantedK8sVersion: spec.kubernetesVersion,
      generation,
    });
  }
  if (change.status !== undefined) Object.assign(patch, statusMirror(change.status));
  if (change.lastAction && operation !== undefined) Object.assign(patch, lastActionOf(operation));
  if (change.deleted) patch.deletedAt = new Date();
  await clusterStore.update(tx, uuid, patch);
  if (change.applied !== undefined) await clusterStore.applied(tx, uuid, change.applied);
  return { ...cluster, ...patch, observedGeneration };
}

/**
 * PKS's fields as the status shows them: the master IPs, and the versions once the Director has the
 * deployment (a failed first deploy leaves the versions being deployed).
 */
function statusMirror(
  status: ClusterStatus,
): Pick<ClusterRecord, 'status' | 'masterIps'> & Partial<Pick<ClusterRecord, 'pksVersion' | 'k8sVersion'>> {
  return {
    status,
    masterIps: masterIpsOf(status),
    ...(status.deployed
      ? { pksVersion: status.pksVersion ?? UNKNOWN_VERSION, k8sVersion: status.kubernetesVersion }
      : {}),
  };
}
