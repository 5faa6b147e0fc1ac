/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> =
  T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** What a fleet-feed message says happened */
export type ClusterFeedEventType =
  /** A cluster appeared: its create was requested, or it exists as the feed (re)starts */
  | 'ADDED'
  /** A cluster was deleted: remove it */
  | 'DELETED'
  /** A cluster changed state, or its Director task made progress */
  | 'MODIFIED'
  /** The resume point is too old or unknown: drop every cluster you hold; the full list follows */
  | 'RESYNC'
  /** Everything up to here has been sent: your view of the fleet is complete */
  | 'SYNCED'
  /** An upgrade run started or advanced: `task` holds it as it is now (every run you may see is also sent before SYNCED) */
  | 'TASK';

/** A new cluster: its name, plan and Kubernetes API hostname */
export type CreateClusterInput = {
  /** DNS name or IPv4 address of the Kubernetes API */
  externalHostname: string;
  /** A DNS label: lowercase letters, digits and hyphens, at most 40 */
  name: string;
  /** A network profile to apply (NSX-T installations) */
  networkProfileName?: string | null | undefined;
  /** Workers; default: the plan’s */
  numNodes?: number | null | undefined;
  /** One of the plans */
  planName: string;
};

/** A new NSX-T network profile */
export type NetworkProfileInput = {
  /** What the profile is for */
  description?: string | null | undefined;
  /** The profile’s name */
  name: string;
  /** The NSX-T parameters (lb_size, nodes_dns, …) */
  parameters: Record<string, unknown>;
};

/** Limits. setQuota and createQuota: at least one, an absent or null field is no limit. updateQuota: the fields to change, null removing that limit (at least one must remain) */
export type QuotaLimitInput = {
  /** Clusters, at least 1 */
  cluster?: number | null | undefined;
  /** CPUs, 0 or more */
  cpu?: number | null | undefined;
  /** Memory in GB, 0 or more */
  memory?: number | null | undefined;
};

/** An upgrade run: which clusters, which of them first, how many at once */
export type UpgradeClustersInput = {
  /** Of those, the ones to upgrade first, one at a time */
  canaries?: Array<string> | null | undefined;
  /** The clusters to upgrade */
  clusters: Array<string>;
  /** How many clusters to upgrade at once after the canaries (1-100) */
  maxInFlight?: number | null | undefined;
};

export type ConsoleClusterFragment = {
  uuid: string;
  name: string;
  planName: string;
  owner: string;
  lastAction: string;
  lastActionState: string;
  lastActionDescription: string;
  kubernetesMasterHost: string;
  kubernetesMasterPort: number;
  kubernetesMasterIps: Array<string>;
  workerInstances: number;
  k8sVersion: string | null;
  pksVersion: string;
  networkProfileName: string | null;
  createdAt: string;
  updatedAt: string;
};

export type ConsoleClusterEventFragment = {
  at: string;
  clusterName: string;
  clusterUuid: string;
  kind: string;
  lastAction: string;
  lastActionState: string;
  description: string;
  stage: string | null;
  task: string | null;
  index: number | null;
  total: number | null;
  progress: number | null;
};

export type ConsolePlanFragment = {
  id: string;
  name: string;
  description: string;
  masterInstances: number;
  masterVmType: string;
  masterCpu: number;
  masterMemory: number;
  workerInstances: number;
  maxWorkerInstances: number;
  workerVmType: string;
  workerCpu: number;
  workerMemory: number;
  azs: Array<string>;
  allowPrivilegedContainers: boolean;
  drain: {
    kubeletDrainTimeout: number;
    kubeletDrainGracePeriod: number;
    kubeletDrainForce: boolean;
    kubeletDrainIgnoreDaemonsets: boolean;
    kubeletDrainDeleteLocalData: boolean;
    kubeletDrainForceNode: boolean;
  };
};

export type ConsoleTaskFragment = {
  id: string;
  type: string;
  status: string;
  maxInFlight: number;
  createdAt: string;
  finishedAt: string | null;
  clusters: Array<{
    clusterName: string;
    isCanary: boolean;
    lastActionState: string;
    description: string;
    startedAt: string | null;
    finishedAt: string | null;
  }>;
};

export type ConsoleMeQueryVariables = Exact<{ [key: string]: never }>;

export type ConsoleMeQuery = {
  me: {
    name: string;
    clientId: string;
    scopes: Array<string>;
    readsAllClusters: boolean;
    changesAllClusters: boolean;
  };
};

