// type-graphql's decorators need the Reflect metadata API before they run, whoever imports this first.
import 'reflect-metadata';
import {
  Arg,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { stringify } from 'yaml';
import { InputError, InternalError, NotFoundError, type Plan as DomainPlan } from '@openpks/domain';
import { access, clusterNotFound } from '../services/access.js';
import type { ClusterFeedItem } from '../services/clusterFeed.js';
import { instanceGroupsOf, masterIpsOf, runningIn } from '../clusters/status.js';
import { MAX_CLUSTER_PAGE } from '../services/clusterQueries.js';
import { MAX_LISTED_OPERATIONS } from '../services/operationService.js';
import {
  CLUSTER_EVENTS_CHANNEL,
  TASK_EVENTS_CHANNEL,
  type ClusterEventMessage,
  type TaskEventMessage,
} from '../services/events.js';
import type { NsxtNetworkDetails } from '@openpks/nsx';
import type { ClusterRecord } from '../store/clusterStore.js';
import type { NetworkProfileRecord } from '../store/networkProfileStore.js';
import type { TaskRecord } from '../services/taskService.js';
import { requireCaller, type ApiContext } from './context.js';
import { iteratorOver, keyedChannelMessages } from './iterate.js';
import { loadersOf } from './loaders.js';
import { OBSERVED_FIELDS, selectsAny } from './selection.js';
import {
  AuditEvent,
  Cluster,
  ClusterConnection,
  ClusterEvent,
  ClusterFeedEvent,
  ClusterNode,
  ClusterOperation,
  CreateClusterInput,
  Credentials,
  Me,
  NetworkProfile,
  NetworkProfileInput,
  NsxDetails,
  Plan,
  Quota,
  QuotaLimitInput,
  Task,
  UpdateClusterInput,
  Usage,
  UpgradeClustersInput,
} from './types.js';

// Resolvers translate between GraphQL and the services; every rule lives in the services.

function planOf(p: DomainPlan): Plan {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    masterInstances: p.master.instances,
    masterVmType: p.master.vmType,
    workerInstances: p.worker.instances,
    maxWorkerInstances: p.worker.maxInstances,
    workerVmType: p.worker.vmType,
    masterCpu: p.master.cpu,
    masterMemory: p.master.ramMb / 1024,
    workerCpu: p.worker.cpu,
    workerMemory: p.worker.ramMb / 1024,
    azs: p.worker.azs,
    allowPrivilegedContainers: p.allowPrivileged,
    drain: { ...p.drain },
  };
}

function nsxOf(parameters: Record<string, unknown> | undefined): NsxDetails | null {
  if (parameters === undefined) return null;
  const p = parameters as Record<string, never>;
  return {
    lbSize: p.lb_size,
    nodesDns: p.nodes_dns,
    nodeRoutable: p.node_routable,
    nodeSubnetPrefix: p.node_subnet_prefix,
    podRoutable: p.pod_routable,
    podSubnetPrefix: p.pod_subnet_prefix,
    t0RouterId: p.t0_router_id,
    fipPoolIds: p.fip_pool_ids,
    nodeIpBlockIds: p.node_ip_block_ids,
    podIpBlockIds: p.pod_ip_block_ids,
  };
}

function allocationOf(details: Record<string, unknown> | null): Partial<NsxDetails> {
  if (details === null) return {};
  const d = details as Partial<NsxtNetworkDetails>;
  return {
    t0RouterId: d.t0_router_id,
    nodeSubnet: d.node_subnet,
    tier1RouterId: d.tier1_router_id,
    lbServiceId: d.lb_service_id,
    lbSize: d.lb_size,
    floatingIps: d.floating_ips && Object.values(d.floating_ips),
    networkDetails: details,
  };
}

