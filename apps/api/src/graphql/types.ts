// type-graphql's decorators need the Reflect metadata API before they run, whoever imports this first.
import 'reflect-metadata';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ClusterFeedEventType } from '../services/clusterFeed.js';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';

// Every field names its type explicitly: vitest's transpiler emits no decorator metadata.

@ObjectType({ description: 'The caller, as the API sees its token' })
export class Me {
  @Field(() => String, { description: 'Your user name (or the client id for a client-credentials token)' })
  name: string;
  @Field(() => String, { description: 'The OAuth client the token was issued to' }) clientId: string;
  @Field(() => [String], {
    description: 'The token’s scopes; the pks.clusters.* ones decide what you may do',
  })
  scopes: string[];
  @Field(() => Boolean, { description: 'pks.clusters.admin or pks.clusters.admin.read: sees every cluster' })
  readsAllClusters: boolean;
  @Field(() => Boolean, { description: 'pks.clusters.admin: changes every cluster and network profiles' })
  changesAllClusters: boolean;
}

@ObjectType({ description: 'Kubelet drain settings (PKS plan fields, overridable per cluster)' })
export class DrainSettings {
  @Field(() => Int, { description: 'Minutes, 0-1440; 0 waits forever' }) kubeletDrainTimeout: number;
  @Field(() => Int, { description: 'Seconds, -1-86400; -1 uses each pod’s own' })
  kubeletDrainGracePeriod: number;
  @Field(() => Boolean, { description: 'Delete pods that no controller manages' }) kubeletDrainForce: boolean;
  @Field(() => Boolean, { description: 'Drain even when DaemonSet pods run on the node' })
  kubeletDrainIgnoreDaemonsets: boolean;
  @Field(() => Boolean, { description: 'Drain even when pods use emptyDir volumes (their data is lost)' })
  kubeletDrainDeleteLocalData: boolean;
  @Field(() => Boolean, { description: 'Upgrade the node even if the drain times out' })
  kubeletDrainForceNode: boolean;
}

@ObjectType({ description: 'A cluster plan the operator configured (read-only through the API)' })
export class Plan {
  @Field(() => ID, { description: 'The plan’s id in the operator’s configuration' }) id: string;
  @Field(() => String, { description: 'The name you pass as planName' }) name: string;
  @Field(() => String, { description: 'What the plan is for, in the operator’s words' }) description: string;
  @Field(() => Int, { description: 'Kubernetes masters (etcd members) of each cluster: 1 or 3' })
  masterInstances: number;
  @Field(() => String, { description: 'The VM type of the masters' }) masterVmType: string;
  @Field(() => Int, { description: 'CPUs of each master VM (its VM type’s)' }) masterCpu: number;
  @Field(() => Float, { description: 'Memory of each master VM in GB (its VM type’s)' }) masterMemory: number;
  @Field(() => Int, { description: 'Default worker count of a new cluster' }) workerInstances: number;
  @Field(() => Int, { description: 'The most workers a cluster on this plan may have' })
  maxWorkerInstances: number;
  @Field(() => String, { description: 'The VM type of the workers' }) workerVmType: string;
  @Field(() => Int, { description: 'CPUs of each worker VM (its VM type’s)' }) workerCpu: number;
  @Field(() => Float, { description: 'Memory of each worker VM in GB (its VM type’s)' }) workerMemory: number;
  @Field(() => [String], { description: 'Availability zones the cluster’s VMs are spread over' })
  azs: string[];
  @Field(() => Boolean, { description: 'Whether pods may run privileged containers' })
  allowPrivilegedContainers: boolean;
  @Field(() => DrainSettings, { description: 'How workers are drained before an upgrade or resize' })
  drain: DrainSettings;
}

