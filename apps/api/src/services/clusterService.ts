import { randomUUID } from 'node:crypto';
import type { Database, PubSub } from '@openpks/db';
import type { Logger } from '@openpks/role';
import {
  ConflictError,
  InputError,
  LastAction,
  LastActionState,
  NotFoundError,
  collectInputErrors,
  invariant,
  isPksError,
  throwInputErrors,
  validateClusterName,
  validateDrainSettings,
  validateHostname,
  type DrainSettingKey,
  type Plan,
} from '@openpks/domain';
import {
  mergeNetworkProfileUpdate,
  networkProfileUpdateConflicts,
  type NetworkProfileParameters,
  type NsxProxy,
  type NsxtNetworkDetails,
} from '@openpks/nsx';
import { domainErrorOf, type BrokerClient, type OsbCatalog } from '@openpks/broker';
import { clusterNetworks, type ClusterNetworkRecord } from '../store/clusterNetworks.js';
import {
  audit,
  clusters,
  networkProfiles,
  OperationKind,
  operations,
  type ClusterRecord,
} from '../store/records.js';
import { access, clusterNotFound, type Caller } from './access.js';
import {
  ClusterEventKind,
  recordClusterEvent,
  recentClusterEvents,
  recentClusterEventsOf,
  type ClusterEventMessage,
} from './events.js';

/** What PKS reports as its own and Kubernetes' version (PKS 1.6.0 ships Kubernetes 1.15.5). */
export const PKS_VERSION = '1.6.0-openpks';
export const K8S_VERSION = '1.15.5';
/** The largest page of `clustersConnection` (a bigger one is refused, never silently cut). */
export const MAX_CLUSTER_PAGE = 500;

export type DrainInput = Partial<Record<DrainSettingKey, string>>;

export interface CreateClusterInput {
  name: string;
  planName: string;
  externalHostname: string;
  numNodes?: number | null | undefined;
  networkProfileName?: string | null | undefined;
}

export interface UpdateClusterInput {
  numNodes?: number | null | undefined;
  networkProfileName?: string | null | undefined;
  drain?: DrainInput | null | undefined;
}

export interface ClusterServiceOptions {
  db: Database;
  pubsub: PubSub;
  plans: readonly Plan[];
  broker: BrokerClient;
  /** This replica's name, the holder of the leases it takes. */
  holder: string;
  leaseMs: number;
  /** Tells the tracker an operation was handed to the broker (so it starts following it at once). */
  wake: () => void;
  /** A password grant at UAA for `pks_cluster_client`: the user's id and refresh tokens for a kubeconfig. */
  clusterTokens: (userName: string, password: string) => Promise<{ idToken: string; refreshToken: string }>;
  /** The NSX-T proxy step; without it clusters get no NSX objects (a deployment without NSX-T). */
  nsx?: NsxProxy | undefined;
  /** Where failures that must not change a request's outcome are reported (a cleanup, the audit trail). */
  logger: Pick<Logger, 'warn' | 'error'>;
}

/** Validation, authorisation and decisions for clusters: every change goes to the broker over OSB. */
export class ClusterService {
  readonly #o: ClusterServiceOptions;
  #catalog: Promise<OsbCatalog> | undefined;

  constructor(options: ClusterServiceOptions) {
    this.#o = options;
  }

  plans(caller: Caller): Plan[] {
    access.requireAnyPksScope(caller);
    return this.#o.plans.filter((p) => p.active);
  }

  plan(caller: Caller, name: string): Plan {
    const plan = this.plans(caller).find((p) => p.name === name);
    if (plan === undefined) throw new NotFoundError(`Plan ${name} not found`);
    return plan;
  }

