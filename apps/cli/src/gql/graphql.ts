/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> =
  T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
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

/** Kubelet drain settings to override for one cluster (strings, as the PKS CLI passes them) */
export type DrainInput = {
  /** true or false: drain even when pods use emptyDir volumes */
  kubeletDrainDeleteLocalData?: string | null | undefined;
  /** true or false: delete pods that no controller manages */
  kubeletDrainForce?: string | null | undefined;
  /** true or false: go on if the drain times out */
  kubeletDrainForceNode?: string | null | undefined;
  /** Seconds, -1-86400; -1 uses each pod’s own */
  kubeletDrainGracePeriod?: string | null | undefined;
  /** true or false: drain even when DaemonSet pods run */
  kubeletDrainIgnoreDaemonsets?: string | null | undefined;
  /** Minutes, 0-1440; 0 waits forever */
  kubeletDrainTimeout?: string | null | undefined;
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

/** What to change on a cluster; fields left out keep their value */
export type UpdateClusterInput = {
  /** Drain settings for this cluster */
  drain?: DrainInput | null | undefined;
  /** A network profile to apply */
  networkProfileName?: string | null | undefined;
  /** Worker nodes, from 1 to the plan’s maximum */
  numNodes?: number | null | undefined;
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

export type ClusterFieldsFragment = {
  name: string;
  uuid: string;
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
};

export type PlanFieldsFragment = {
  id: string;
  name: string;
  description: string;
  workerInstances: number;
  masterInstances: number;
  masterVmType: string;
  masterCpu: number;
  masterMemory: number;
  maxWorkerInstances: number;
  workerVmType: string;
  workerCpu: number;
  workerMemory: number;
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

export type TaskFieldsFragment = {
  id: string;
  type: string;
  status: string;
  maxInFlight: number;
  createdAt: string;
  finishedAt: string | null;
  clusters: Array<{
    clusterName: string;
    description: string;
    isCanary: boolean;
    lastActionState: string;
    startedAt: string | null;
    finishedAt: string | null;
  }>;
};

export type NetworkProfileFieldsFragment = {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  createdAt: string;
};

export type PlansQueryVariables = Exact<{ [key: string]: never }>;

export type PlansQuery = {
  plans: Array<{
    id: string;
    name: string;
    description: string;
    workerInstances: number;
    masterInstances: number;
    masterVmType: string;
    masterCpu: number;
    masterMemory: number;
    maxWorkerInstances: number;
    workerVmType: string;
    workerCpu: number;
    workerMemory: number;
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

export type ClustersQueryVariables = Exact<{ [key: string]: never }>;

export type ClustersQuery = {
  pksVersion: string;
  clusters: Array<{
    name: string;
    uuid: string;
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
  }>;
};

export type ClusterObservationFieldsFragment = {
  spec: { workerInstances: number };
  status: { observedAt: string | null; workerInstances: number };
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
};

export type ClusterQueryVariables = Exact<{
  name: string;
}>;

export type ClusterQuery = {
  cluster: {
    name: string;
    uuid: string;
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
    spec: { workerInstances: number };
    status: { observedAt: string | null; workerInstances: number };
    conditions: Array<{ type: string; status: string; reason: string; message: string }>;
  };
};

export type ClusterDetailsQueryVariables = Exact<{
  name: string;
}>;

export type ClusterDetailsQuery = {
  cluster: {
    drain: Record<string, unknown> | null;
    name: string;
    uuid: string;
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
    nsxDetails: {
      lbSize: string | null;
      nodesDns: Array<string> | null;
      nodeRoutable: boolean | null;
      nodeSubnetPrefix: number | null;
      podRoutable: boolean | null;
      podSubnetPrefix: number | null;
      t0RouterId: string | null;
      fipPoolIds: Array<string> | null;
      nodeIpBlockIds: Array<string> | null;
      podIpBlockIds: Array<string> | null;
    } | null;
    spec: { workerInstances: number };
    status: { observedAt: string | null; workerInstances: number };
    conditions: Array<{ type: string; status: string; reason: string; message: string }>;
  };
  plans: Array<{
    id: string;
    name: string;
    description: string;
    workerInstances: number;
    masterInstances: number;
    masterVmType: string;
    masterCpu: number;
    masterMemory: number;
    maxWorkerInstances: number;
    workerVmType: string;
    workerCpu: number;
    workerMemory: number;
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

export type CreateClusterMutationVariables = Exact<{
  input: CreateClusterInput;
}>;

export type CreateClusterMutation = {
  createCluster: {
    name: string;
    uuid: string;
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
  };
};

export type ResizeClusterMutationVariables = Exact<{
  name: string;
  numNodes: number;
}>;

export type ResizeClusterMutation = {
  resizeCluster: {
    name: string;
    uuid: string;
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
  };
};

export type UpdateClusterMutationVariables = Exact<{
  name: string;
  input: UpdateClusterInput;
}>;

export type UpdateClusterMutation = {
  updateCluster: {
    name: string;
    uuid: string;
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
  };
};

export type UpgradeClusterMutationVariables = Exact<{
  name: string;
}>;

export type UpgradeClusterMutation = {
  upgradeCluster: {
    name: string;
    uuid: string;
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
  };
};

export type DeleteClusterMutationVariables = Exact<{
  name: string;
}>;

export type DeleteClusterMutation = {
  deleteCluster: {
    name: string;
    uuid: string;
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
  };
};

export type ClusterCredentialsMutationVariables = Exact<{
  name: string;
  password?: string | null | undefined;
}>;

export type ClusterCredentialsMutation = {
  clusterCredentials: {
    kubeconfig: string;
    clusterName: string;
    contextName: string;
    userName: string;
    server: string;
  };
};

export type ClusterEventsSubscriptionVariables = Exact<{
  name: string;
}>;

export type ClusterEventsSubscription = {
  clusterEvents: {
    kind: string;
    lastAction: string;
    lastActionState: string;
    description: string;
    stage: string | null;
    task: string | null;
    progress: number | null;
    index: number | null;
    total: number | null;
    at: string;
  };
};

export type ClusterFeedSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;

export type ClusterFeedSubscription = {
  clusterFeed: {
    type: ClusterFeedEventType;
    cursor: string;
    clusterName: string | null;
    clusterUuid: string | null;
    cluster: {
      name: string;
      uuid: string;
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
    } | null;
    event: {
      kind: string;
      lastAction: string;
      lastActionState: string;
      description: string;
      stage: string | null;
      task: string | null;
      progress: number | null;
      index: number | null;
      total: number | null;
      at: string;
    } | null;
  };
};

export type PksVersionQueryVariables = Exact<{ [key: string]: never }>;

export type PksVersionQuery = { pksVersion: string };

export type UpgradeClustersMutationVariables = Exact<{
  input: UpgradeClustersInput;
}>;

export type UpgradeClustersMutation = {
  upgradeClusters: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      description: string;
      isCanary: boolean;
      lastActionState: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type TaskQueryVariables = Exact<{
  id: string | number;
}>;

export type TaskQuery = {
  task: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      description: string;
      isCanary: boolean;
      lastActionState: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type CancelTaskMutationVariables = Exact<{
  id: string | number;
}>;

export type CancelTaskMutation = {
  cancelTask: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      description: string;
      isCanary: boolean;
      lastActionState: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type TaskEventsSubscriptionVariables = Exact<{
  id: string | number;
}>;

export type TaskEventsSubscription = {
  taskEvents: {
    id: string;
    type: string;
    status: string;
    maxInFlight: number;
    createdAt: string;
    finishedAt: string | null;
    clusters: Array<{
      clusterName: string;
      description: string;
      isCanary: boolean;
      lastActionState: string;
      startedAt: string | null;
      finishedAt: string | null;
    }>;
  };
};

export type NetworkProfilesQueryVariables = Exact<{ [key: string]: never }>;

export type NetworkProfilesQuery = {
  networkProfiles: Array<{
    name: string;
    description: string;
    parameters: Record<string, unknown>;
    createdAt: string;
  }>;
};

export type NetworkProfileQueryVariables = Exact<{
  name: string;
}>;

export type NetworkProfileQuery = {
  networkProfile: {
    name: string;
    description: string;
    parameters: Record<string, unknown>;
    createdAt: string;
  };
};

export type CreateNetworkProfileMutationVariables = Exact<{
  input: NetworkProfileInput;
}>;

export type CreateNetworkProfileMutation = {
  createNetworkProfile: {
    name: string;
    description: string;
    parameters: Record<string, unknown>;
    createdAt: string;
  };
};

export type DeleteNetworkProfileMutationVariables = Exact<{
  name: string;
}>;

export type DeleteNetworkProfileMutation = {
  deleteNetworkProfile: {
    name: string;
    description: string;
    parameters: Record<string, unknown>;
    createdAt: string;
  };
};

export type MeQueryVariables = Exact<{ [key: string]: never }>;

export type MeQuery = { me: { name: string; scopes: Array<string> } };

export type UsageQueryVariables = Exact<{
  owner?: string | null | undefined;
}>;

export type UsageQuery = {
  usage: {
    owner: string;
    totals: { cluster: number; cpu: number; memory: number };
    clusters: Array<{ name: string; planName: string; workerInstances: number; cpu: number; memory: number }>;
    limit: { cluster: number | null; cpu: number | null; memory: number | null } | null;
  };
};

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ClusterFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}
    `,
  { fragmentName: 'ClusterFields' },
) as unknown as TypedDocumentString<ClusterFieldsFragment, unknown>;
export const PlanFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment PlanFields on Plan {
  id
  name
  description
  workerInstances
  masterInstances
  masterVmType
  masterCpu
  masterMemory
  maxWorkerInstances
  workerVmType
  workerCpu
  workerMemory
  allowPrivilegedContainers
  drain {
    kubeletDrainTimeout
    kubeletDrainGracePeriod
    kubeletDrainForce
    kubeletDrainIgnoreDaemonsets
    kubeletDrainDeleteLocalData
    kubeletDrainForceNode
  }
}
    `,
  { fragmentName: 'PlanFields' },
) as unknown as TypedDocumentString<PlanFieldsFragment, unknown>;
export const TaskFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment TaskFields on Task {
  id
  type
  status
  maxInFlight
  createdAt
  finishedAt
  clusters {
    clusterName
    description
    isCanary
    lastActionState
    startedAt
    finishedAt
  }
}
    `,
  { fragmentName: 'TaskFields' },
) as unknown as TypedDocumentString<TaskFieldsFragment, unknown>;
export const NetworkProfileFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment NetworkProfileFields on NetworkProfile {
  name
  description
  parameters
  createdAt
}
    `,
  { fragmentName: 'NetworkProfileFields' },
) as unknown as TypedDocumentString<NetworkProfileFieldsFragment, unknown>;
export const ClusterObservationFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment ClusterObservationFields on Cluster {
  spec {
    workerInstances
  }
  status {
    observedAt
    workerInstances
  }
  conditions {
    type
    status
    reason
    message
  }
}
    `,
  { fragmentName: 'ClusterObservationFields' },
) as unknown as TypedDocumentString<ClusterObservationFieldsFragment, unknown>;
export const PlansDocument = new TypedDocumentString(`
    query Plans {
  plans {
    ...PlanFields
  }
}
    fragment PlanFields on Plan {
  id
  name
  description
  workerInstances
  masterInstances
  masterVmType
  masterCpu
  masterMemory
  maxWorkerInstances
  workerVmType
  workerCpu
  workerMemory
  allowPrivilegedContainers
  drain {
    kubeletDrainTimeout
    kubeletDrainGracePeriod
    kubeletDrainForce
    kubeletDrainIgnoreDaemonsets
    kubeletDrainDeleteLocalData
    kubeletDrainForceNode
  }
}`) as unknown as TypedDocumentString<PlansQuery, PlansQueryVariables>;
export const ClustersDocument = new TypedDocumentString(`
    query Clusters {
  clusters {
    ...ClusterFields
  }
  pksVersion
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<ClustersQuery, ClustersQueryVariables>;
export const ClusterDocument = new TypedDocumentString(`
    query Cluster($name: String!) {
  cluster(name: $name) {
    ...ClusterFields
    ...ClusterObservationFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}
fragment ClusterObservationFields on Cluster {
  spec {
    workerInstances
  }
  status {
    observedAt
    workerInstances
  }
  conditions {
    type
    status
    reason
    message
  }
}`) as unknown as TypedDocumentString<ClusterQuery, ClusterQueryVariables>;
export const ClusterDetailsDocument = new TypedDocumentString(`
    query ClusterDetails($name: String!) {
  cluster(name: $name) {
    ...ClusterFields
    ...ClusterObservationFields
    drain
    nsxDetails {
      lbSize
      nodesDns
      nodeRoutable
      nodeSubnetPrefix
      podRoutable
      podSubnetPrefix
      t0RouterId
      fipPoolIds
      nodeIpBlockIds
      podIpBlockIds
    }
  }
  plans {
    ...PlanFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}
fragment PlanFields on Plan {
  id
  name
  description
  workerInstances
  masterInstances
  masterVmType
  masterCpu
  masterMemory
  maxWorkerInstances
  workerVmType
  workerCpu
  workerMemory
  allowPrivilegedContainers
  drain {
    kubeletDrainTimeout
    kubeletDrainGracePeriod
    kubeletDrainForce
    kubeletDrainIgnoreDaemonsets
    kubeletDrainDeleteLocalData
    kubeletDrainForceNode
  }
}
fragment ClusterObservationFields on Cluster {
  spec {
    workerInstances
  }
  status {
    observedAt
    workerInstances
  }
  conditions {
    type
    status
    reason
    message
  }
}`) as unknown as TypedDocumentString<ClusterDetailsQuery, ClusterDetailsQueryVariables>;
export const CreateClusterDocument = new TypedDocumentString(`
    mutation CreateCluster($input: CreateClusterInput!) {
  createCluster(input: $input) {
    ...ClusterFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<CreateClusterMutation, CreateClusterMutationVariables>;
export const ResizeClusterDocument = new TypedDocumentString(`
    mutation ResizeCluster($name: String!, $numNodes: Int!) {
  resizeCluster(name: $name, numNodes: $numNodes) {
    ...ClusterFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<ResizeClusterMutation, ResizeClusterMutationVariables>;
export const UpdateClusterDocument = new TypedDocumentString(`
    mutation UpdateCluster($name: String!, $input: UpdateClusterInput!) {
  updateCluster(name: $name, input: $input) {
    ...ClusterFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<UpdateClusterMutation, UpdateClusterMutationVariables>;
export const UpgradeClusterDocument = new TypedDocumentString(`
    mutation UpgradeCluster($name: String!) {
  upgradeCluster(name: $name) {
    ...ClusterFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<UpgradeClusterMutation, UpgradeClusterMutationVariables>;
export const DeleteClusterDocument = new TypedDocumentString(`
    mutation DeleteCluster($name: String!) {
  deleteCluster(name: $name) {
    ...ClusterFields
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<DeleteClusterMutation, DeleteClusterMutationVariables>;
export const ClusterCredentialsDocument = new TypedDocumentString(`
    mutation ClusterCredentials($name: String!, $password: String) {
  clusterCredentials(name: $name, password: $password) {
    kubeconfig
    clusterName
    contextName
    userName
    server
  }
}
    `) as unknown as TypedDocumentString<ClusterCredentialsMutation, ClusterCredentialsMutationVariables>;
export const ClusterEventsDocument = new TypedDocumentString(`
    subscription ClusterEvents($name: String!) {
  clusterEvents(name: $name) {
    kind
    lastAction
    lastActionState
    description
    stage
    task
    progress
    index
    total
    at
  }
}
    `) as unknown as TypedDocumentString<ClusterEventsSubscription, ClusterEventsSubscriptionVariables>;
export const ClusterFeedDocument = new TypedDocumentString(`
    subscription ClusterFeed($after: String) {
  clusterFeed(after: $after) {
    type
    cursor
    clusterName
    clusterUuid
    cluster {
      ...ClusterFields
    }
    event {
      kind
      lastAction
      lastActionState
      description
      stage
      task
      progress
      index
      total
      at
    }
  }
}
    fragment ClusterFields on Cluster {
  name
  uuid
  planName
  owner
  lastAction
  lastActionState
  lastActionDescription
  kubernetesMasterHost
  kubernetesMasterPort
  kubernetesMasterIps
  workerInstances
  k8sVersion
  pksVersion
  networkProfileName
}`) as unknown as TypedDocumentString<ClusterFeedSubscription, ClusterFeedSubscriptionVariables>;
export const PksVersionDocument = new TypedDocumentString(`
    query PksVersion {
  pksVersion
}
    `) as unknown as TypedDocumentString<PksVersionQuery, PksVersionQueryVariables>;
export const UpgradeClustersDocument = new TypedDocumentString(`
    mutation UpgradeClusters($input: UpgradeClustersInput!) {
  upgradeClusters(input: $input) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  type
  status
  maxInFlight
  createdAt
  finishedAt
  clusters {
    clusterName
    description
    isCanary
    lastActionState
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<UpgradeClustersMutation, UpgradeClustersMutationVariables>;
export const TaskDocument = new TypedDocumentString(`
    query Task($id: ID!) {
  task(id: $id) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  type
  status
  maxInFlight
  createdAt
  finishedAt
  clusters {
    clusterName
    description
    isCanary
    lastActionState
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<TaskQuery, TaskQueryVariables>;
export const CancelTaskDocument = new TypedDocumentString(`
    mutation CancelTask($id: ID!) {
  cancelTask(id: $id) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  type
  status
  maxInFlight
  createdAt
  finishedAt
  clusters {
    clusterName
    description
    isCanary
    lastActionState
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<CancelTaskMutation, CancelTaskMutationVariables>;
export const TaskEventsDocument = new TypedDocumentString(`
    subscription TaskEvents($id: ID!) {
  taskEvents(id: $id) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  type
  status
  maxInFlight
  createdAt
  finishedAt
  clusters {
    clusterName
    description
    isCanary
    lastActionState
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<TaskEventsSubscription, TaskEventsSubscriptionVariables>;
export const NetworkProfilesDocument = new TypedDocumentString(`
    query NetworkProfiles {
  networkProfiles {
    ...NetworkProfileFields
  }
}
    fragment NetworkProfileFields on NetworkProfile {
  name
  description
  parameters
  createdAt
}`) as unknown as TypedDocumentString<NetworkProfilesQuery, NetworkProfilesQueryVariables>;
export const NetworkProfileDocument = new TypedDocumentString(`
    query NetworkProfile($name: String!) {
  networkProfile(name: $name) {
    ...NetworkProfileFields
  }
}
    fragment NetworkProfileFields on NetworkProfile {
  name
  description
  parameters
  createdAt
}`) as unknown as TypedDocumentString<NetworkProfileQuery, NetworkProfileQueryVariables>;
export const CreateNetworkProfileDocument = new TypedDocumentString(`
    mutation CreateNetworkProfile($input: NetworkProfileInput!) {
  createNetworkProfile(input: $input) {
    ...NetworkProfileFields
  }
}
    fragment NetworkProfileFields on NetworkProfile {
  name
  description
  parameters
  createdAt
}`) as unknown as TypedDocumentString<CreateNetworkProfileMutation, CreateNetworkProfileMutationVariables>;
export const DeleteNetworkProfileDocument = new TypedDocumentString(`
    mutation DeleteNetworkProfile($name: String!) {
  deleteNetworkProfile(name: $name) {
    ...NetworkProfileFields
  }
}
    fragment NetworkProfileFields on NetworkProfile {
  name
  description
  parameters
  createdAt
}`) as unknown as TypedDocumentString<DeleteNetworkProfileMutation, DeleteNetworkProfileMutationVariables>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    name
    scopes
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const UsageDocument = new TypedDocumentString(`
    query Usage($owner: String) {
  usage(owner: $owner) {
    owner
    totals {
      cluster
      cpu
      memory
    }
    clusters {
      name
      planName
      workerInstances
      cpu
      memory
    }
    limit {
      cluster
      cpu
      memory
    }
  }
}
    `) as unknown as TypedDocumentString<UsageQuery, UsageQueryVariables>;
