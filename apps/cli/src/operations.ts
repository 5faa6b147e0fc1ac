/**
 * The CLI's GraphQL operations, typed by hand against `graphql/schema.graphql` (GraphQL Code Generator is
 * the plan; these types are what it would emit for these selections). `graphql/operations/cli.graphql`
 * holds the same documents for the console and tooling; a test keeps the two equal and checks both
 * against the schema.
 */
export interface Operation<TData, TVars> {
  name: string;
  document: string;
  // Phantom fields tie the document to its types at compile time only.
  readonly __data?: TData;
  readonly __vars?: TVars;
}

function op<TData, TVars = Record<string, never>>(name: string, document: string): Operation<TData, TVars> {
  return { name, document };
}

const CLUSTER_FIELDS = `name uuid planName owner lastAction lastActionState lastActionDescription
    kubernetesMasterHost kubernetesMasterPort kubernetesMasterIps workerInstances k8sVersion pksVersion
    networkProfileName`;

export interface ClusterView {
  name: string;
  uuid: string;
  planName: string;
  owner: string;
  lastAction: string;
  lastActionState: string;
  lastActionDescription: string;
  kubernetesMasterHost: string;
  kubernetesMasterPort: number;
  kubernetesMasterIps: string[];
  workerInstances: number;
  k8sVersion: string | null;
  pksVersion: string;
  networkProfileName: string | null;
}

export interface NsxDetailsView {
  lbSize: string | null;
  nodesDns: string[] | null;
  nodeRoutable: boolean | null;
  nodeSubnetPrefix: number | null;
  podRoutable: boolean | null;
  podSubnetPrefix: number | null;
  t0RouterId: string | null;
  fipPoolIds: string[] | null;
  nodeIpBlockIds: string[] | null;
  podIpBlockIds: string[] | null;
}

export interface DrainView {
  kubeletDrainTimeout: number;
  kubeletDrainGracePeriod: number;
  kubeletDrainForce: boolean;
  kubeletDrainIgnoreDaemonsets: boolean;
  kubeletDrainDeleteLocalData: boolean;
  kubeletDrainForceNode: boolean;
}

export interface ClusterDetailsView extends ClusterView {
  drain: Record<string, unknown> | null;
  nsxDetails: NsxDetailsView | null;
}

export interface PlanView {
  id: string;
  name: string;
  description: string;
  workerInstances: number;
  masterInstances: number;
  maxWorkerInstances: number;
  allowPrivilegedContainers: boolean;
  drain: DrainView;
}

export interface NetworkProfileView {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  createdAt: string;
}