export type ConsoleClustersQueryVariables = Exact<{ [key: string]: never }>;

export type ConsoleClustersQuery = {
  clusters: Array<{
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
  }>;
};

export type ConsoleClusterQueryVariables = Exact<{
  name: string;
}>;

export type ConsoleClusterQuery = {
  cluster: {
    drain: Record<string, unknown> | null;
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
    nsxDetails: {
      nodeSubnet: string | null;
      nodeSubnetPrefix: number | null;
      tier1RouterId: string | null;
      t0RouterId: string | null;
      lbServiceId: string | null;
      lbSize: string | null;
      floatingIps: Array<string> | null;
      nodeRoutable: boolean | null;
      podRoutable: boolean | null;
      podSubnetPrefix: number | null;
      nodesDns: Array<string> | null;
    } | null;
    nodes: Array<{
      instanceGroup: string;
      index: number;
      id: string;
      ips: Array<string>;
      state: string;
      vmType: string | null;
      az: string | null;
    }> | null;
    events: Array<{
      at: string;
      clusterName: string;
      clusterUuid: string;
      kind: string;
      lastAction: string;
      lastActionState: string;
      description: string;
      stage: string | null;
      task: string | null;
      index: number | null;
      total: number | null;
      progress: number | null;
    }>;
  };
};

export type ConsolePlansQueryVariables = Exact<{ [key: string]: never }>;

export type ConsolePlansQuery = {
  plans: Array<{
    id: string;
    name: string;
    description: string;
    masterInstances: number;
    masterVmType: string;
    masterCpu: number;
    masterMemory: number;
    workerInstances: number;
    maxWorkerInstances: number;
    workerVmType: string;
    workerCpu: number;
    workerMemory: number;
    azs: Array<string>;
    allowPrivilegedContainers: boolean;
    drain: {
      kubeletDrainTimeout: number;
      kubeletDrainGracePeriod: number;
      kubeletDrainForce: boolean;
      kubeletDrainIgnoreDaemonsets: boolean;
      kubeletDrainDeleteLocalData: boolean;
      kubeletDrainForceNode: boolean;
    };
  }>;
};

export type ConsoleNetworkProfilesQueryVariables = Exact<{ [key: string]: never }>;

export type ConsoleNetworkProfilesQuery = {
  networkProfiles: Array<{ name: string; description: string; createdAt: string }>;
};

export type ConsoleNetworkProfileQueryVariables = Exact<{
  name: string;
}>;

export type ConsoleNetworkProfileQuery = {
  networkProfile: {
    name: string;
    description: string;
    createdAt: string;
    parameters: Record<string, unknown>;
  };
};

export type ConsoleAuditEventsQueryVariables = Exact<{
  limit: number;
}>;

export type ConsoleAuditEventsQuery = {
  auditEvents: Array<{
    id: string;
    at: string;
    actor: string;
    clientId: string;
    action: string;
    target: string | null;
    outcome: string;
    errorCode: string | null;
    message: string | null;
    parameters: Record<string, unknown>;
  }>;
};

export type ConsoleTaskQueryVariables = Exact<{
  id: string | number;
}>;