@ObjectType({ description: 'A state change of a cluster, or a line of its Director task’s progress' })
export class ClusterEvent {
  @Field(() => String, { description: 'The cluster the event is about' }) clusterName: string;
  @Field(() => String, { description: 'The cluster’s uuid (a name can be reused after a delete)' })
  clusterUuid: string;
  @Field(() => String, { description: 'STATE or PROGRESS' }) kind: string;
  @Field(() => DateTimeResolver, { description: 'When it happened' }) at: Date;
  @Field(() => String, { description: 'The operation: CREATE, UPDATE, UPGRADE or DELETE' })
  lastAction: string;
  @Field(() => String, {
    description: 'The operation’s state after this event: in progress, succeeded, failed or queued',
  })
  lastActionState: string;
  @Field(() => String, { description: 'What happened, in words' }) description: string;
  @Field(() => String, { nullable: true, description: 'The Director task’s stage (PROGRESS only)' }) stage?:
    string | undefined;
  @Field(() => String, { nullable: true, description: 'The Director task id' }) task?: string | undefined;
  @Field(() => Int, { nullable: true, description: 'The step within the stage (PROGRESS only)' }) index?:
    number | undefined;
  @Field(() => Int, { nullable: true, description: 'How many steps the stage has (PROGRESS only)' }) total?:
    number | undefined;
  @Field(() => Int, { nullable: true, description: 'Percent, 0-100' }) progress?: number | undefined;
}

@ObjectType({ description: 'NSX-T details of a cluster’s network profile' })
export class NsxDetails {
  @Field(() => String, { nullable: true, description: 'small, medium or large' }) lbSize?: string | undefined;
  @Field(() => [String], { nullable: true, description: 'DNS servers of the nodes' }) nodesDns?:
    string[] | undefined;
  @Field(() => Boolean, { nullable: true, description: 'Whether node IPs are routable from outside' })
  nodeRoutable?: boolean | undefined;
  @Field(() => Int, { nullable: true, description: 'Prefix length of each cluster’s node subnet' })
  nodeSubnetPrefix?: number | undefined;
  @Field(() => Boolean, { nullable: true, description: 'Whether pod IPs are routable from outside' })
  podRoutable?: boolean | undefined;
  @Field(() => Int, { nullable: true, description: 'Prefix length of each namespace’s pod subnet' })
  podSubnetPrefix?: number | undefined;
  @Field(() => String, { nullable: true, description: 'The tier-0 router the cluster attaches to' })
  t0RouterId?: string | undefined;
  @Field(() => [String], { nullable: true, description: 'Floating IP pools for load balancers and SNAT' })
  fipPoolIds?: string[] | undefined;
  @Field(() => [String], { nullable: true, description: 'IP blocks node subnets are cut from' })
  nodeIpBlockIds?: string[] | undefined;
  @Field(() => [String], { nullable: true, description: 'IP blocks pod subnets are cut from' })
  podIpBlockIds?: string[] | undefined;
  @Field(() => String, { nullable: true, description: 'The node subnet the NSX proxy step allocated' })
  nodeSubnet?: string | undefined;
  @Field(() => String, { nullable: true, description: 'The cluster router (tier-1) on the tier-0' })
  tier1RouterId?: string | undefined;
  @Field(() => String, { nullable: true, description: 'The cluster’s NSX-T load balancer' })
  lbServiceId?: string | undefined;
  @Field(() => [String], { nullable: true, description: 'Floating IPs taken from the floating IP pool' })
  floatingIps?: string[] | undefined;
  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: 'Everything the NSX proxy step allocated, as sent to the broker (nsxt_network_details)',
  })
  networkDetails?: Record<string, unknown> | undefined;
}

@ObjectType({
  description: 'A VM of a cluster, as the BOSH Director reports it (`bosh instances --details`)',
})
export class ClusterNode {
  @Field(() => String, { description: 'master or worker' }) instanceGroup: string;
  @Field(() => Int, { description: 'The instance’s index in its group' }) index: number;
  @Field(() => String, { description: 'The BOSH instance id' }) id: string;
  @Field(() => [String], { description: 'The VM’s IP addresses' }) ips: string[];
  @Field(() => String, {
    description: 'The Director’s process_state, e.g. running, failing, stopped (unknown while it has no VM)',
  })
  state: string;
  @Field(() => String, { nullable: true, description: 'The VM type (null when the Director does not say)' })
  vmType: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The availability zone (null when the Director does not say)',
  })
  az: string | null;
}

