import type { OperationKind, OperationState } from '../operations/operationStore.js';
import type { ClusterSpec } from './spec.js';
import { instanceGroupsOf, runningIn, RUNNING, type ClusterStatus } from './status.js';

// Decisions about a cluster read its conditions, as in Cluster API: each says True, False or Unknown, a
// one-word reason, a sentence for people, and when its status last changed.

export const ConditionType = {
  /** The cluster serves: it exists on the Director and every node runs. */
  READY: 'Ready',
  /** Its create succeeded (and its deployment is on the Director). */
  PROVISIONED: 'Provisioned',
  /** It runs what was last asked of it: spec and status agree. */
  UP_TO_DATE: 'UpToDate',
  /** Every VM of it runs all its processes, as the Director reports them. */
  NODES_HEALTHY: 'NodesHealthy',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionStatus = { TRUE: 'True', FALSE: 'False', UNKNOWN: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  /** CamelCase, for programs. */
  reason: string;
  /** A sentence, for people. */
  message: string;
  /** When `status` last changed (ISO 8601); a new reason or message alone does not move it. */
  lastTransitionTime: string;
}

/** What conditions are derived from: the spec, the observed status, and the latest operation. */
export interface ConditionInputs {
  spec: ClusterSpec;
  generation: number;
  observedGeneration: number;
  /** Null until the Director was first read for the cluster. */
  status: ClusterStatus | null;
  operation?: { kind: OperationKind; state: OperationState; description: string } | undefined;
}

const ORDER: readonly ConditionType[] = [
  ConditionType.READY,
  ConditionType.PROVISIONED,
  ConditionType.UP_TO_DATE,
  ConditionType.NODES_HEALTHY,
];

const VERB: Record<OperationKind, string> = {
  create: 'Create',
  update: 'Update',
  upgrade: 'Upgrade',
  delete: 'Delete',
};

type Judgement = Omit<Condition, 'type' | 'lastTransitionTime'>;

const judged = (status: ConditionStatus, reason: string, message: string): Judgement => ({
  status,
  reason,
  message,
});

/**
 * The cluster's conditions now. `previous` keeps each condition's `lastTransitionTime` while its status
 * stays the same (Kubernetes semantics); a condition whose status changes takes `now`.
 */
export function deriveConditions(
  inputs: ConditionInputs,
  previous: readonly Condition[],
  now: Date = new Date(),
): Condition[] {
  const provisioned = provisionedOf(inputs);
  const nodes = nodesHealthyOf(inputs);
  const judgements: Record<ConditionType, Judgement> = {
    [ConditionType.READY]: readyOf(inputs, provisioned, nodes),
    [ConditionType.PROVISIONED]: provisioned,
    [ConditionType.UP_TO_DATE]: upToDateOf(inputs),
    [ConditionType.NODES_HEALTHY]: nodes,
  };
  return ORDER.map((type) => {
    const before = previous.find((c) => c.type === type);
    const judgement = judgements[type];
    return {
      type,
      ...judgement,
      lastTransitionTime:
        before !== undefined && before.status === judgement.status
          ? before.lastTransitionTime
          : now.toISOString(),
    };
  });
}

function provisionedOf({ operation, status }: ConditionInputs): Judgement {
  if (operation?.kind === 'create' && operation.state === 'in progress') {
    return judged(
      ConditionStatus.FALSE,
      'Provisioning',
      `the cluster is being created: ${operation.description}`,
    );
  }
  if (operation?.kind === 'create' && operation.state === 'failed') {
    return judged(ConditionStatus.FALSE, 'ProvisioningFailed', `the create failed: ${operation.description}`);
  }
  if (status !== null && !status.deployed && operation?.kind !== 'delete') {
    return judged(
      ConditionStatus.FALSE,
      'DeploymentMissing',
      'the BOSH Director has no deployment for this cluster',
    );
  }
  return judged(ConditionStatus.TRUE, 'Provisioned', 'the cluster was created and is deployed');
}

function nodesHealthyOf({ status }: ConditionInputs): Judgement {
  if (status === null) {
    return judged(
      ConditionStatus.UNKNOWN,
      'NotObserved',
      'the cluster’s VMs have not been read from the Director yet',
    );
  }
  if (status.instances.length === 0) {
    return judged(ConditionStatus.UNKNOWN, 'NoInstances', 'the BOSH Director lists no VMs for this cluster');
  }
  const notRunning = status.instances.filter((i) => i.state !== RUNNING);
  if (notRunning.length > 0) {
    return judged(
      ConditionStatus.FALSE,
      'NodesNotRunning',
      `${notRunning.map((i) => `${i.group}/${i.index} ${i.state}`).join(', ')}; ${counts(status)}`,
    );
  }
  return judged(ConditionStatus.TRUE, 'NodesRunning', counts(status));
}

function readyOf(inputs: ConditionInputs, provisioned: Judgement, nodes: Judgement): Judgement {
  const { operation, status } = inputs;
  if (operation?.kind === 'delete' && operation.state === 'in progress') {
    return judged(
      ConditionStatus.FALSE,
      'Deleting',
      `the cluster is being deleted: ${operation.description}`,
    );
  }
  if (provisioned.status !== ConditionStatus.TRUE) return { ...provisioned };
  if (nodes.status !== ConditionStatus.TRUE) return { ...nodes };
  if (status !== null && runningIn(status, 'master') === 0) {
    return judged(ConditionStatus.FALSE, 'NoMaster', 'no Kubernetes master runs');
  }
  return judged(ConditionStatus.TRUE, 'Ready', `the Kubernetes API and every node run: ${nodes.message}`);
}

function upToDateOf({ spec, generation, observedGeneration, status, operation }: ConditionInputs): Judgement {
  const differences = status === null ? [] : differencesOf(spec, status);
  const words = differences.map((d) => d.message).join('; ');
  const detail = differences.length > 0 ? `; ${words}` : '';
  if (operation !== undefined && operation.state === 'in progress') {
    return judged(
      ConditionStatus.FALSE,
      `${VERB[operation.kind]}InProgress`,
      `${operation.description}${detail}`,
    );
  }
  if (operation !== undefined && operation.state === 'failed') {
    return judged(
      ConditionStatus.FALSE,
      `${VERB[operation.kind]}Failed`,
      `${operation.description}${detail}`,
    );
  }
  if (status === null) {
    return judged(
      ConditionStatus.UNKNOWN,
      'NotObserved',
      'the cluster has not been read from the Director yet',
    );
  }
  if (differences[0] !== undefined) return judged(ConditionStatus.FALSE, differences[0].reason, words);
  if (observedGeneration < generation) {
    return judged(
      ConditionStatus.FALSE,
      'ChangeNotApplied',
      `change ${generation} has not been applied (the last applied is ${observedGeneration})`,
    );
  }
  return judged(
    ConditionStatus.TRUE,
    'UpToDate',
    `runs what was asked: ${spec.workerInstances} ${plural(spec.workerInstances, 'worker')}, PKS ${spec.pksVersion}` +
      (spec.kubernetesVersion === null ? '' : `, Kubernetes ${spec.kubernetesVersion}`),
  );
}

/** How the observed cluster differs from its spec (workers first, then versions). */
export function differencesOf(
  spec: ClusterSpec,
  status: ClusterStatus,
): { reason: 'WorkersDiffer' | 'VersionsDiffer'; message: string }[] {
  const out: { reason: 'WorkersDiffer' | 'VersionsDiffer'; message: string }[] = [];
  const running = runningIn(status, 'worker');
  if (running !== spec.workerInstances) {
    out.push({
      reason: 'WorkersDiffer',
      message: `wants ${spec.workerInstances} ${plural(spec.workerInstances, 'worker')}, ${running} running`,
    });
  }
  if (status.deployed && status.pksVersion !== spec.pksVersion) {
    const runs = status.releases.map((r) => `${r.name} ${r.version}`).join(', ');
    out.push({
      reason: 'VersionsDiffer',
      message:
        `wants PKS ${spec.pksVersion}, runs ` +
        (status.pksVersion === null
          ? `releases this PKS does not ship (${runs})`
          : `PKS ${status.pksVersion}`),
    });
  }
  return out;
}

function counts(status: ClusterStatus): string {
  return instanceGroupsOf(status)
    .map((g) => `${g.running} of ${g.instances} ${plural(g.instances, g.name)} running`)
    .join(', ');
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