export type ConsoleTaskQuery = {
  task: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      isCanary: boolean;
      lastActionState: string;
      description: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type ConsoleCreateClusterMutationVariables = Exact<{
  input: CreateClusterInput;
}>;

export type ConsoleCreateClusterMutation = {
  createCluster: {
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
  };
};

export type ConsoleResizeClusterMutationVariables = Exact<{
  name: string;
  numNodes: number;
}>;

export type ConsoleResizeClusterMutation = {
  resizeCluster: {
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
  };
};

export type ConsoleUpgradeClusterMutationVariables = Exact<{
  name: string;
}>;

export type ConsoleUpgradeClusterMutation = {
  upgradeCluster: {
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
  };
};

export type ConsoleDeleteClusterMutationVariables = Exact<{
  name: string;
}>;

export type ConsoleDeleteClusterMutation = {
  deleteCluster: {
    uuid: string;
    name: string;
    planName: string;
    owner: string;
    lastAction: string;
    lastActionState: string;
    lastActionDescription: string;
    kubernetesMasterHost: string;
    kubernetesMasterPort: number;
    kubernetesMasterIps: Array<string>;
    workerInstances: number;
    k8sVersion: string | null;
    pksVersion: string;
    networkProfileName: string | null;
    createdAt: string;
    updatedAt: string;
  };
};

export type ConsoleClusterCredentialsMutationVariables = Exact<{
  name: string;
  password: string;
}>;

export type ConsoleClusterCredentialsMutation = {
  clusterCredentials: {
    clusterName: string;
    contextName: string;
    userName: string;
    server: string;
    kubeconfig: string;
  };
};

export type ConsoleCreateNetworkProfileMutationVariables = Exact<{
  input: NetworkProfileInput;
}>;

export type ConsoleCreateNetworkProfileMutation = {
  createNetworkProfile: { name: string; description: string; createdAt: string };
};

export type ConsoleDeleteNetworkProfileMutationVariables = Exact<{
  name: string;
}>;

export type ConsoleDeleteNetworkProfileMutation = { deleteNetworkProfile: { name: string } };

export type ConsoleUpgradeClustersMutationVariables = Exact<{
  input: UpgradeClustersInput;
}>;

export type ConsoleUpgradeClustersMutation = {
  upgradeClusters: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      isCanary: boolean;
      lastActionState: string;
      description: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type ConsoleClusterFeedSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;

export type ConsoleClusterFeedSubscription = {
  clusterFeed: {
    type: ClusterFeedEventType;
    cursor: string;
    clusterName: string | null;
    clusterUuid: string | null;
    cluster: {
      uuid: string;
      name: string;
      planName: string;
      owner: string;
      lastAction: string;
      lastActionState: string;
      lastActionDescription: string;
      kubernetesMasterHost: string;
      kubernetesMasterPort: number;
      kubernetesMasterIps: Array<string>;
      workerInstances: number;
      k8sVersion: string | null;
      pksVersion: string;
      networkProfileName: string | null;
      createdAt: string;
      updatedAt: string;
    } | null;
    event: {
      at: string;
      clusterName: string;
      clusterUuid: string;
      kind: string;
      lastAction: string;
      lastActionState: string;
      description: string;
      stage: string | null;
      task: string | null;
      index: number | null;
      total: number | null;
      progress: number | null;
    } | null;
    task: {
      id: string;
      type: string;
      status: string;
      maxInFlight: number;
      createdAt: string;
      finishedAt: string | null;
      clusters: Array<{
        clusterName: string;
        isCanary: boolean;
        lastActionState: string;
        description: string;
        startedAt: string | null;
        finishedAt: string | null;
      }>;
    } | null;
  };
};

export type ConsoleQuotasQueryVariables = Exact<{ [key: string]: never }>;

export type ConsoleQuotasQuery = {
  quotas: Array<{
    owner: string;
    limit: { cluster: number | null; cpu: number | null; memory: number | null };
  }>;
  usages: Array<{ owner: string; totals: { cluster: number; cpu: number; memory: number } }>;
};

export type ConsoleSetQuotaMutationVariables = Exact<{
  owner: string;
  limit: QuotaLimitInput;
}>;

export type ConsoleSetQuotaMutation = {
  setQuota: { owner: string; limit: { cluster: number | null; cpu: number | null; memory: number | null } };
};

export type ConsoleDeleteQuotaMutationVariables = Exact<{
  owner: string;
}>;

export type ConsoleDeleteQuotaMutation = { deleteQuota: { owner: string } };

export type ConsoleUsageQueryVariables = Exact<{ [key: string]: never }>;

export type ConsoleUsageQuery = {
  usage: {
    owner: string;
    totals: { cluster: number; cpu: number; memory: number };
    limit: { cluster: number | null; cpu: number | null; memory: number | null } | null;
  };
};

export const ConsoleClusterFragmentDoc = {
  kind: 'Document',
  definitions: [
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClusterFragment, unknown>;
export const ConsoleClusterEventFragmentDoc = {
  kind: 'Document',
  definitions: [
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleClusterEvent' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'ClusterEvent' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'at' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterUuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kind' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'description' } },
          { kind: 'Field', name: { kind: 'Name', value: 'stage' } },
          { kind: 'Field', name: { kind: 'Name', value: 'task' } },
          { kind: 'Field', name: { kind: 'Name', value: 'index' } },
          { kind: 'Field', name: { kind: 'Name', value: 'total' } },
          { kind: 'Field', name: { kind: 'Name', value: 'progress' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClusterEventFragment, unknown>;
export const ConsolePlanFragmentDoc = {
  kind: 'Document',
  definitions: [
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsolePlan' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Plan' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'description' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterVmType' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterCpu' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterMemory' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxWorkerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerVmType' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerCpu' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerMemory' } },
          { kind: 'Field', name: { kind: 'Name', value: 'azs' } },
          { kind: 'Field', name: { kind: 'Name', value: 'allowPrivilegedContainers' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'drain' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainTimeout' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainGracePeriod' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainForce' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainIgnoreDaemonsets' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainDeleteLocalData' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainForceNode' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsolePlanFragment, unknown>;
export const ConsoleTaskFragmentDoc = {
  kind: 'Document',
  definitions: [
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleTask' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Task' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'type' } },
          { kind: 'Field', name: { kind: 'Name', value: 'status' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxInFlight' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusters' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'isCanary' } },
                { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'startedAt' } },
                { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleTaskFragment, unknown>;
export const ConsoleMeDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleMe' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'me' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'name' } },
                { kind: 'Field', name: { kind: 'Name', value: 'clientId' } },
                { kind: 'Field', name: { kind: 'Name', value: 'scopes' } },
                { kind: 'Field', name: { kind: 'Name', value: 'readsAllClusters' } },
                { kind: 'Field', name: { kind: 'Name', value: 'changesAllClusters' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleMeQuery, ConsoleMeQueryVariables>;
export const ConsoleClustersDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleClusters' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusters' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClustersQuery, ConsoleClustersQueryVariables>;
export const ConsoleClusterDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'cluster' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } },
                { kind: 'Field', name: { kind: 'Name', value: 'drain' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'nsxDetails' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'nodeSubnet' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'nodeSubnetPrefix' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'tier1RouterId' } },
                      { kind: 'Field', name: { kind: 'Name', value: 't0RouterId' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'lbServiceId' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'lbSize' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'floatingIps' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'nodeRoutable' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'podRoutable' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'podSubnetPrefix' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'nodesDns' } },
                    ],
                  },
                },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'nodes' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'instanceGroup' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'index' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'id' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'ips' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'state' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'vmType' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'az' } },
                    ],
                  },
                },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'events' },
                  arguments: [
                    {
                      kind: 'Argument',
                      name: { kind: 'Name', value: 'limit' },
                      value: { kind: 'IntValue', value: '200' },
                    },
                  ],
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleClusterEvent' } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleClusterEvent' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'ClusterEvent' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'at' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterUuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kind' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'description' } },
          { kind: 'Field', name: { kind: 'Name', value: 'stage' } },
          { kind: 'Field', name: { kind: 'Name', value: 'task' } },
          { kind: 'Field', name: { kind: 'Name', value: 'index' } },
          { kind: 'Field', name: { kind: 'Name', value: 'total' } },
          { kind: 'Field', name: { kind: 'Name', value: 'progress' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClusterQuery, ConsoleClusterQueryVariables>;
export const ConsolePlansDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsolePlans' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'plans' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsolePlan' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsolePlan' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Plan' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'description' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterVmType' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterCpu' } },
          { kind: 'Field', name: { kind: 'Name', value: 'masterMemory' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxWorkerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerVmType' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerCpu' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerMemory' } },
          { kind: 'Field', name: { kind: 'Name', value: 'azs' } },
          { kind: 'Field', name: { kind: 'Name', value: 'allowPrivilegedContainers' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'drain' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainTimeout' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainGracePeriod' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainForce' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainIgnoreDaemonsets' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainDeleteLocalData' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeletDrainForceNode' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsolePlansQuery, ConsolePlansQueryVariables>;
export const ConsoleNetworkProfilesDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleNetworkProfiles' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'networkProfiles' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'name' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleNetworkProfilesQuery, ConsoleNetworkProfilesQueryVariables>;
export const ConsoleNetworkProfileDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleNetworkProfile' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'networkProfile' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'name' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
                { kind: 'Field', name: { kind: 'Name', value: 'parameters' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleNetworkProfileQuery, ConsoleNetworkProfileQueryVariables>;
export const ConsoleAuditEventsDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleAuditEvents' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'limit' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'Int' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'auditEvents' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'limit' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'limit' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'id' } },
                { kind: 'Field', name: { kind: 'Name', value: 'at' } },
                { kind: 'Field', name: { kind: 'Name', value: 'actor' } },
                { kind: 'Field', name: { kind: 'Name', value: 'clientId' } },
                { kind: 'Field', name: { kind: 'Name', value: 'action' } },
                { kind: 'Field', name: { kind: 'Name', value: 'target' } },
                { kind: 'Field', name: { kind: 'Name', value: 'outcome' } },
                { kind: 'Field', name: { kind: 'Name', value: 'errorCode' } },
                { kind: 'Field', name: { kind: 'Name', value: 'message' } },
                { kind: 'Field', name: { kind: 'Name', value: 'parameters' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleAuditEventsQuery, ConsoleAuditEventsQueryVariables>;
export const ConsoleTaskDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleTask' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'id' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'ID' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'task' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'id' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'id' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleTask' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleTask' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Task' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'type' } },
          { kind: 'Field', name: { kind: 'Name', value: 'status' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxInFlight' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusters' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'isCanary' } },
                { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'startedAt' } },
                { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleTaskQuery, ConsoleTaskQueryVariables>;
export const ConsoleCreateClusterDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleCreateCluster' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
          type: {
            kind: 'NonNullType',
            type: { kind: 'NamedType', name: { kind: 'Name', value: 'CreateClusterInput' } },
          },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'createCluster' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'input' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleCreateClusterMutation, ConsoleCreateClusterMutationVariables>;
export const ConsoleResizeClusterDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleResizeCluster' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'numNodes' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'Int' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'resizeCluster' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'numNodes' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'numNodes' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleResizeClusterMutation, ConsoleResizeClusterMutationVariables>;
export const ConsoleUpgradeClusterDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleUpgradeCluster' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'upgradeCluster' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleUpgradeClusterMutation, ConsoleUpgradeClusterMutationVariables>;
export const ConsoleDeleteClusterDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleDeleteCluster' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'deleteCluster' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleDeleteClusterMutation, ConsoleDeleteClusterMutationVariables>;
export const ConsoleClusterCredentialsDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleClusterCredentials' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'password' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusterCredentials' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'password' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'password' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'contextName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'userName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'server' } },
                { kind: 'Field', name: { kind: 'Name', value: 'kubeconfig' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClusterCredentialsMutation, ConsoleClusterCredentialsMutationVariables>;
export const ConsoleCreateNetworkProfileDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleCreateNetworkProfile' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
          type: {
            kind: 'NonNullType',
            type: { kind: 'NamedType', name: { kind: 'Name', value: 'NetworkProfileInput' } },
          },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'createNetworkProfile' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'input' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'name' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<
  ConsoleCreateNetworkProfileMutation,
  ConsoleCreateNetworkProfileMutationVariables
>;
export const ConsoleDeleteNetworkProfileDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleDeleteNetworkProfile' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'deleteNetworkProfile' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'name' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'name' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'Field', name: { kind: 'Name', value: 'name' } }],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<
  ConsoleDeleteNetworkProfileMutation,
  ConsoleDeleteNetworkProfileMutationVariables
>;
export const ConsoleUpgradeClustersDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleUpgradeClusters' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
          type: {
            kind: 'NonNullType',
            type: { kind: 'NamedType', name: { kind: 'Name', value: 'UpgradeClustersInput' } },
          },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'upgradeClusters' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'input' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'input' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleTask' } }],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleTask' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Task' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'type' } },
          { kind: 'Field', name: { kind: 'Name', value: 'status' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxInFlight' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusters' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'isCanary' } },
                { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'startedAt' } },
                { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleUpgradeClustersMutation, ConsoleUpgradeClustersMutationVariables>;
export const ConsoleClusterFeedDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'subscription',
      name: { kind: 'Name', value: 'ConsoleClusterFeed' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'after' } },
          type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusterFeed' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'after' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'after' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'type' } },
                { kind: 'Field', name: { kind: 'Name', value: 'cursor' } },
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'clusterUuid' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'cluster' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleCluster' } }],
                  },
                },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'event' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleClusterEvent' } },
                    ],
                  },
                },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'task' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [{ kind: 'FragmentSpread', name: { kind: 'Name', value: 'ConsoleTask' } }],
                  },
                },
              ],
            },
          },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleCluster' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Cluster' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'uuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'name' } },
          { kind: 'Field', name: { kind: 'Name', value: 'planName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionDescription' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterHost' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterPort' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kubernetesMasterIps' } },
          { kind: 'Field', name: { kind: 'Name', value: 'workerInstances' } },
          { kind: 'Field', name: { kind: 'Name', value: 'k8sVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'pksVersion' } },
          { kind: 'Field', name: { kind: 'Name', value: 'networkProfileName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'updatedAt' } },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleClusterEvent' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'ClusterEvent' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'at' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
          { kind: 'Field', name: { kind: 'Name', value: 'clusterUuid' } },
          { kind: 'Field', name: { kind: 'Name', value: 'kind' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastAction' } },
          { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
          { kind: 'Field', name: { kind: 'Name', value: 'description' } },
          { kind: 'Field', name: { kind: 'Name', value: 'stage' } },
          { kind: 'Field', name: { kind: 'Name', value: 'task' } },
          { kind: 'Field', name: { kind: 'Name', value: 'index' } },
          { kind: 'Field', name: { kind: 'Name', value: 'total' } },
          { kind: 'Field', name: { kind: 'Name', value: 'progress' } },
        ],
      },
    },
    {
      kind: 'FragmentDefinition',
      name: { kind: 'Name', value: 'ConsoleTask' },
      typeCondition: { kind: 'NamedType', name: { kind: 'Name', value: 'Task' } },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          { kind: 'Field', name: { kind: 'Name', value: 'id' } },
          { kind: 'Field', name: { kind: 'Name', value: 'type' } },
          { kind: 'Field', name: { kind: 'Name', value: 'status' } },
          { kind: 'Field', name: { kind: 'Name', value: 'maxInFlight' } },
          { kind: 'Field', name: { kind: 'Name', value: 'createdAt' } },
          { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'clusters' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'clusterName' } },
                { kind: 'Field', name: { kind: 'Name', value: 'isCanary' } },
                { kind: 'Field', name: { kind: 'Name', value: 'lastActionState' } },
                { kind: 'Field', name: { kind: 'Name', value: 'description' } },
                { kind: 'Field', name: { kind: 'Name', value: 'startedAt' } },
                { kind: 'Field', name: { kind: 'Name', value: 'finishedAt' } },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleClusterFeedSubscription, ConsoleClusterFeedSubscriptionVariables>;
export const ConsoleQuotasDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleQuotas' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'quotas' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'limit' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'cluster' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'cpu' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'memory' } },
                    ],
                  },
                },
              ],
            },
          },
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'usages' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'totals' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'cluster' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'cpu' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'memory' } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleQuotasQuery, ConsoleQuotasQueryVariables>;
export const ConsoleSetQuotaDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleSetQuota' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'owner' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'limit' } },
          type: {
            kind: 'NonNullType',
            type: { kind: 'NamedType', name: { kind: 'Name', value: 'QuotaLimitInput' } },
          },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'setQuota' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'owner' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'owner' } },
              },
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'limit' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'limit' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'limit' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'cluster' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'cpu' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'memory' } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleSetQuotaMutation, ConsoleSetQuotaMutationVariables>;
export const ConsoleDeleteQuotaDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { kind: 'Name', value: 'ConsoleDeleteQuota' },
      variableDefinitions: [
        {
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: { kind: 'Name', value: 'owner' } },
          type: { kind: 'NonNullType', type: { kind: 'NamedType', name: { kind: 'Name', value: 'String' } } },
        },
      ],
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'deleteQuota' },
            arguments: [
              {
                kind: 'Argument',
                name: { kind: 'Name', value: 'owner' },
                value: { kind: 'Variable', name: { kind: 'Name', value: 'owner' } },
              },
            ],
            selectionSet: {
              kind: 'SelectionSet',
              selections: [{ kind: 'Field', name: { kind: 'Name', value: 'owner' } }],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleDeleteQuotaMutation, ConsoleDeleteQuotaMutationVariables>;
export const ConsoleUsageDocument = {
  kind: 'Document',
  definitions: [
    {
      kind: 'OperationDefinition',
      operation: 'query',
      name: { kind: 'Name', value: 'ConsoleUsage' },
      selectionSet: {
        kind: 'SelectionSet',
        selections: [
          {
            kind: 'Field',
            name: { kind: 'Name', value: 'usage' },
            selectionSet: {
              kind: 'SelectionSet',
              selections: [
                { kind: 'Field', name: { kind: 'Name', value: 'owner' } },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'totals' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'cluster' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'cpu' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'memory' } },
                    ],
                  },
                },
                {
                  kind: 'Field',
                  name: { kind: 'Name', value: 'limit' },
                  selectionSet: {
                    kind: 'SelectionSet',
                    selections: [
                      { kind: 'Field', name: { kind: 'Name', value: 'cluster' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'cpu' } },
                      { kind: 'Field', name: { kind: 'Name', value: 'memory' } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
  ],
} as unknown as DocumentNode<ConsoleUsageQuery, ConsoleUsageQueryVariables>;