@ObjectType({
  description:
    'What the user asked the cluster to be; `generation` is bumped on every change of it (Cluster API’s spec)',
})
export class ClusterSpec {
  @Field(() => Int, {
    description: 'Bumped on every change of the spec; compare with status.observedGeneration',
  })
  generation: number;
  @Field(() => String, { description: 'The plan the cluster was created from' }) planName: string;
  @Field(() => String, { description: 'The external hostname (or IP) of the Kubernetes API' })
  kubernetesMasterHost: string;
  @Field(() => Int, { description: 'The Kubernetes API’s port' }) kubernetesMasterPort: number;
  @Field(() => Int, { description: 'Worker nodes asked for' }) workerInstances: number;
  @Field(() => String, { nullable: true, description: 'The network profile asked for, if any' })
  networkProfileName: string | null;
  @Field(() => JSONObjectResolver, { nullable: true, description: 'kubelet drain settings asked for' })
  drain: Record<string, string> | null;
  @Field(() => String, {
    description: 'The PKS version the cluster is to run (as of its create or last upgrade)',
  })
  pksVersion: string;
  @Field(() => String, { nullable: true, description: 'The Kubernetes version that PKS version ships' })
  kubernetesVersion: string | null;
}

@ObjectType({ description: 'An instance group of the cluster’s deployment, as last observed' })
export class InstanceGroupStatus {
  @Field(() => String, { description: 'master or worker' }) name: string;
  @Field(() => Int, { description: 'Instances the Director lists in the group' }) instances: number;
  @Field(() => Int, { description: 'Of those, the ones whose processes all run' }) running: number;
}

@ObjectType({ description: 'An instance of the cluster’s deployment, as last observed on the Director' })
export class ObservedInstance {
  @Field(() => String, { description: 'master or worker' }) instanceGroup: string;
  @Field(() => Int, { description: 'The instance’s index in its group' }) index: number;
  @Field(() => String, { description: 'The BOSH instance id' }) id: string;
  @Field(() => String, {
    description:
      'The Director’s process_state (running, failing, stopped, unknown), or "no vm" while it has none',
  })
  state: string;
  @Field(() => [String], { description: 'The VM’s IP addresses' }) ips: string[];
}

@ObjectType({
  description:
    'What was observed of the cluster: on the BOSH Director (instances, releases, versions) when its details were ' +
    'last read or an operation last ended, and the generation the last successful operation applied',
})
export class ClusterStatus {
  @Field(() => Int, { description: 'The spec generation the last successful operation applied' })
  observedGeneration: number;
  @Field(() => DateTimeResolver, {
    nullable: true,
    description: 'When the Director was last read for the cluster (null: never yet)',
  })
  observedAt: Date | null;
  @Field(() => Boolean, {
    description:
      'Whether the Director has the cluster’s deployment (a create that failed first may leave none)',
  })
  deployed: boolean;
  @Field(() => Int, { description: 'Worker nodes running' }) workerInstances: number;
  @Field(() => [InstanceGroupStatus], { description: 'Per instance group: instances, and how many run' })
  instanceGroups: InstanceGroupStatus[];
  @Field(() => [ObservedInstance], { description: 'Every instance and its state' })
  instances: ObservedInstance[];
  @Field(() => [String], { description: 'The masters’ IP addresses' }) kubernetesMasterIps: string[];
  @Field(() => [String], {
    description: 'The releases the deployment runs, as name/version (the last deploy that succeeded)',
  })
  releases: string[];
  @Field(() => String, {
    nullable: true,
    description: 'The PKS version those releases are (null when this installation does not know them)',
  })
  pksVersion: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The Kubernetes version they run (null when this installation does not know it)',
  })
  kubernetesVersion: string | null;
}

@ObjectType({
  description:
    'A condition of the cluster (Cluster API): whether something holds, why, and since when its status last changed',
})
export class ClusterCondition {
  @Field(() => String, { description: 'Ready, Provisioned, UpToDate or NodesHealthy' }) type: string;
  @Field(() => String, { description: 'True, False or Unknown' }) status: string;
  @Field(() => String, { description: 'Why, in one CamelCase word (for programs)' }) reason: string;
  @Field(() => String, { description: 'Why, in a sentence (for people)' }) message: string;
  @Field(() => DateTimeResolver, { description: 'When the status last changed' }) lastTransitionTime: Date;
}