  async list(caller: Caller): Promise<ClusterRecord[]> {
    access.requireAnyPksScope(caller);
    return clusters.live(this.#o.db, access.readsAll(caller) ? undefined : caller.name);
  }

  /**
   * How many clusters `list` would return the caller, in one COUNT: the query cost limit prices lists of
   * clusters by it. A caller without a PKS scope sees none (`list` refuses them).
   */
  async countVisible(caller: Caller): Promise<number> {
    if (!access.hasAnyPksScope(caller)) return 0;
    return clusters.count(this.#o.db, access.readsAll(caller) ? undefined : caller.name);
  }

  /**
   * One page of the caller's clusters in name order (a cursor connection): `first` up to
   * MAX_CLUSTER_PAGE, after the cluster named `after`, with the total the caller may see.
   */
  async page(
    caller: Caller,
    options: { first: number; after?: string | undefined },
  ): Promise<{ clusters: ClusterRecord[]; hasNextPage: boolean; totalCount: number }> {
    access.requireAnyPksScope(caller);
    const { first } = options;
    if (!Number.isInteger(first) || first < 0 || first > MAX_CLUSTER_PAGE) {
      throw new InputError('first', `${first} is not allowed`, { allowed: `0 to ${MAX_CLUSTER_PAGE}` });
    }
    const owner = access.readsAll(caller) ? undefined : caller.name;
    // One row more than asked says whether another page follows, without a second query.
    const [rows, totalCount] = await Promise.all([
      clusters.page(this.#o.db, { owner, after: options.after, limit: first + 1 }),
      clusters.count(this.#o.db, owner),
    ]);
    return { clusters: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /** Several clusters by name in one query; those the caller may not see are left out (not found). */
  async getMany(caller: Caller, names: readonly string[]): Promise<Map<string, ClusterRecord>> {
    access.requireAnyPksScope(caller);
    const found = await clusters.byNames(this.#o.db, names);
    return new Map(found.filter((c) => access.canSee(caller, c.owner)).map((c) => [c.name, c]));
  }

  /** The recent events of several clusters the caller was already allowed to read, in one query. */
  eventsOf(clusterUuids: readonly string[], limit = 50): Promise<Map<string, ClusterEventMessage[]>> {
    return recentClusterEventsOf(this.#o.db, clusterUuids, limit);
  }

  /** The NSX-T networking of several clusters the caller was already allowed to read, in one query. */
  async networksOf(clusterUuids: readonly string[]): Promise<Map<string, ClusterNetworkRecord>> {
    const found = await clusterNetworks.many(this.#o.db, clusterUuids);
    return new Map(found.map((n) => [n.clusterUuid, n]));
  }

  async get(caller: Caller, name: string): Promise<ClusterRecord> {
    access.requireAnyPksScope(caller);
    const cluster = await clusters.byName(this.#o.db, name);
    if (cluster === undefined || !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    return cluster;
  }

  /**
   * What a `clusterEvents` subscriber may see. Another's cluster is not found, as everywhere; a name not
   * in use yet may be watched (subscribe, then create), and every event is still checked against its owner.
   */
  async watch(caller: Caller, name: string): Promise<(event: ClusterEventMessage) => boolean> {
    access.requireAnyPksScope(caller);
    validateClusterName(name, 'name');
    const cluster = await clusters.byName(this.#o.db, name);
    if (cluster !== undefined && !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    return (event) => event.clusterName === name && access.canSee(caller, event.owner);
  }

  events(cluster: ClusterRecord, limit = 50): Promise<ClusterEventMessage[]> {
    return recentClusterEvents(this.#o.db, cluster.uuid, limit);
  }

  create(caller: Caller, input: CreateClusterInput): Promise<ClusterRecord> {
    return this.audited(caller, 'createCluster', input.name, { ...input }, async () => {
      access.requireChange(caller);
      // Every field is checked before anything is refused, so one answer names all that is wrong.
      const bad: InputError[] = [];
      const name = collectInputErrors(bad, () => validateClusterName(input.name, 'name'));
      const plan = collectInputErrors(bad, () => this.#activePlan(input.planName));
      const masterHost = collectInputErrors(bad, () =>
        validateHostname(input.externalHostname, 'externalHostname'),
      );
      const workers = collectInputErrors(bad, () =>
        plan === undefined
          ? atLeastOneWorker(input.numNodes)
          : this.#workers(plan, input.numNodes ?? plan.worker.instances, 'numNodes'),
      );
      const profile = await this.#collectProfile(bad, input.networkProfileName);
      throwInputErrors(bad);
      invariant(
        name !== undefined && plan !== undefined && masterHost !== undefined && workers !== undefined,
        'every createCluster check that passed gave a value',
      );
      const uuid = randomUUID();
      const { serviceId, planId } = await this.#ids(plan.name);
      const profileParameters = (profile?.parameters ?? {}) as NetworkProfileParameters;
      // The NSX proxy step comes before the broker: the manifest needs the node network it allocates.
      // A failure here has already rolled back what it took, and nothing is recorded.
      const network: NsxtNetworkDetails | undefined = await this.#o.nsx?.provision(uuid, profileParameters);
      const body = {
        service_id: serviceId,
        plan_id: planId,
        organization_guid: 'pks',
        space_guid: 'pks',
        context: { platform: 'pks', cluster_name: name, owner: caller.name },
        parameters: {
          name,
          kubernetes_master_host: masterHost,
          kubernetes_master_port: 8443,
          kubernetes_worker_instances: workers,
          ...(profile
            ? { network_profile_name: profile.name, nsxt_network_profile: JSON.stringify(profile) }
            : {}),
          ...(network ? { nsxt_network_details: network } : {}),
        },
      };
      const record = {
        uuid,
        name,
        owner: caller.name,
        planName: plan.name,
        masterHost,
        masterPort: 8443,
        masterIps: [],
        workerInstances: workers,
        networkProfileName: profile?.name ?? null,
        drain: null,
        k8sVersion: K8S_VERSION,
        pksVersion: PKS_VERSION,
        lastAction: LastAction.CREATE,
        lastActionState: LastActionState.IN_PROGRESS,
        lastActionDescription: 'Creating cluster',
      } as const;
      const opId = randomUUID();
      await this.#o.db
        .transaction(async (tx) => {
          await clusters.insert(tx, { ...record, masterIps: [] });
          await operations.insert(
            tx,
            {
              id: opId,
              clusterUuid: uuid,
              kind: OperationKind.CREATE,
              request: { serviceId, planId, body },
              originatingUser: caller.name,
              taskId: null,
            },
            this.#o.holder,
            this.#o.leaseMs,
          );
          await this.#stateEvent(tx, { ...record, masterIps: [] }, 'Creating cluster', { created: true });
          if (network !== undefined) {
            await clusterNetworks.put(tx, {
              clusterUuid: uuid,
              profileParameters: profileParameters as Record<string, unknown>,
              details: network as unknown as Record<string, unknown>,
            });
          }
        })
        .catch(async (error: unknown) => {
          // Not recorded (a name taken meanwhile, or a database failure): give the NSX objects back.
          if (network !== undefined) {
            await this.#o.nsx
              ?.release(uuid)
              .catch((releaseError: unknown) =>
                this.#o.logger.error(
                  { err: releaseError, cluster: name, uuid },
                  'NSX-T objects of a cluster that was not recorded could not be released; release them in NSX Manager',
                ),
              );
          }
          if ((error as { code?: string }).code === '23505') {
            throw new ConflictError(`Cluster ${name} already exists`, { details: { field: 'name' } });
          }
          throw error;
        });
      await this.#send(opId, uuid, () => this.#o.broker.provision(uuid, body, caller.name)).catch(
        async (error: unknown) => {
          // The broker refused outright (the cluster is recorded as failed): its NSX objects go back now;
          // if that fails too, the row stays and deleting the cluster releases them.
          if (network !== undefined) {
            const released = await this.#o.nsx?.release(uuid).then(
              () => true,
              (releaseError: unknown) => {
                this.#o.logger.warn(
                  { err: releaseError, cluster: name, uuid },
                  'NSX-T objects of a cluster the broker refused were not released; deleting the cluster releases them',
                );
                return false;
              },
            );
            if (released) await clusterNetworks.remove(this.#o.db, uuid);
          }
          throw error;
        },
      );
      return (await clusters.byUuid(this.#o.db, uuid))!;
    });
  }

  update(
    caller: Caller,
    name: string,
    input: UpdateClusterInput,
    action = 'updateCluster',
  ): Promise<ClusterRecord> {
    return this.audited(caller, action, name, { ...input }, async () => {
      const cluster = await this.#changeable(caller, name);
      const plan = this.#activePlan(cluster.planName, 'planName');
      const changes: Record<string, unknown> = {};
      const patch: Parameters<typeof clusters.update>[2] = {};
      // Every given field is checked before anything changes (NSX included), and all bad ones reported.
      const bad: InputError[] = [];
      const workers =
        input.numNodes === undefined || input.numNodes === null
          ? undefined
          : collectInputErrors(bad, () => this.#workers(plan, input.numNodes!, 'numNodes'));
      const profile = await this.#collectProfile(bad, input.networkProfileName);
      const drain = input.drain ? collectInputErrors(bad, () => validateDrain(input.drain!)) : undefined;
      throwInputErrors(bad);
      if (workers !== undefined) {
        patch.workerInstances = workers;
        changes.kubernetes_worker_instances = patch.workerInstances;
      }
      let network: ClusterNetworkRecord | undefined;
      if (profile !== undefined) {
        network = await this.#profileUpdate(cluster, profile);
        // The NSX part of an allowed update: the new pod blocks must exist and are recorded, in order.
        if (this.#o.nsx && network.details !== null) {
          const details = await this.#o.nsx.update(
            network.details as unknown as NsxtNetworkDetails,
            network.profileParameters as NetworkProfileParameters,
          );
          network = { ...network, details: details as unknown as Record<string, unknown> };
        }
        patch.networkProfileName = profile.name;
        changes.network_profile_name = profile.name;
        changes.nsxt_network_profile = JSON.stringify({ ...profile, parameters: network.profileParameters });
        if (network.details !== null) changes.nsxt_network_details = network.details;
      }
      if (drain !== undefined) {
        patch.drain = { ...(cluster.drain ?? {}), ...drain };
        changes.kubernetes_setting_cluster_details = Object.fromEntries(
          Object.entries(patch.drain).map(([k, v]) => [snake(k), v]),
        );
      }
      if (Object.keys(changes).length === 0) {
        throw new InputError(
          undefined,
          'nothing to change: give at least one of numNodes, networkProfileName, drain',
        );
      }
      return this.#change(
        caller.name,
        cluster,
        OperationKind.UPDATE,
        LastAction.UPDATE,
        'Updating cluster',
        changes,
        patch,
        null,
        network && ((tx) => clusterNetworks.put(tx, network)),
      );
    });
  }

  /** The cluster's NSX-T networking: the profile parameters it runs with and what the proxy step allocated. */
  async network(caller: Caller, name: string): Promise<ClusterNetworkRecord | undefined> {
    const cluster = await this.get(caller, name);
    return clusterNetworks.get(this.#o.db, cluster.uuid);
  }

  /**
   * PKS 1.6's rules for a new profile on an existing cluster: only pod IP blocks may be added or reordered,
   * `cni_configurations` never changes, and every other difference is a conflict reported field by field,
   * with nothing applied. Returns the cluster's networking after the update.
   */
  async #profileUpdate(
    cluster: ClusterRecord,
    profile: { name: string; parameters: Record<string, unknown> },
  ): Promise<ClusterNetworkRecord> {
    if (cluster.networkProfileName === null) {
      throw new ConflictError(
        `Cluster ${cluster.name} was created without a network profile; a profile is attached at create-cluster`,
        { details: { field: 'networkProfileName' } },
      );
    }
    const recorded = await clusterNetworks.get(this.#o.db, cluster.uuid);
    const current = (recorded?.profileParameters ??
      (await networkProfiles.byName(this.#o.db, cluster.networkProfileName))?.parameters ??
      {}) as NetworkProfileParameters;
    const next = profile.parameters as NetworkProfileParameters;
    const conflicts = networkProfileUpdateConflicts(current, next);
    if (conflicts.length > 0) {
      throw new ConflictError(
        `Network profile ${profile.name} cannot be applied to cluster ${cluster.name}: only pod_ip_block_ids can be added or reordered. ` +
          conflicts.map((c) => `${c.field}: ${c.message}`).join('; '),
        { details: { field: 'networkProfileName', conflicts } },
      );
    }
    return {
      clusterUuid: cluster.uuid,
      profileParameters: mergeNetworkProfileUpdate(current, next) as Record<string, unknown>,
      details: recorded?.details ?? null,
    };
  }

  resize(caller: Caller, name: string, numNodes: number): Promise<ClusterRecord> {
    return this.update(caller, name, { numNodes }, 'resizeCluster');
  }

  upgrade(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.audited(caller, 'upgradeCluster', name, {}, async () => {
      const cluster = await this.#changeable(caller, name);
      return this.#change(
        caller.name,
        cluster,
        OperationKind.UPGRADE,
        LastAction.UPGRADE,
        'Upgrading cluster',
        {},
        {},
      );
    });
  }

  /** Whether the caller may upgrade this cluster now (an upgrade run checks every cluster before it starts). */
  async checkUpgradable(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.#changeable(caller, name);
  }

  /**
   * A cluster the broker began upgrading within an upgrade run: the API records the broker's operation as
   * this cluster's current one, so the tracker follows it (last_operation, the Director task's events)
   * exactly like an upgrade the API sent itself. False when the cluster is gone or already has one.
   */
  async adoptRunUpgrade(
    uuid: string,
    runOwner: string,
    taskId: string,
    brokerOperationId: string,
  ): Promise<boolean> {
    const cluster = await clusters.byUuid(this.#o.db, uuid);
    if (cluster === undefined || cluster.deletedAt !== null) return false;
    const { serviceId, planId } = await this.#ids(cluster.planName);
    const opId = randomUUID();
    const adopted = await this.#begin(
      cluster,
      opId,
      OperationKind.UPGRADE,
      { serviceId, planId, body: {} },
      runOwner,
      taskId,
      async (tx) => {
        const description = 'Upgrading cluster';
        await clusters.update(tx, cluster.uuid, {
          lastAction: LastAction.UPGRADE,
          lastActionState: LastActionState.IN_PROGRESS,
          lastActionDescription: description,
        });
        await this.#stateEvent(
          tx,
          {
            ...cluster,
            lastAction: LastAction.UPGRADE,
            lastActionState: LastActionState.IN_PROGRESS,
            lastActionDescription: description,
          },
          description,
        );
      },
    ).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ConflictError) return false;
        throw error;
      },
    );
    if (!adopted) return false;
    // Already sent (by the broker's run): straight to polling, with ODB's operation data to poll with.
    await this.#o.db.query(
      `UPDATE api.operations SET phase = 'polling', broker_operation = $2, holder = NULL, lease_expires_at = NULL,
         updated_at = now() WHERE id = $1 AND phase = 'requested'`,
      [opId, JSON.stringify({ BoshContextID: brokerOperationId, OperationType: 'upgrade' })],
    );
    this.#o.wake();
    return true;
  }

  delete(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.audited(caller, 'deleteCluster', name, {}, async () => {
      const cluster = await this.#changeable(caller, name, true);
      const { serviceId, planId } = await this.#ids(cluster.planName);
      const opId = randomUUID();
      const next = {
        ...cluster,
        lastAction: LastAction.DELETE,
        lastActionState: LastActionState.IN_PROGRESS,
        lastActionDescription: 'Instance deletion in progress',
      };
      await this.#begin(
        cluster,
        opId,
        OperationKind.DELETE,
        { serviceId, planId, body: {} },
        caller.name,
        null,
        async (tx) => {
          await clusters.update(tx, cluster.uuid, {
            lastAction: next.lastAction,
            lastActionState: next.lastActionState,
            lastActionDescription: next.lastActionDescription,
          });
          await this.#stateEvent(tx, next, next.lastActionDescription);
        },
      );
      await this.#send(opId, cluster.uuid, () =>
        this.#o.broker.deprovision(cluster.uuid, serviceId, planId, caller.name),
      );
      return (await clusters.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  /** A kubeconfig through an OSB binding: admins for any cluster, managers for their own. */
  credentials(caller: Caller, name: string, password: string | undefined): Promise<Record<string, unknown>> {
    return this.audited(caller, 'clusterCredentials', name, {}, async () => {
      access.requireChange(caller);
      const cluster = await this.get(caller, name);
      access.requireChangeOf(caller, cluster);
      if (cluster.lastActionState !== LastActionState.SUCCEEDED && cluster.lastAction === LastAction.CREATE) {
        throw new ConflictError(
          `Cluster ${name} is not ready: ${cluster.lastAction} ${cluster.lastActionState}`,
        );
      }
      if (password === undefined || password === '') {
        throw new InputError('password', "is required: UAA issues the kubeconfig's OIDC tokens with it");
      }
      const tokens = await this.#o.clusterTokens(caller.name, password);
      const { serviceId, planId } = await this.#ids(cluster.planName);
      return this.#o.broker
        .bind(
          cluster.uuid,
          randomUUID(),
          {
            service_id: serviceId,
            plan_id: planId,
            context: { platform: 'pks' },
            parameters: {
              user_name: caller.name,
              id_token: tokens.idToken,
              refresh_token: tokens.refreshToken,
              cluster_name: cluster.name,
            },
          },
          caller.name,
        )
        .catch((error: unknown) => {
          throw domainErrorOf(error);
        });
    });
  }

  async #change(
    user: string,
    cluster: ClusterRecord,
    kind: OperationKind,
    action: LastAction,
    description: string,
    changes: Record<string, unknown>,
    patch: Parameters<typeof clusters.update>[2],
    taskId: string | null = null,
    more?: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<void>,
  ): Promise<ClusterRecord> {
    const { serviceId, planId } = await this.#ids(cluster.planName);
    const body = {
      service_id: serviceId,
      plan_id: planId,
      context: { platform: 'pks', cluster_name: cluster.name, owner: cluster.owner },
      parameters: changes,
      previous_values: { plan_id: planId },
      ...(kind === OperationKind.UPGRADE ? { maintenance_info: { version: PKS_VERSION } } : {}),
    };
    const opId = randomUUID();
    await this.#begin(cluster, opId, kind, { serviceId, planId, body }, user, taskId, async (tx) => {
      const next = {
        ...cluster,
        lastAction: action,
        lastActionState: LastActionState.IN_PROGRESS,
        lastActionDescription: description,
      };
      await clusters.update(tx, cluster.uuid, {
        ...patch,
        lastAction: action,
        lastActionState: LastActionState.IN_PROGRESS,
        lastActionDescription: description,
      });
      await this.#stateEvent(tx, next, description);
      await more?.(tx);
    });
    await this.#send(opId, cluster.uuid, () => this.#o.broker.update(cluster.uuid, body, user));
    return (await clusters.byUuid(this.#o.db, cluster.uuid))!;
  }

  /** Records the operation (leased by us while we send it) unless one is already in flight: CONFLICT. */
  async #begin(
    cluster: ClusterRecord,
    opId: string,
    kind: OperationKind,
    request: { serviceId: string; planId: string; body: Record<string, unknown> },
    user: string,
    taskId: string | null,
    more: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<void>,
  ): Promise<void> {
    await this.#o.db
      .transaction(async (tx) => {
        const locked = await clusters.byName(tx, cluster.name, true);
        if (locked === undefined) throw clusterNotFound(cluster.name);
        if (await operations.activeFor(tx, cluster.uuid)) throw inFlight(cluster.name);
        await operations.insert(
          tx,
          { id: opId, clusterUuid: cluster.uuid, kind, request, originatingUser: user, taskId },
          this.#o.holder,
          this.#o.leaseMs,
        );
        await more(tx);
      })
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === '23505') throw inFlight(cluster.name);
        throw error;
      });
  }

  /**
   * Sends the OSB request of an operation we hold. Accepted: the tracker takes over. Refused: the
   * operation and the cluster's last action fail with the broker's reason, and the user hears why.
   */
  async #send(
    opId: string,
    clusterUuid: string,
    request: () => Promise<{ status: number; operation: string | undefined }>,
  ): Promise<void> {
    // Our lease must outlive the call (a slow broker can take a minute), or another replica would claim
    // the operation and send it a second time while this one is still waiting for the answer.
    const heartbeat = setInterval(() => {
      operations
        .renewLease(this.#o.db, opId, this.#o.holder, this.#o.leaseMs)
        .catch((error: unknown) =>
          this.#o.logger.warn({ err: error, operation: opId }, 'renewing a lease failed'),
        );
    }, this.#o.leaseMs / 3);
    heartbeat.unref();
    try {
      await this.#sendHeld(opId, clusterUuid, request);
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #sendHeld(
    opId: string,
    clusterUuid: string,
    request: () => Promise<{ status: number; operation: string | undefined }>,
  ): Promise<void> {
    try {
      const answer = await request();
      await this.#o.db.query(
        `UPDATE api.operations SET phase = 'polling', broker_operation = $2, holder = NULL, lease_expires_at = NULL,
           updated_at = now() WHERE id = $1 AND phase = 'requested' AND holder = $3`,
        [opId, answer.operation ?? null, this.#o.holder],
      );
      this.#o.wake();
    } catch (error) {
      const domain = domainErrorOf(error);
      if (isPksError(domain) && domain.code !== 'INTERNAL') {
        await this.#o.db.transaction(async (tx) => {
          await tx.query(
            `UPDATE api.operations SET phase = 'done', state = 'failed', description = $2, holder = NULL,
               finished_at = now(), updated_at = now() WHERE id = $1`,
            [opId, domain.message],
          );
          const cluster = (await clusters.byUuid(tx, clusterUuid))!;
          const failed = {
            ...cluster,
            lastActionState: LastActionState.FAILED,
            lastActionDescription: domain.message,
          };
          await clusters.update(tx, clusterUuid, {
            lastActionState: failed.lastActionState,
            lastActionDescription: failed.lastActionDescription,
          });
          await this.#stateEvent(tx, failed, domain.message);
        });
        throw domain;
      }
      // The broker was unreachable or broke: the operation stays requested and the tracker re-sends it.
      await this.#o.db.query(
        `UPDATE api.operations SET holder = NULL, lease_expires_at = NULL WHERE id = $1 AND holder = $2`,
        [opId, this.#o.holder],
      );
      this.#o.wake();
    }
  }

  #stateEvent(
    tx: Parameters<Parameters<Database['transaction']>[0]>[0],
    cluster: Omit<ClusterRecord, 'createdAt' | 'updatedAt' | 'deletedAt'>,
    description: string,
    { created = false }: { created?: boolean } = {},
  ) {
    return recordClusterEvent(tx, this.#o.pubsub, {
      ...(created ? { created } : {}),
      clusterUuid: cluster.uuid,
      clusterName: cluster.name,
      owner: cluster.owner,
      kind: ClusterEventKind.STATE,
      at: new Date().toISOString(),
      lastAction: cluster.lastAction,
      lastActionState: cluster.lastActionState,
      description,
    });
  }

  async #changeable(caller: Caller, name: string, deleting = false): Promise<ClusterRecord> {
    access.requireChange(caller);
    validateClusterName(name, 'name');
    const cluster = await clusters.byName(this.#o.db, name);
    if (cluster === undefined || !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    access.requireChangeOf(caller, cluster);
    if (cluster.lastActionState === LastActionState.IN_PROGRESS) throw inFlight(name);
    // A failed create has nothing to update; it can only be deleted (and its name reused).
    if (
      !deleting &&
      cluster.lastAction === LastAction.CREATE &&
      cluster.lastActionState === LastActionState.FAILED
    ) {
      throw new ConflictError(`Cluster ${name} failed to create; delete it and create it again`);
    }
    return cluster;
  }

  #activePlan(name: string, field = 'planName'): Plan {
    const plan = this.#o.plans.find((p) => p.name === name && p.active);
    if (plan === undefined) {
      throw new InputError(field, `plan "${name}" not found`, {
        allowed: this.#o.plans
          .filter((p) => p.active)
          .map((p) => p.name)
          .join(', '),
      });
    }
    return plan;
  }

  #workers(plan: Plan, count: number, field: string): number {
    if (!Number.isInteger(count) || count < 1 || count > plan.worker.maxInstances) {
      throw new InputError(field, `${count} workers is outside plan ${plan.name}'s limits`, {
        allowed: `1 to ${plan.worker.maxInstances}`,
      });
    }
    return count;
  }

  /** The named network profile; one that does not exist joins `bad` (undefined when none is named). */
  async #collectProfile(bad: InputError[], name: string | null | undefined) {
    if (name === undefined || name === null) return undefined;
    const profile = await networkProfiles.byName(this.#o.db, name);
    if (profile === undefined)
      bad.push(new InputError('networkProfileName', `network profile "${name}" not found`));
    return profile;
  }

  /** The broker's ids for a plan, from its catalog (the OSB way; fetched once). */
  async #ids(planName: string): Promise<{ serviceId: string; planId: string }> {
    this.#catalog ??= this.#o.broker.catalog();
    let catalog: OsbCatalog;
    try {
      catalog = await this.#catalog;
    } catch (error) {
      this.#catalog = undefined;
      throw error;
    }
    for (const service of catalog.services) {
      const plan = service.plans.find((p) => p.name === planName);
      if (plan) return { serviceId: service.id, planId: plan.id };
    }
    throw new InputError('planName', `the broker offers no plan "${planName}"`);
  }

  /** Runs a change and writes its audit event (who, what, parameters without secrets, outcome). */
  async audited<T>(
    caller: Caller,
    action: string,
    target: string | undefined,
    parameters: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    const base = {
      actor: caller.name,
      clientId: caller.clientId,
      action,
      target: target ?? null,
      parameters,
    };
    // The audit trail records the outcome; it never changes it. A change already sent to the broker
    // must not be reported as failed because its audit row could not be written.
    const record = (fields: Pick<Parameters<typeof audit.write>[1], 'outcome' | 'errorCode' | 'message'>) =>
      audit
        .write(this.#o.db, { ...base, ...fields })
        .catch((auditError: unknown) =>
          this.#o.logger.error(
            { err: auditError, actor: caller.name, action, target: base.target, outcome: fields.outcome },
            'could not write the audit event of a request',
          ),
        );
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      const code = isPksError(error) ? error.code : 'INTERNAL';
      await record({ outcome: 'failed', errorCode: code, message: (error as Error).message });
      throw error;
    }
    await record({ outcome: 'succeeded', errorCode: null, message: null });
    return result;
  }
}

function inFlight(name: string): ConflictError {
  return new ConflictError(`Cluster ${name} has an operation in progress; wait for it to finish`);
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A worker count without a plan to hold it against (the plan itself was refused): at least 1. */
function atLeastOneWorker(count: number | null | undefined): number | undefined {
  if (count === undefined || count === null) return undefined;
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError('numNodes', `${count} workers is not allowed`, { allowed: 'at least 1' });
  }
  return count;
}

/**
 * The six kubelet drain settings, as PKS takes them (strings), held to the one drain rule of
 * @openpks/domain (the broker and pks.yaml use it too); every bad one is reported.
 */
function validateDrain(drain: DrainInput): Record<string, string> {
  return validateDrainSettings(drain);
}