function clusterOf(c: ClusterRecord): Cluster {
  const status = c.status;
  return {
    name: c.name,
    uuid: c.uuid,
    planName: c.planName,
    owner: c.owner,
    lastAction: c.lastAction,
    lastActionState: c.lastActionState,
    lastActionDescription: c.lastActionDescription,
    kubernetesMasterHost: c.masterHost,
    kubernetesMasterPort: c.masterPort,
    kubernetesMasterIps: c.masterIps,
    workerInstances: c.workerInstances,
    networkProfileName: c.networkProfileName,
    k8sVersion: c.k8sVersion,
    pksVersion: c.pksVersion,
    drain: c.drain,
    nsxDetails: null,
    spec: {
      generation: c.generation,
      planName: c.planName,
      kubernetesMasterHost: c.masterHost,
      kubernetesMasterPort: c.masterPort,
      workerInstances: c.workerInstances,
      networkProfileName: c.networkProfileName,
      drain: c.drain,
      pksVersion: c.wantedPksVersion,
      kubernetesVersion: c.wantedK8sVersion,
    },
    status: {
      observedGeneration: c.observedGeneration,
      observedAt: status === null ? null : new Date(status.observedAt),
      deployed: status?.deployed ?? false,
      workerInstances: status === null ? 0 : runningIn(status, 'worker'),
      instanceGroups: status === null ? [] : instanceGroupsOf(status),
      instances: (status?.instances ?? []).map((i) => ({
        instanceGroup: i.group,
        index: i.index,
        id: i.id,
        state: i.state,
        ips: i.ips,
      })),
      kubernetesMasterIps: status === null ? [] : masterIpsOf(status),
      releases: (status?.releases ?? []).map((r) => `${r.name}/${r.version}`),
      pksVersion: status?.pksVersion ?? null,
      kubernetesVersion: status?.kubernetesVersion ?? null,
    },
    conditions: c.conditions.map((condition) => ({
      ...condition,
      lastTransitionTime: new Date(condition.lastTransitionTime),
    })),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The most events (a cluster's, or audit events) one list field serves; a larger `limit` is cut to it. */
export const MAX_EVENTS_LIMIT = 500;

const CURSOR_PREFIX = 'cluster:';

/** An opaque cursor: the cluster's name (names order the list and are unique among live clusters). */
function cursorOfCluster(name: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${name}`, 'utf8').toString('base64url');
}

function clusterNameOfCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith(CURSOR_PREFIX) || decoded.length === CURSOR_PREFIX.length) {
    throw new InputError('after', 'is not a cursor this API issued');
  }
  return decoded.slice(CURSOR_PREFIX.length);
}

function eventOf(e: ClusterEventMessage): ClusterEvent {
  return { ...e, at: new Date(e.at) };
}

function profileOf(p: NetworkProfileRecord): NetworkProfile {
  return { ...p };
}

function taskOf(t: TaskRecord): Task {
  return { ...t };
}

@Resolver()
export class MeResolver {
  @Query(() => Me, { description: 'Who the API thinks you are' })
  me(@Ctx() ctx: ApiContext): Me {
    const caller = requireCaller(ctx);
    return {
      name: caller.name,
      clientId: caller.clientId,
      scopes: [...caller.scopes],
      readsAllClusters: access.readsAll(caller),
      changesAllClusters: access.changesAll(caller),
    };
  }

  @Query(() => [AuditEvent], { description: 'Recent changes: all for admins, your own otherwise' })
  async auditEvents(
    @Ctx() ctx: ApiContext,
    @Arg('limit', () => Int, {
      defaultValue: 50,
      description: 'How many entries, newest first (at most 500)',
    })
    limit: number,
  ): Promise<AuditEvent[]> {
    return ctx.services.auditEvents(requireCaller(ctx), Math.min(Math.max(limit, 1), MAX_EVENTS_LIMIT));
  }
}

@Resolver()
export class PlanResolver {
  @Query(() => String, {
    description:
      'The PKS version this installation runs; clusters whose pksVersion differs can be upgraded to it',
  })
  pksVersion(@Ctx() ctx: ApiContext): string {
    return ctx.services.changes.pksVersion(requireCaller(ctx));
  }

  @Query(() => [Plan], { description: 'The plans you may create clusters from' })
  plans(@Ctx() ctx: ApiContext): Plan[] {
    return ctx.services.clusters.plans(requireCaller(ctx)).map(planOf);
  }

  @Query(() => Plan, { description: 'One plan, by name' })
  plan(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The plan’s name' }) name: string,
  ): Plan {
    return planOf(ctx.services.clusters.plan(requireCaller(ctx), name));
  }
}

@Resolver(() => Cluster)
export class ClusterResolver {
  @Query(() => [Cluster], { description: 'Your clusters (every cluster for admin and admin.read)' })
  async clusters(@Ctx() ctx: ApiContext): Promise<Cluster[]> {
    return (await ctx.services.clusters.list(requireCaller(ctx))).map(clusterOf);
  }

  @Query(() => Cluster, {
    description:
      'One cluster, by name (NOT_FOUND when you may not see it); asking for its status or conditions reads ' +
      'its status from the Director now',
  })
  async cluster(
    @Ctx() ctx: ApiContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('name', () => String, { description: 'The cluster’s name' }) name: string,
  ): Promise<Cluster> {
    const caller = requireCaller(ctx);
    // Details (status, conditions) are what the Director runs now: one read of the deployment. The rest of
    // a cluster, and every list, is the record as last written.
    const observed = selectsAny(info, OBSERVED_FIELDS);
    return clusterOf(
      observed
        ? await ctx.services.clusters.details(caller, name)
        : await ctx.services.clusters.get(caller, name),
    );
  }

  @Query(() => ClusterConnection, {
    description:
      'Your clusters a page at a time, in name order (every cluster for admin and admin.read); ' +
      `first: 0 to ${MAX_CLUSTER_PAGE}, after: a cursor from a previous page`,
  })
  async clustersConnection(
    @Ctx() ctx: ApiContext,
    @Arg('first', () => Int, { defaultValue: 50, description: 'How many clusters on this page' })
    first: number,
    @Arg('after', () => String, {
      nullable: true,
      description: 'The cursor of the last edge you have; omit for the first page',
    })
    after?: string | null,
  ): Promise<ClusterConnection> {
    const page = await ctx.services.clusters.page(requireCaller(ctx), {
      first,
      after: after === undefined || after === null ? undefined : clusterNameOfCursor(after),
    });
    const edges = page.clusters.map((c) => ({ cursor: cursorOfCluster(c.name), node: clusterOf(c) }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  @FieldResolver(() => [ClusterEvent], { description: 'Recent progress, oldest first' })
  async events(
    @Root() cluster: Cluster,
    @Ctx() ctx: ApiContext,
    @Arg('limit', () => Int, { defaultValue: 50, description: 'How many of the most recent events' })
    limit: number,
  ): Promise<ClusterEvent[]> {
    // Batched across the clusters of the request (one query for a whole list, not one per cluster).
    const loaders = loadersOf(ctx);
    const record = await loaders.cluster.load(cluster.name);
    if (record === undefined) throw clusterNotFound(cluster.name);
    const events = await loaders.events.load({
      uuid: record.uuid,
      limit: Math.min(Math.max(limit, 1), MAX_EVENTS_LIMIT),
    });
    return events.map(eventOf);
  }

  // Nullable on purpose: a Director failure nulls this field with an INTERNAL error beside it; as a
  // non-null list the null would travel up to the (non-null) cluster and take the whole answer with it.
  @FieldResolver(() => [ClusterNode], {
    nullable: true,
    description:
      'The cluster’s VMs as the BOSH Director reports them; empty without a deployment (no Director, ' +
      'deleted, failed create); null with an INTERNAL error on this field alone when the Director cannot list them',
  })
  async nodes(@Root() cluster: Cluster, @Ctx() ctx: ApiContext): Promise<ClusterNode[] | null> {
    // The Cluster was authorised when it was resolved; look it up through the caller's loader again for
    // its uuid, so a cluster the caller may not see never reaches the Director.
    const loaders = loadersOf(ctx);
    const record = await loaders.cluster.load(cluster.name);
    if (record === undefined) throw clusterNotFound(cluster.name);
    return loaders.nodes.load(record.uuid);
  }

  @FieldResolver(() => NsxDetails, {
    nullable: true,
    description: 'NSX-T details of the cluster’s network, when the installation uses NSX-T',
  })
  async nsxDetails(@Root() cluster: Cluster, @Ctx() ctx: ApiContext): Promise<NsxDetails | null> {
    // What the cluster runs with (after allowed profile updates) and what the NSX proxy step allocated.
    const loaders = loadersOf(ctx);
    const record = await loaders.cluster.load(cluster.name);
    if (record === undefined) throw clusterNotFound(cluster.name);
    const network = await loaders.network.load(record.uuid);
    if (network !== undefined)
      return { ...nsxOf(network.profileParameters), ...allocationOf(network.details) };
    if (cluster.networkProfileName === null) return null;
    const profile = await loaders.profile.load(cluster.networkProfileName);
    if (profile === undefined)
      throw new NotFoundError(`Network profile ${cluster.networkProfileName} not found`);
    return nsxOf(profile.parameters);
  }

  @Mutation(() => Cluster, { description: 'Starts creating a cluster; follow it with clusterEvents' })
  async createCluster(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => CreateClusterInput, { description: 'The new cluster' }) input: CreateClusterInput,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.changes.create(requireCaller(ctx), input));
  }

  @Mutation(() => Cluster, {
    description: 'Changes a cluster’s worker count, network profile or drain settings',
  })
  async updateCluster(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster to change' }) name: string,
    @Arg('input', () => UpdateClusterInput, { description: 'What to change' }) input: UpdateClusterInput,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.changes.update(requireCaller(ctx), name, input));
  }

  @Mutation(() => Cluster, { description: 'Changes a cluster’s worker count (pks resize)' })
  async resizeCluster(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster to resize' }) name: string,
    @Arg('numNodes', () => Int, { description: 'Worker nodes, from 1 to the plan’s maximum' })
    numNodes: number,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.changes.resize(requireCaller(ctx), name, numNodes));
  }

  @Mutation(() => Cluster, {
    description: 'Upgrades one cluster to this installation’s Kubernetes and PKS version',
  })
  async upgradeCluster(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster to upgrade' }) name: string,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.changes.upgrade(requireCaller(ctx), name));
  }

  @Mutation(() => Cluster, { description: 'Starts deleting a cluster and every VM and disk of it' })
  async deleteCluster(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster to delete' }) name: string,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.changes.delete(requireCaller(ctx), name));
  }

  @Query(() => [ClusterOperation], {
    description:
      'Admins and admin.read: cluster operations, newest first — those in progress (what may be stuck), or all recent ones',
  })
  async clusterOperations(
    @Ctx() ctx: ApiContext,
    @Arg('inProgress', () => Boolean, {
      defaultValue: true,
      description: 'Only operations in progress (false: finished ones too)',
    })
    inProgress: boolean,
    @Arg('clusterName', () => String, { nullable: true, description: 'Only this cluster’s' })
    clusterName: string | null | undefined,
    @Arg('limit', () => Int, {
      defaultValue: 50,
      description: `How many, newest first (at most ${MAX_LISTED_OPERATIONS})`,
    })
    limit: number,
  ): Promise<ClusterOperation[]> {
    const listed = await ctx.services.operations.list(requireCaller(ctx), {
      clusterName: clusterName ?? undefined,
      inProgress,
      limit,
    });
    return listed.map(({ operation: o, clusterName: name }) => ({
      id: o.id,
      clusterName: name,
      kind: o.kind,
      phase: o.phase,
      state: o.state,
      description: o.description,
      originatingUser: o.originatingUser,
      driver: o.holder,
      taskId: o.taskId,
      createdAt: o.createdAt,
      finishedAt: o.finishedAt,
    }));
  }

  @Mutation(() => Cluster, {
    description:
      'Admins: drives the cluster’s stuck operation again now (re-sent to the broker if it was never acknowledged)',
  })
  async retryClusterOperation(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster whose operation is in progress' }) name: string,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.operations.retry(requireCaller(ctx), name));
  }

  @Mutation(() => Cluster, {
    description:
      'Admins: ends the cluster’s stuck operation as failed (the broker and Director are not stopped), so the ' +
      'cluster can be changed or deleted again',
  })
  async abandonClusterOperation(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster whose operation is in progress' }) name: string,
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why, for the record and the cluster’s state',
    })
    reason?: string | null,
  ): Promise<Cluster> {
    return clusterOf(await ctx.services.operations.abandon(requireCaller(ctx), name, reason ?? undefined));
  }

  @Mutation(() => Credentials, {
    description: 'A kubeconfig for the cluster (OIDC tokens need your password)',
  })
  async clusterCredentials(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The cluster' }) name: string,
    @Arg('password', () => String, {
      nullable: true,
      description: 'Your password: the kubeconfig carries OIDC tokens issued for you',
    })
    password?: string,
  ): Promise<Credentials> {
    const credentials = await ctx.services.changes.credentials(
      requireCaller(ctx),
      name,
      password ?? undefined,
    );
    return credentialsOf(name, credentials);
  }

  @Subscription(() => ClusterEvent, {
    description: 'State changes and Director progress of a cluster',
    subscribe: async ({ args, context }) => {
      const ctx = context as ApiContext;
      const caller = requireCaller(ctx);
      const visible = await ctx.services.clusters.watch(caller, args.name as string);
      // Keyed by cluster name: an event touches only that cluster's subscribers.
      return keyedChannelMessages<ClusterEventMessage, ClusterEventMessage>(
        ctx.services.pubsub,
        CLUSTER_EVENTS_CHANNEL,
        (event) => event.clusterName,
        args.name as string,
        (event) => (visible(event) ? event : undefined),
      );
    },
  })
  clusterEvents(
    @Root() event: ClusterEventMessage,
    @Arg('name', () => String, { description: 'The cluster to follow' }) _name: string,
  ): ClusterEvent {
    return eventOf(event);
  }

  @Subscription(() => ClusterFeedEvent, {
    description:
      'Every cluster you may see, as one feed: the current list (ADDED each) then SYNCED, then each cluster ' +
      'added, changed (state and progress) or deleted as it happens. Resubscribe with `after` set to the ' +
      'last cursor you got to receive only what you missed (or RESYNC and the list, when that is too old).',
    subscribe: async ({ args, context }) => {
      const ctx = context as ApiContext;
      const caller = requireCaller(ctx);
      return iteratorOver<ClusterFeedItem>((push) =>
        ctx.services.feed.open(caller, args.after as string | null | undefined, push),
      );
    },
  })
  clusterFeed(
    @Root() item: ClusterFeedItem,
    @Arg('after', () => String, {
      nullable: true,
      description: 'The cursor of the last message you received, to resume after it',
    })
    _after?: string | null,
  ): ClusterFeedEvent {
    return {
      type: item.type,
      cursor: item.cursor,
      clusterName: item.clusterName,
      clusterUuid: item.clusterUuid,
      cluster: item.cluster && clusterOf(item.cluster),
      event: item.event && eventOf(item.event),
      task: item.task && taskOf(item.task),
    };
  }
}

function credentialsOf(clusterName: string, credentials: Record<string, unknown>): Credentials {
  const kubeconfig = credentials.kubeconfig as
    | {
        clusters?: { name: string; cluster: Record<string, string> }[];
        users?: { name: string }[];
        'current-context'?: string;
      }
    | string
    | undefined;
  if (kubeconfig === undefined || typeof kubeconfig === 'string') {
    if (typeof kubeconfig === 'string') {
      return { clusterName, kubeconfig, server: '', certificateAuthority: '', userName: '', contextName: '' };
    }
    throw new InternalError('the broker returned no kubeconfig');
  }
  const cluster = kubeconfig.clusters?.[0]?.cluster ?? {};
  return {
    clusterName,
    kubeconfig: stringify(kubeconfig),
    server: cluster.server ?? '',
    certificateAuthority: Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64').toString('utf8'),
    userName: kubeconfig.users?.[0]?.name ?? '',
    contextName: kubeconfig['current-context'] ?? '',
  };
}

@Resolver()
export class NetworkProfileResolver {
  @Query(() => [NetworkProfile], { description: 'Every network profile' })
  async networkProfiles(@Ctx() ctx: ApiContext): Promise<NetworkProfile[]> {
    return (await ctx.services.networkProfiles.list(requireCaller(ctx))).map(profileOf);
  }

  @Query(() => NetworkProfile, { description: 'One network profile, by name' })
  async networkProfile(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The profile’s name' }) name: string,
  ): Promise<NetworkProfile> {
    return profileOf(await ctx.services.networkProfiles.get(requireCaller(ctx), name));
  }

  @Mutation(() => NetworkProfile, { description: 'Creates a network profile (admin)' })
  async createNetworkProfile(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => NetworkProfileInput, { description: 'The new profile' }) input: NetworkProfileInput,
  ): Promise<NetworkProfile> {
    return profileOf(await ctx.services.networkProfiles.create(requireCaller(ctx), input));
  }

  @Mutation(() => NetworkProfile, { description: 'Deletes a network profile no cluster uses (admin)' })
  async deleteNetworkProfile(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String, { description: 'The profile to delete' }) name: string,
  ): Promise<NetworkProfile> {
    return profileOf(await ctx.services.networkProfiles.delete(requireCaller(ctx), name));
  }
}

@Resolver()
export class QuotaResolver {
  @Query(() => [Quota], {
    description: 'Quotas: every owner’s for admins and admin.read, your own otherwise',
  })
  async quotas(@Ctx() ctx: ApiContext): Promise<Quota[]> {
    return ctx.services.quotas.list(requireCaller(ctx));
  }

  @Query(() => Quota, { description: 'One owner’s quota (yours without an owner)' })
  async quota(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { nullable: true, description: 'A UAA user name; default: you' })
    owner?: string | null,
  ): Promise<Quota> {
    return ctx.services.quotas.get(requireCaller(ctx), owner);
  }

  @Query(() => [Usage], {
    description: 'Usage against quotas: every owner’s for admins and admin.read, your own otherwise',
  })
  async usages(@Ctx() ctx: ApiContext): Promise<Usage[]> {
    return ctx.services.quotas.usages(requireCaller(ctx));
  }

  @Query(() => Usage, { description: 'One owner’s usage (yours without an owner)' })
  async usage(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { nullable: true, description: 'A UAA user name; default: you' })
    owner?: string | null,
  ): Promise<Usage> {
    return ctx.services.quotas.usage(requireCaller(ctx), owner);
  }

  @Mutation(() => Quota, { description: 'Sets (creates or replaces) an owner’s quota (admin)' })
  async setQuota(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { description: 'A UAA user name' }) owner: string,
    @Arg('limit', () => QuotaLimitInput, {
      description: 'The limits, at least one; a field not given (or null) is no limit',
    })
    limit: QuotaLimitInput,
  ): Promise<Quota> {
    return ctx.services.quotas.set(requireCaller(ctx), owner, { ...limit });
  }

  @Mutation(() => Quota, {
    description:
      'Creates an owner’s quota (admin), as POST /v1/quotas: CONFLICT when they have one, never replaced',
  })
  async createQuota(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { description: 'A UAA user name' }) owner: string,
    @Arg('limit', () => QuotaLimitInput, {
      description: 'The limits, at least one; a field not given (or null) is no limit',
    })
    limit: QuotaLimitInput,
  ): Promise<Quota> {
    return ctx.services.quotas.create(requireCaller(ctx), owner, { ...limit });
  }

  @Mutation(() => Quota, { description: 'Changes some limits of an owner’s existing quota (admin)' })
  async updateQuota(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { description: 'A UAA user name' }) owner: string,
    @Arg('limit', () => QuotaLimitInput, {
      description: 'The limits to change: a number sets it, null removes it (no limit), absent leaves it',
    })
    limit: QuotaLimitInput,
  ): Promise<Quota> {
    return ctx.services.quotas.update(requireCaller(ctx), owner, { ...limit });
  }

  @Mutation(() => Quota, { description: 'Deletes an owner’s quota: no limits for them any more (admin)' })
  async deleteQuota(
    @Ctx() ctx: ApiContext,
    @Arg('owner', () => String, { description: 'A UAA user name' }) owner: string,
  ): Promise<Quota> {
    return ctx.services.quotas.delete(requireCaller(ctx), owner);
  }
}

@Resolver()
export class TaskResolver {
  @Query(() => Task, { description: 'One upgrade run, by id' })
  async task(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID, { description: 'The run’s id' }) id: string,
  ): Promise<Task> {
    return taskOf(await ctx.services.tasks.get(requireCaller(ctx), id));
  }

  @Query(() => [Task], { description: 'Upgrade runs you may see, newest first' })
  async tasks(@Ctx() ctx: ApiContext): Promise<Task[]> {
    return (await ctx.services.tasks.list(requireCaller(ctx))).map(taskOf);
  }

  @Mutation(() => Task, { description: 'Upgrades several clusters: canaries first, then up to maxInFlight' })
  async upgradeClusters(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => UpgradeClustersInput, { description: 'The run' }) input: UpgradeClustersInput,
  ): Promise<Task> {
    return taskOf(await ctx.services.tasks.upgradeClusters(requireCaller(ctx), input));
  }

  @Mutation(() => Task, { description: 'Cancels the clusters of an upgrade run that have not started' })
  async cancelTask(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID, { description: 'The run to cancel' }) id: string,
  ): Promise<Task> {
    return taskOf(await ctx.services.tasks.cancel(requireCaller(ctx), id));
  }

  @Subscription(() => Task, {
    description: 'An upgrade run as it advances',
    subscribe: async ({ args, context }) => {
      const ctx = context as ApiContext;
      const caller = requireCaller(ctx);
      const task = await ctx.services.tasks.get(caller, args.id as string);
      return keyedChannelMessages<TaskEventMessage, TaskEventMessage>(
        ctx.services.pubsub,
        TASK_EVENTS_CHANNEL,
        (m) => m.taskId,
        task.id,
        (m) => m,
      );
    },
  })
  async taskEvents(
    @Root() message: TaskEventMessage,
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID, { description: 'The run to follow' }) _id: string,
  ): Promise<Task> {
    return taskOf(await ctx.services.tasks.get(requireCaller(ctx), message.taskId));
  }
}

export const resolvers = [
  MeResolver,
  PlanResolver,
  ClusterResolver,
  NetworkProfileResolver,
  QuotaResolver,
  TaskResolver,
] as const;
