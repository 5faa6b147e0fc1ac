import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ClusterFeedEventType } from '../services/clusterFeed.js';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';

// Every field names its type explicitly: vitest's transpiler emits no decorator metadata.

@ObjectType({ description: 'The caller, as the API sees its token' })
export class Me {
  @Field(() => String) name: string;
  @Field(() => String) clientId: string;
  @Field(() => [String]) scopes: string[];
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
  @Field(() => Boolean) kubeletDrainForce: boolean;
  @Field(() => Boolean) kubeletDrainIgnoreDaemonsets: boolean;
  @Field(() => Boolean) kubeletDrainDeleteLocalData: boolean;
  @Field(() => Boolean) kubeletDrainForceNode: boolean;
}

@ObjectType({ description: 'A cluster plan the operator configured (read-only through the API)' })
export class Plan {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => Int) masterInstances: number;
  @Field(() => String) masterVmType: string;
  @Field(() => Int, { description: 'Default worker count of a new cluster' }) workerInstances: number;
  @Field(() => Int, { description: 'The most workers a cluster on this plan may have' })
  maxWorkerInstances: number;
  @Field(() => String) workerVmType: string;
  @Field(() => [String]) azs: string[];
  @Field(() => Boolean) allowPrivilegedContainers: boolean;
  @Field(() => DrainSettings) drain: DrainSettings;
}

@ObjectType({ description: 'A state change of a cluster, or a line of its Director task’s progress' })
export class ClusterEvent {
  @Field(() => String) clusterName: string;
  @Field(() => String) clusterUuid: string;
  @Field(() => String, { description: 'STATE or PROGRESS' }) kind: string;
  @Field(() => DateTimeResolver) at: Date;
  @Field(() => String) lastAction: string;
  @Field(() => String) lastActionState: string;
  @Field(() => String) description: string;
  @Field(() => String, { nullable: true }) stage?: string | undefined;
  @Field(() => String, { nullable: true }) task?: string | undefined;
  @Field(() => Int, { nullable: true }) index?: number | undefined;
  @Field(() => Int, { nullable: true }) total?: number | undefined;
  @Field(() => Int, { nullable: true, description: 'Percent, 0-100' }) progress?: number | undefined;
}

@ObjectType({ description: 'NSX-T details of a cluster’s network profile' })
export class NsxDetails {
  @Field(() => String, { nullable: true }) lbSize?: string | undefined;
  @Field(() => [String], { nullable: true }) nodesDns?: string[] | undefined;
  @Field(() => Boolean, { nullable: true }) nodeRoutable?: boolean | undefined;
  @Field(() => Int, { nullable: true }) nodeSubnetPrefix?: number | undefined;
  @Field(() => Boolean, { nullable: true }) podRoutable?: boolean | undefined;
  @Field(() => Int, { nullable: true }) podSubnetPrefix?: number | undefined;
  @Field(() => String, { nullable: true }) t0RouterId?: string | undefined;
  @Field(() => [String], { nullable: true }) fipPoolIds?: string[] | undefined;
  @Field(() => [String], { nullable: true }) nodeIpBlockIds?: string[] | undefined;
  @Field(() => [String], { nullable: true }) podIpBlockIds?: string[] | undefined;
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
  @Field(() => Int) index: number;
  @Field(() => String, { description: 'The BOSH instance id' }) id: string;
  @Field(() => [String]) ips: string[];
  @Field(() => String, {
    description: 'The Director’s process_state, e.g. running, failing, stopped (unknown while it has no VM)',
  })
  state: string;
  @Field(() => String, { nullable: true }) vmType: string | null;
  @Field(() => String, { nullable: true }) az: string | null;
}

@ObjectType({ description: 'A Kubernetes cluster (PKS Cluster)' })
export class Cluster {
  @Field(() => String) name: string;
  @Field(() => ID) uuid: string;
  @Field(() => String) planName: string;
  @Field(() => String) owner: string;
  @Field(() => String, { description: 'CREATE, UPDATE, UPGRADE or DELETE' }) lastAction: string;
  @Field(() => String, { description: 'in progress, succeeded, failed or queued' }) lastActionState: string;
  @Field(() => String) lastActionDescription: string;
  @Field(() => String) kubernetesMasterHost: string;
  @Field(() => Int) kubernetesMasterPort: number;
  @Field(() => [String], { description: 'Empty while the cluster is being created' })
  kubernetesMasterIps: string[];
  @Field(() => Int) workerInstances: number;
  @Field(() => String, { nullable: true }) networkProfileName: string | null;
  @Field(() => String, { nullable: true }) k8sVersion: string | null;
  @Field(() => String) pksVersion: string;
  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: 'kubelet drain settings set on the cluster',
  })
  drain: Record<string, string> | null;
  @Field(() => NsxDetails, { nullable: true }) nsxDetails: NsxDetails | null;
  @Field(() => DateTimeResolver) createdAt: Date;
  @Field(() => DateTimeResolver) updatedAt: Date;
  // events, nsxDetails' allocation and nodes: resolved by field resolvers (the api schema, the Director)
}