@ObjectType({ description: 'A Kubernetes cluster (PKS Cluster)' })
export class Cluster {
  @Field(() => String, { description: 'The cluster’s name, unique in the installation' }) name: string;
  @Field(() => ID, { description: 'The cluster’s id (its BOSH deployment is service-instance_<uuid>)' })
  uuid: string;
  @Field(() => String, { description: 'The plan the cluster was created from' }) planName: string;
  @Field(() => String, { description: 'The user who created the cluster' }) owner: string;
  @Field(() => String, { description: 'CREATE, UPDATE, UPGRADE or DELETE' }) lastAction: string;
  @Field(() => String, { description: 'in progress, succeeded, failed or queued' }) lastActionState: string;
  @Field(() => String, { description: 'What the last operation did or why it failed' })
  lastActionDescription: string;
  @Field(() => String, { description: 'The external hostname (or IP) of the Kubernetes API' })
  kubernetesMasterHost: string;
  @Field(() => Int, { description: 'The Kubernetes API’s port' }) kubernetesMasterPort: number;
  @Field(() => [String], {
    description: 'The masters’ IPs as last observed (status); empty while the cluster is being created',
  })
  kubernetesMasterIps: string[];
  @Field(() => Int, {
    description: 'Worker nodes asked for (spec.workerInstances; status.workerInstances says how many run)',
  })
  workerInstances: number;
  @Field(() => String, { nullable: true, description: 'The network profile applied at creation, if any' })
  networkProfileName: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'The Kubernetes version the cluster runs, as last observed (status); the one being deployed until first observed',
  })
  k8sVersion: string | null;
  @Field(() => String, {
    description:
      'The PKS version the cluster runs, as last observed (status; "unknown" for releases this installation does ' +
      'not know); the one being deployed until first observed',
  })
  pksVersion: string;
  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: 'kubelet drain settings set on the cluster',
  })
  drain: Record<string, string> | null;
  @Field(() => NsxDetails, { nullable: true, description: 'NSX-T details, when the installation uses NSX-T' })
  nsxDetails: NsxDetails | null;
  @Field(() => ClusterSpec, { description: 'What was asked of the cluster' }) spec: ClusterSpec;
  @Field(() => ClusterStatus, {
    description:
      'What was observed of it; read from the Director now when one cluster’s status or conditions are asked for ' +
      '(cluster(name)), as last observed in lists',
  })
  status: ClusterStatus;
  @Field(() => [ClusterCondition], {
    description: 'Ready, Provisioned, UpToDate and NodesHealthy: why spec and status differ, if they do',
  })
  conditions: ClusterCondition[];
  @Field(() => DateTimeResolver, { description: 'When the create was requested' }) createdAt: Date;
  @Field(() => DateTimeResolver, { description: 'When the cluster last changed' }) updatedAt: Date;
  // events, nsxDetails' allocation and nodes: resolved by field resolvers (the api schema, the Director)
}

@ObjectType({
  description: 'An operation on a cluster (create, update, upgrade, delete), as an administrator sees it',
})
export class ClusterOperation {
  @Field(() => ID, { description: 'The operation’s id' }) id: string;
  @Field(() => String, { description: 'The cluster it changes' }) clusterName: string;
  @Field(() => String, { description: 'create, update, upgrade or delete' }) kind: string;
  @Field(() => String, {
    description: 'requested (not yet acknowledged by the broker), polling (the broker works on it) or done',
  })
  phase: string;
  @Field(() => String, { description: 'in progress, succeeded or failed' }) state: string;
  @Field(() => String, { description: 'What it did, or why it failed' }) description: string;
  @Field(() => String, { description: 'Who asked for it' }) originatingUser: string;
  @Field(() => String, {
    nullable: true,
    description: 'The API replica driving it now (null when none holds it: it waits for the next look)',
  })
  driver: string | null;
  @Field(() => String, { nullable: true, description: 'The upgrade run it belongs to, if any' })
  taskId: string | null;
  @Field(() => DateTimeResolver, { description: 'When it was requested' }) createdAt: Date;
  @Field(() => DateTimeResolver, { nullable: true, description: 'When it ended (null while in progress)' })
  finishedAt: Date | null;
}

@ObjectType({ description: 'A cluster and the cursor that names its place in the list' })
export class ClusterEdge {
  @Field(() => String, { description: 'Pass as `after` to get the clusters that follow this one' })
  cursor: string;
  @Field(() => Cluster, { description: 'The cluster' }) node: Cluster;
}

@ObjectType({ description: 'Where a page of a connection is (Relay cursor connections)' })
export class PageInfo {
  @Field(() => Boolean, { description: 'Whether more clusters follow this page' }) hasNextPage: boolean;
  @Field(() => String, { nullable: true, description: 'The cursor of the last edge of this page' })
  endCursor: string | null;
}