export interface TaskClusterView {
  clusterName: string;
  description: string;
  isCanary: boolean;
  lastActionState: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TaskView {
  id: string;
  type: string;
  status: string;
  maxInFlight: number;
  createdAt: string;
  finishedAt: string | null;
  clusters: TaskClusterView[];
}

export interface ClusterEventView {
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
}

export interface CredentialsView {
  kubeconfig: string;
  clusterName: string;
  contextName: string;
  userName: string;
  server: string;
}

const TASK_FIELDS = `id type status maxInFlight createdAt finishedAt
    clusters { clusterName description isCanary lastActionState startedAt finishedAt }`;

const DRAIN_FIELDS = `kubeletDrainTimeout kubeletDrainGracePeriod kubeletDrainForce kubeletDrainIgnoreDaemonsets
      kubeletDrainDeleteLocalData kubeletDrainForceNode`;

export const Plans = op<{ plans: PlanView[] }>(
  'Plans',
  `query Plans {
  plans {
    id name description workerInstances masterInstances maxWorkerInstances allowPrivilegedContainers
    drain { ${DRAIN_FIELDS} }
  }
}`,
);

export const Clusters = op<{ clusters: ClusterView[] }>(
  'Clusters',
  `query Clusters {
  clusters {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const Cluster = op<{ cluster: ClusterView }, { name: string }>(
  'Cluster',
  `query Cluster($name: String!) {
  cluster(name: $name) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const ClusterDetails = op<{ cluster: ClusterDetailsView; plans: PlanView[] }, { name: string }>(
  'ClusterDetails',
  `query ClusterDetails($name: String!) {
  cluster(name: $name) {
    ${CLUSTER_FIELDS}
    drain
    nsxDetails {
      lbSize nodesDns nodeRoutable nodeSubnetPrefix podRoutable podSubnetPrefix t0RouterId fipPoolIds
      nodeIpBlockIds podIpBlockIds
    }
  }
  plans {
    id name description workerInstances masterInstances maxWorkerInstances allowPrivilegedContainers
    drain { ${DRAIN_FIELDS} }
  }
}`,
);

export interface CreateClusterInput {
  name: string;
  planName: string;
  externalHostname: string;
  numNodes?: number;
  networkProfileName?: string;
}

export const CreateCluster = op<{ createCluster: ClusterView }, { input: CreateClusterInput }>(
  'CreateCluster',
  `mutation CreateCluster($input: CreateClusterInput!) {
  createCluster(input: $input) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const ResizeCluster = op<{ resizeCluster: ClusterView }, { name: string; numNodes: number }>(
  'ResizeCluster',
  `mutation ResizeCluster($name: String!, $numNodes: Int!) {
  resizeCluster(name: $name, numNodes: $numNodes) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export interface DrainInput {
  kubeletDrainTimeout?: string;
  kubeletDrainGracePeriod?: string;
  kubeletDrainForce?: string;
  kubeletDrainIgnoreDaemonsets?: string;
  kubeletDrainDeleteLocalData?: string;
  kubeletDrainForceNode?: string;
}

export interface UpdateClusterInput {
  numNodes?: number;
  networkProfileName?: string;
  drain?: DrainInput;
}

export const UpdateCluster = op<{ updateCluster: ClusterView }, { name: string; input: UpdateClusterInput }>(
  'UpdateCluster',
  `mutation UpdateCluster($name: String!, $input: UpdateClusterInput!) {
  updateCluster(name: $name, input: $input) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const UpgradeCluster = op<{ upgradeCluster: ClusterView }, { name: string }>(
  'UpgradeCluster',
  `mutation UpgradeCluster($name: String!) {
  upgradeCluster(name: $name) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const DeleteCluster = op<{ deleteCluster: ClusterView }, { name: string }>(
  'DeleteCluster',
  `mutation DeleteCluster($name: String!) {
  deleteCluster(name: $name) {
    ${CLUSTER_FIELDS}
  }
}`,
);

export const ClusterCredentials = op<
  { clusterCredentials: CredentialsView },
  { name: string; password?: string }
>(
  'ClusterCredentials',
  `mutation ClusterCredentials($name: String!, $password: String) {
  clusterCredentials(name: $name, password: $password) {
    kubeconfig clusterName contextName userName server
  }
}`,
);

export const ClusterEvents = op<{ clusterEvents: ClusterEventView }, { name: string }>(
  'ClusterEvents',
  `subscription ClusterEvents($name: String!) {
  clusterEvents(name: $name) {
    kind lastAction lastActionState description stage task progress index total at
  }
}`,
);

export interface UpgradeClustersInput {
  clusters: string[];
  canaries?: string[];
  maxInFlight?: number;
}

export const UpgradeClusters = op<{ upgradeClusters: TaskView }, { input: UpgradeClustersInput }>(
  'UpgradeClusters',
  `mutation UpgradeClusters($input: UpgradeClustersInput!) {
  upgradeClusters(input: $input) {
    ${TASK_FIELDS}
  }
}`,
);

export const Task = op<{ task: TaskView }, { id: string }>(
  'Task',
  `query Task($id: ID!) {
  task(id: $id) {
    ${TASK_FIELDS}
  }
}`,
);

export const CancelTask = op<{ cancelTask: TaskView }, { id: string }>(
  'CancelTask',
  `mutation CancelTask($id: ID!) {
  cancelTask(id: $id) {
    ${TASK_FIELDS}
  }
}`,
);

export const TaskEvents = op<{ taskEvents: TaskView }, { id: string }>(
  'TaskEvents',
  `subscription TaskEvents($id: ID!) {
  taskEvents(id: $id) {
    ${TASK_FIELDS}
  }
}`,
);

export const NetworkProfiles = op<{ networkProfiles: NetworkProfileView[] }>(
  'NetworkProfiles',
  `query NetworkProfiles {
  networkProfiles {
    name description parameters createdAt
  }
}`,
);

export const NetworkProfile = op<{ networkProfile: NetworkProfileView }, { name: string }>(
  'NetworkProfile',
  `query NetworkProfile($name: String!) {
  networkProfile(name: $name) {
    name description parameters createdAt
  }
}`,
);

export const CreateNetworkProfile = op<
  { createNetworkProfile: NetworkProfileView },
  { input: { name: string; description?: string; parameters: Record<string, unknown> } }
>(
  'CreateNetworkProfile',
  `mutation CreateNetworkProfile($input: NetworkProfileInput!) {
  createNetworkProfile(input: $input) {
    name description parameters createdAt
  }
}`,
);

export const DeleteNetworkProfile = op<{ deleteNetworkProfile: NetworkProfileView }, { name: string }>(
  'DeleteNetworkProfile',
  `mutation DeleteNetworkProfile($name: String!) {
  deleteNetworkProfile(name: $name) {
    name description parameters createdAt
  }
}`,
);

export const Me = op<{ me: { name: string; scopes: string[] } }>(
  'Me',
  `query Me {
  me {
    name scopes
  }
}`,
);

/** Every operation, in the order `graphql/operations/cli.graphql` lists them. */
export const ALL_OPERATIONS: readonly Operation<unknown, unknown>[] = [
  Plans,
  Clusters,
  Cluster,
  ClusterDetails,
  CreateCluster,
  ResizeCluster,
  UpdateCluster,
  UpgradeCluster,
  DeleteCluster,
  ClusterCredentials,
  ClusterEvents,
  UpgradeClusters,
  Task,
  CancelTask,
  TaskEvents,
  NetworkProfiles,
  NetworkProfile,
  CreateNetworkProfile,
  DeleteNetworkProfile,
  Me,
] as Operation<unknown, unknown>[];