@ObjectType({ description: 'A cluster and the cursor that names its place in the list' })
export class ClusterEdge {
  @Field(() => String, { description: 'Pass as `after` to get the clusters that follow this one' })
  cursor: string;
  @Field(() => Cluster) node: Cluster;
}

@ObjectType({ description: 'Where a page of a connection is (Relay cursor connections)' })
export class PageInfo {
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => String, { nullable: true, description: 'The cursor of the last edge of this page' })
  endCursor: string | null;
}

@ObjectType({ description: 'A page of clusters in name order' })
export class ClusterConnection {
  @Field(() => [ClusterEdge]) edges: ClusterEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
  @Field(() => Int, { description: 'Every cluster you can see, on all pages' }) totalCount: number;
}

@ObjectType({ description: 'An NSX-T network profile' })
export class NetworkProfile {
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => JSONObjectResolver) parameters: Record<string, unknown>;
  @Field(() => DateTimeResolver) createdAt: Date;
}

@ObjectType({ description: 'A kubeconfig for a cluster, and its parts' })
export class Credentials {
  @Field(() => String) clusterName: string;
  @Field(() => String, { description: 'The kubeconfig as YAML' }) kubeconfig: string;
  @Field(() => String) server: string;
  @Field(() => String, { description: 'PEM of the cluster CA' }) certificateAuthority: string;
  @Field(() => String) userName: string;
  @Field(() => String) contextName: string;
}

@ObjectType({ description: 'One cluster of an upgrade run' })
export class TaskCluster {
  @Field(() => String) clusterName: string;
  @Field(() => Boolean) isCanary: boolean;
  @Field(() => String) lastActionState: string;
  @Field(() => String) description: string;
  @Field(() => DateTimeResolver, { nullable: true }) startedAt: Date | null;
  @Field(() => DateTimeResolver, { nullable: true }) finishedAt: Date | null;
}

@ObjectType({ description: 'An upgrade run over several clusters (PKS TaskInfo)' })
export class Task {
  @Field(() => ID) id: string;
  @Field(() => String) type: string;
  @Field(() => String, { description: 'not started, in progress, canceled or done' }) status: string;
  @Field(() => String, {
    description: 'Who started the run: a user, or "operator" for an upgrade-all started on the broker',
  })
  owner: string;
  @Field(() => Int) maxInFlight: number;
  @Field(() => [TaskCluster]) clusters: TaskCluster[];
  @Field(() => DateTimeResolver) createdAt: Date;
  @Field(() => DateTimeResolver, { nullable: true }) finishedAt: Date | null;
}

@ObjectType({ description: 'A change someone made, and how it ended' })
export class AuditEvent {
  @Field(() => ID) id: string;
  @Field(() => DateTimeResolver) at: Date;
  @Field(() => String) actor: string;
  @Field(() => String) clientId: string;
  @Field(() => String) action: string;
  @Field(() => String, { nullable: true }) target: string | null;
  @Field(() => JSONObjectResolver, { description: 'The parameters, without secrets' })
  parameters: Record<string, unknown>;
  @Field(() => String) outcome: string;
  @Field(() => String, { nullable: true }) errorCode: string | null;
  @Field(() => String, { nullable: true }) message: string | null;
}

@InputType()
export class CreateClusterInput {
  @Field(() => String) name: string;
  @Field(() => String) planName: string;
  @Field(() => String, { description: 'DNS name or IPv4 address of the Kubernetes API' })
  externalHostname: string;
  @Field(() => Int, { nullable: true, description: 'Workers; default: the plan’s' }) numNodes?: number | null;
  @Field(() => String, { nullable: true }) networkProfileName?: string | null;
}

@InputType()
export class DrainInput {
  @Field(() => String, { nullable: true }) kubeletDrainTimeout?: string;
  @Field(() => String, { nullable: true }) kubeletDrainGracePeriod?: string;
  @Field(() => String, { nullable: true }) kubeletDrainForce?: string;
  @Field(() => String, { nullable: true }) kubeletDrainIgnoreDaemonsets?: string;
  @Field(() => String, { nullable: true }) kubeletDrainDeleteLocalData?: string;
  @Field(() => String, { nullable: true }) kubeletDrainForceNode?: string;
}

@InputType()
export class UpdateClusterInput {
  @Field(() => Int, { nullable: true }) numNodes?: number | null;
  @Field(() => String, { nullable: true }) networkProfileName?: string | null;
  @Field(() => DrainInput, { nullable: true }) drain?: DrainInput | null;
}

@InputType()
export class UpgradeClustersInput {
  @Field(() => [String]) clusters: string[];
  @Field(() => [String], { nullable: true }) canaries?: string[] | null;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) maxInFlight?: number | null;
}

@InputType()
export class NetworkProfileInput {
  @Field(() => String) name: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => JSONObjectResolver) parameters: Record<string, unknown>;
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
  @Field(() => ClusterFeedEventType) type: ClusterFeedEventType;
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