@ObjectType({ description: 'A page of clusters in name order' })
export class ClusterConnection {
  @Field(() => [ClusterEdge], { description: 'The clusters of this page, each with its cursor' })
  edges: ClusterEdge[];
  @Field(() => PageInfo, { description: 'Where this page is, and whether another follows' })
  pageInfo: PageInfo;
  @Field(() => Int, { description: 'Every cluster you can see, on all pages' }) totalCount: number;
}

@ObjectType({ description: 'An NSX-T network profile' })
export class NetworkProfile {
  @Field(() => String, { description: 'The profile’s name, passed as networkProfileName' }) name: string;
  @Field(() => String, { description: 'What the profile is for' }) description: string;
  @Field(() => JSONObjectResolver, { description: 'The NSX-T parameters (lb_size, nodes_dns, …)' })
  parameters: Record<string, unknown>;
  @Field(() => DateTimeResolver, { description: 'When the profile was created' }) createdAt: Date;
}

@ObjectType({ description: 'A kubeconfig for a cluster, and its parts' })
export class Credentials {
  @Field(() => String, { description: 'The cluster' }) clusterName: string;
  @Field(() => String, { description: 'The kubeconfig as YAML' }) kubeconfig: string;
  @Field(() => String, { description: 'The Kubernetes API’s URL' }) server: string;
  @Field(() => String, { description: 'PEM of the cluster CA' }) certificateAuthority: string;
  @Field(() => String, { description: 'The kubeconfig user (your UAA user, signing in with OIDC)' })
  userName: string;
  @Field(() => String, { description: 'The kubeconfig context, named after the cluster' })
  contextName: string;
}

@ObjectType({ description: 'One cluster of an upgrade run' })
export class TaskCluster {
  @Field(() => String, { description: 'The cluster' }) clusterName: string;
  @Field(() => Boolean, { description: 'Upgraded first, one at a time; a failed canary stops the run' })
  isCanary: boolean;
  @Field(() => String, {
    description:
      'The cluster’s upgrade in this run: queued, in progress, succeeded, failed, or canceled (never started)',
  })
  lastActionState: string;
  @Field(() => String, { description: 'What happened to the cluster in this run' }) description: string;
  @Field(() => DateTimeResolver, {
    nullable: true,
    description: 'When its upgrade started (null while waiting)',
  })
  startedAt: Date | null;
  @Field(() => DateTimeResolver, { nullable: true, description: 'When its upgrade ended' })
  finishedAt: Date | null;
}

@ObjectType({ description: 'An upgrade run over several clusters (PKS TaskInfo)' })
export class Task {
  @Field(() => ID, { description: 'The run’s id' }) id: string;
  @Field(() => String, { description: 'What kind of run: upgrade' }) type: string;
  @Field(() => String, { description: 'not started, in progress, canceled or done' }) status: string;
  @Field(() => String, {
    description: 'Who started the run: a user, or "operator" for an upgrade-all started on the broker',
  })
  owner: string;
  @Field(() => Int, { description: 'How many clusters are upgraded at once after the canaries' })
  maxInFlight: number;
  @Field(() => [TaskCluster], { description: 'Each cluster of the run, in order' }) clusters: TaskCluster[];
  @Field(() => DateTimeResolver, { description: 'When the run was started' }) createdAt: Date;
  @Field(() => DateTimeResolver, { nullable: true, description: 'When the run ended (null while it runs)' })
  finishedAt: Date | null;
}

@ObjectType({ description: 'A change someone made, and how it ended' })
export class AuditEvent {
  @Field(() => ID, { description: 'The entry’s id' }) id: string;
  @Field(() => DateTimeResolver, { description: 'When it happened' }) at: Date;
  @Field(() => String, { description: 'Who did it: a user name or a client id' }) actor: string;
  @Field(() => String, { description: 'The OAuth client the call came through' }) clientId: string;
  @Field(() => String, { description: 'The operation: createCluster, deleteCluster, …' }) action: string;
  @Field(() => String, { nullable: true, description: 'What it was done to (a cluster or profile name)' })
  target: string | null;
  @Field(() => JSONObjectResolver, { description: 'The parameters, without secrets' })
  parameters: Record<string, unknown>;
  @Field(() => String, { description: 'succeeded or failed' }) outcome: string;
  @Field(() => String, { nullable: true, description: 'Why it failed: the GraphQL error code' }) errorCode:
    string | null;
  @Field(() => String, { nullable: true, description: 'The error message, when it failed' }) message:
    string | null;
}

@InputType({ description: 'A new cluster: its name, plan and Kubernetes API hostname' })
export class CreateClusterInput {
  @Field(() => String, { description: 'A DNS label: lowercase letters, digits and hyphens, at most 40' })
  name: string;
  @Field(() => String, { description: 'One of the plans' }) planName: string;
  @Field(() => String, { description: 'DNS name or IPv4 address of the Kubernetes API' })
  externalHostname: string;
  @Field(() => Int, { nullable: true, description: 'Workers; default: the plan’s' }) numNodes?: number | null;
  @Field(() => String, { nullable: true, description: 'A network profile to apply (NSX-T installations)' })
  networkProfileName?: string | null;
}

@InputType({
  description: 'Kubelet drain settings to override for one cluster (strings, as the PKS CLI passes them)',
})
export class DrainInput {
  @Field(() => String, { nullable: true, description: 'Minutes, 0-1440; 0 waits forever' })
  kubeletDrainTimeout?: string;
  @Field(() => String, { nullable: true, description: 'Seconds, -1-86400; -1 uses each pod’s own' })
  kubeletDrainGracePeriod?: string;
  @Field(() => String, {
    nullable: true,
    description: 'true or false: delete pods that no controller manages',
  })
  kubeletDrainForce?: string;
  @Field(() => String, { nullable: true, description: 'true or false: drain even when DaemonSet pods run' })
  kubeletDrainIgnoreDaemonsets?: string;
  @Field(() => String, {
    nullable: true,
    description: 'true or false: drain even when pods use emptyDir volumes',
  })
  kubeletDrainDeleteLocalData?: string;
  @Field(() => String, { nullable: true, description: 'true or false: go on if the drain times out' })
  kubeletDrainForceNode?: string;
}

@InputType({ description: 'What to change on a cluster; fields left out keep their value' })
export class UpdateClusterInput {
  @Field(() => Int, { nullable: true, description: 'Worker nodes, from 1 to the plan’s maximum' }) numNodes?:
    number | null;
  @Field(() => String, { nullable: true, description: 'A network profile to apply' }) networkProfileName?:
    string | null;
  @Field(() => DrainInput, { nullable: true, description: 'Drain settings for this cluster' })
  drain?: DrainInput | null;
}

@InputType({ description: 'An upgrade run: which clusters, which of them first, how many at once' })
export class UpgradeClustersInput {
  @Field(() => [String], { description: 'The clusters to upgrade' }) clusters: string[];
  @Field(() => [String], {
    nullable: true,
    description: 'Of those, the ones to upgrade first, one at a time',
  })
  canaries?: string[] | null;
  @Field(() => Int, {
    nullable: true,
    defaultValue: 1,
    description: 'How many clusters to upgrade at once after the canaries (1-100)',
  })
  maxInFlight?: number | null;
}

@ObjectType({
  description: 'An owner’s limits over all their live clusters; null is no limit on that resource',
})
export class QuotaLimit {
  @Field(() => Int, { nullable: true, description: 'Clusters (at least 1); null: no limit' })
  cluster: number | null;
  @Field(() => Int, {
    nullable: true,
    description: 'CPUs of all masters and workers (0 blocks creating clusters); null: no limit',
  })
  cpu: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'Memory of all masters and workers in GB (0 blocks creating clusters); null: no limit',
  })
  memory: number | null;
}

@ObjectType({ description: 'A quota: the limits of one owner’s clusters (admins are exempt from their own)' })
export class Quota {
  @Field(() => String, { description: 'The UAA user the limits apply to' }) owner: string;
  @Field(() => QuotaLimit, { description: 'The limits' }) limit: QuotaLimit;
  @Field(() => DateTimeResolver, { description: 'When it was first set' }) createdAt: Date;
  @Field(() => DateTimeResolver, { description: 'When it last changed' }) updatedAt: Date;
}

@InputType({
  description:
    'Limits. setQuota and createQuota: at least one, an absent or null field is no limit. updateQuota: ' +
    'the fields to change, null removing that limit (at least one must remain)',
})
export class QuotaLimitInput {
  @Field(() => Int, { nullable: true, description: 'Clusters, at least 1' }) cluster?: number | null;
  @Field(() => Int, { nullable: true, description: 'CPUs, 0 or more' }) cpu?: number | null;
  @Field(() => Float, { nullable: true, description: 'Memory in GB, 0 or more' }) memory?: number | null;
}

@ObjectType({ description: 'What one cluster is allocated: its masters’ and workers’ VM types' })
export class ClusterUsage {
  @Field(() => String, { description: 'The cluster' }) name: string;
  @Field(() => String, { description: 'Its plan' }) planName: string;
  @Field(() => Int, { description: 'The workers it is to have (its spec)' }) workerInstances: number;
  @Field(() => Int, { description: 'CPUs of its VMs' }) cpu: number;
  @Field(() => Float, { description: 'Memory of its VMs in GB' }) memory: number;
}

@ObjectType({ description: 'What an owner’s live clusters are allocated' })
export class UsageTotals {
  @Field(() => Int, { description: 'Live clusters' }) cluster: number;
  @Field(() => Int, { description: 'CPUs' }) cpu: number;
  @Field(() => Float, { description: 'Memory in GB' }) memory: number;
}

@ObjectType({ description: 'An owner’s usage, against their quota' })
export class Usage {
  @Field(() => String, { description: 'The owner' }) owner: string;
  @Field(() => UsageTotals, { description: 'The sum over their live clusters' }) totals: UsageTotals;
  @Field(() => [ClusterUsage], { description: 'Each live cluster, by name' }) clusters: ClusterUsage[];
  @Field(() => QuotaLimit, { nullable: true, description: 'Their limits; null when they have no quota' })
  limit: QuotaLimit | null;
}

@InputType({ description: 'A new NSX-T network profile' })
export class NetworkProfileInput {
  @Field(() => String, { description: 'The profile’s name' }) name: string;
  @Field(() => String, { nullable: true, description: 'What the profile is for' }) description?:
    string | null;
  @Field(() => JSONObjectResolver, { description: 'The NSX-T parameters (lb_size, nodes_dns, …)' })
  parameters: Record<string, unknown>;
}

registerEnumType(ClusterFeedEventType, {
  name: 'ClusterFeedEventType',
  description: 'What a fleet-feed message says happened',
  valuesConfig: {
    ADDED: {
      description: 'A cluster appeared: its create was requested, or it exists as the feed (re)starts',
    },
    MODIFIED: { description: 'A cluster changed state, or its Director task made progress' },
    DELETED: { description: 'A cluster was deleted: remove it' },
    SYNCED: { description: 'Everything up to here has been sent: your view of the fleet is complete' },
    RESYNC: {
      description:
        'The resume point is too old or unknown: drop every cluster you hold; the full list follows',
    },
    TASK: {
      description:
        'An upgrade run started or advanced: `task` holds it as it is now (every run you may see is also sent before SYNCED)',
    },
  },
});

@ObjectType({
  description:
    'One message of the fleet feed: a cluster added, changed or deleted, or a sync marker, with the point to resume after it',
})
export class ClusterFeedEvent {
  @Field(() => ClusterFeedEventType, {
    description: 'What happened: ADDED, MODIFIED, DELETED, TASK, SYNCED or RESYNC',
  })
  type: ClusterFeedEventType;
  @Field(() => String, {
    description: 'Pass as `after` when you subscribe again, to get only what happened after this message',
  })
  cursor: string;
  @Field(() => String, { nullable: true, description: 'The cluster concerned (null for SYNCED and RESYNC)' })
  clusterName?: string | undefined;
  @Field(() => ID, { nullable: true, description: 'The cluster concerned (null for SYNCED and RESYNC)' })
  clusterUuid?: string | undefined;
  @Field(() => Cluster, {
    nullable: true,
    description: 'The cluster as it is now (null for DELETED, SYNCED and RESYNC)',
  })
  cluster?: Cluster | undefined;
  @Field(() => ClusterEvent, {
    nullable: true,
    description: 'The state change or progress behind this message (null in the list sent at the start)',
  })
  event?: ClusterEvent | undefined;
  @Field(() => Task, { nullable: true, description: 'The upgrade run, for TASK messages' })
  task?: Task | undefined;
}
