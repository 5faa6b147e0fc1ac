import { randomUUID } from 'node:crypto';
import type { Database } from '@openpks/db';
import type { Logger } from '@openpks/role';
import {
  ConflictError,
  InputError,
  LastAction,
  LastActionState,
  collectInputErrors,
  invariant,
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
import { adoptedOperationStringOf, domainErrorOf, OperationType, type BrokerClient } from '@openpks/broker';
import type { ClusterSpecChange } from '../clusters/spec.js';
import { K8S_VERSION, PKS_VERSION } from '../clusters/versions.js';
import { OperationKind, type OperationRecord } from '../operations/operationStore.js';
import type { Operations } from '../operations/operations.js';
import { clusterNetworks, type ClusterNetworkRecord } from '../store/clusterNetworks.js';
import { clusterStore, type ClusterRecord } from '../store/clusterStore.js';
import { computeProfileStore } from '../store/computeProfileStore.js';
import { networkProfileStore } from '../store/networkProfileStore.js';
import { access, clusterNotFound, type Caller } from './access.js';
import type { Audit } from './audit.js';
import type { BrokerCatalog } from './brokerCatalog.js';
import type { ClusterQueries } from './clusterQueries.js';
import type { QuotaService } from './quotaService.js';

export type DrainInput = Partial<Record<DrainSettingKey, string>>;

export interface CreateClusterInput {
  name: string;
  planName: string;
  externalHostname: string;
  numNodes?: number | null | undefined;
  networkProfileName?: string | null | undefined;
  /** PKS's compute profile: its AZs replace the plan's for every VM of the cluster, for its whole life. */
  computeProfileName?: string | null | undefined;
}

export interface UpdateClusterInput {
  numNodes?: number | null | undefined;
  networkProfileName?: string | null | undefined;
  drain?: DrainInput | null | undefined;
}

export interface ClusterServiceOptions {
  db: Database;
  plans: readonly Plan[];
  broker: BrokerClient;
  /** Every operation is recorded, sent and ended through its owner. */
  operations: Operations;
  catalog: BrokerCatalog;
  audit: Audit;
  queries: ClusterQueries;
  /** Holds non-admins' creates and resizes to their owner's quota; without it there are no limits. */
  quotas?: QuotaService | undefined;
  /** A password grant at UAA for `pks_cluster_client`: the user's id and refresh tokens for a kubeconfig. */
  clusterTokens: (userName: string, password: string) => Promise<{ idToken: string; refreshToken: string }>;
  /** The NSX-T proxy step; without it clusters get no NSX objects (a deployment without NSX-T). */
  nsx?: NsxProxy | undefined;
  /** Where failures that must not change a request's outcome are reported (a cleanup). */
  logger: Pick<Logger, 'warn' | 'error'>;
}

/**
 * The changes to clusters: validation, authorisation and the decision, then an operation (through its
 * owner) that carries the change to the broker over OSB. Each change is audited.
 */
export class ClusterService {
  readonly #o: ClusterServiceOptions;

  constructor(options: ClusterServiceOptions) {
    this.#o = options;
  }

  create(caller: Caller, input: CreateClusterInput): Promise<ClusterRecord> {
    return this.#o.audit.audited(caller, 'createCluster', input.name, { ...input }, async () => {
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
      const computeProfile = await this.#collectComputeProfile(bad, input.computeProfileName);
      throwInputErrors(bad);
      invariant(
        name !== undefined && plan !== undefined && masterHost !== undefined && workers !== undefined,
        'every createCluster check that passed gave a value',
      );
      const quotaCheck = { kind: 'create', owner: caller.name, plan, workers } as const;
      // Early, unlocked: a request bound to be refused takes no NSX objects. Checked again, locked, below.
      await this.#o.quotas?.enforce(caller, quotaCheck);
      const uuid = randomUUID();
      const { serviceId, planId } = await this.#o.catalog.ids(plan.name);
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
          // PKS's ClusterParameters carry the profile as a JSON string; the adapter places the VMs by it.
          ...(computeProfile
            ? {
                compute_profile_name: computeProfile.name,
                compute_profile: JSON.stringify({
                  name: computeProfile.name,
                  description: computeProfile.description,
                  parameters: computeProfile.parameters,
                }),
              }
            : {}),
        },
      };
      const opId = randomUUID();
      await this.#o.operations
        .requestCreate(
          {
            uuid,
            name,
            owner: caller.name,
            spec: {
              planName: plan.name,
              masterHost,
              masterPort: 8443,
              workerInstances: workers,
              networkProfileName: profile?.name ?? null,
              drain: null,
              pksVersion: PKS_VERSION,
              kubernetesVersion: K8S_VERSION,
            },
          },
          { id: opId, request: { serviceId, planId, body }, user: caller.name },
          network === undefined && computeProfile === undefined
            ? undefined
            : async (tx) => {
                if (network !== undefined) {
                  await clusterNetworks.put(tx, {
                    clusterUuid: uuid,
                    profileParameters: profileParameters as Record<string, unknown>,
                    details: network as unknown as Record<string, unknown>,
                  });
                }
                if (computeProfile !== undefined) {
                  await clusterStore.setComputeProfile(tx, uuid, computeProfile.name);
                }
              },
          this.#o.quotas && ((tx) => this.#o.quotas!.enforce(caller, quotaCheck, tx)),
        )
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
          throw error;
        });
      await this.#o.operations
        .send(
          { id: opId, clusterUuid: uuid },
          () => this.#o.broker.provision(uuid, body, caller.name),
          domainErrorOf,
        )
        .catch(async (error: unknown) => {
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
        });
      return (await clusterStore.byUuid(this.#o.db, uuid))!;
    });
  }

  update(
    caller: Caller,
    name: string,
    input: UpdateClusterInput,
    action = 'updateCluster',
  ): Promise<ClusterRecord> {
    return this.#o.audit.audited(caller, action, name, { ...input }, async () => {
      const cluster = await this.#changeable(caller, name);
      const plan = this.#activePlan(cluster.planName, 'planName');
      const changes: Record<string, unknown> = {};
      const spec: ClusterSpecChange = {};
      // Every given field is checked before anything changes (NSX included), and all bad ones reported.
      const bad: InputError[] = [];
      // PKS §5: a cluster placed by a compute profile is not resized through the API (delete and re-create).
      if (input.numNodes !== undefined && input.numNodes !== null && cluster.computeProfileName !== null) {
        bad.push(
          new InputError(
            'numNodes',
            `cluster ${name} was created with compute profile ${cluster.computeProfileName} and cannot be resized; delete it and create it again`,
          ),
        );
      }
      const workers =
        input.numNodes === undefined || input.numNodes === null || cluster.computeProfileName !== null
          ? undefined
          : collectInputErrors(bad, () => this.#workers(plan, input.numNodes!, 'numNodes'));
      const profile = await this.#collectProfile(bad, input.networkProfileName);
      const drain = input.drain ? collectInputErrors(bad, () => validateDrain(input.drain!)) : undefined;
      throwInputErrors(bad);
      // More workers is more of the owner's quota: checked early here, and again with the cluster and the
      // owner's quota locked where the change is recorded (the spec's count then is the one that counts).
      const quotaOf = (from: ClusterRecord) =>
        ({
          kind: 'resize',
          owner: from.owner,
          plan,
          fromWorkers: from.workerInstances,
          toWorkers: workers!,
        }) as const;
      if (workers !== undefined) await this.#o.quotas?.enforce(caller, quotaOf(cluster));
      if (workers !== undefined) {
        spec.workerInstances = workers;
        changes.kubernetes_worker_instances = workers;
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
        spec.networkProfileName = profile.name;
        changes.network_profile_name = profile.name;
        changes.nsxt_network_profile = JSON.stringify({ ...profile, parameters: network.profileParameters });
        if (network.details !== null) changes.nsxt_network_details = network.details;
      }
      if (drain !== undefined) {
        spec.drain = { ...(cluster.drain ?? {}), ...drain };
        changes.kubernetes_setting_cluster_details = Object.fromEntries(
          Object.entries(spec.drain).map(([k, v]) => [snake(k), v]),
        );
      }
      if (Object.keys(changes).length === 0) {
        throw new InputError(
          undefined,
          'nothing to change: give at least one of numNodes, networkProfileName, drain',
        );
      }
      const quotas = this.#o.quotas;
      return this.#change(
        caller.name,
        cluster,
        OperationKind.UPDATE,
        changes,
        spec,
        network && ((tx) => clusterNetworks.put(tx, network)),
        quotas && workers !== undefined
          ? (tx, locked) => quotas.enforce(caller, quotaOf(locked), tx)
          : undefined,
      );
    });
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
      (await networkProfileStore.byName(this.#o.db, cluster.networkProfileName))?.parameters ??
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
    return this.#o.audit.audited(caller, 'upgradeCluster', name, {}, async () => {
      const cluster = await this.#changeable(caller, name);
      return this.#change(
        caller.name,
        cluster,
        OperationKind.UPGRADE,
        {},
        {
          pksVersion: PKS_VERSION,
          kubernetesVersion: K8S_VERSION,
        },
      );
    });
  }

  /**
   * The PKS version this installation runs: what `upgrade` brings a cluster to, so a cluster whose
   * pksVersion differs is upgradable (PKS's `/v1/upgradable`). Any PKS scope may ask.
   */
  pksVersion(caller: Caller): string {
    access.requireAnyPksScope(caller);
    return PKS_VERSION;
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
    const cluster = await clusterStore.byUuid(this.#o.db, uuid);
    if (cluster === undefined || cluster.deletedAt !== null) return false;
    const { serviceId, planId } = await this.#o.catalog.ids(cluster.planName);
    return this.#o.operations
      .request(
        cluster,
        {
          id: randomUUID(),
          kind: OperationKind.UPGRADE,
          request: { serviceId, planId, body: {} },
          user: runOwner,
          taskId,
          specChange: { pksVersion: PKS_VERSION, kubernetesVersion: K8S_VERSION },
        },
        // Already sent (by the broker's run): straight to polling, with the contract's data to poll with.
        { sentAs: adoptedOperationStringOf(brokerOperationId, OperationType.UPGRADE) },
      )
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof ConflictError) return false;
          throw error;
        },
      );
  }

  /**
   * Deletes a cluster and every VM and disk of it. A cluster whose last change failed can always be
   * deleted: only an operation still in progress stands in the way.
   */
  delete(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.#o.audit.audited(caller, 'deleteCluster', name, {}, async () => {
      const cluster = await this.#changeable(caller, name, true);
      const { serviceId, planId } = await this.#o.catalog.ids(cluster.planName);
      const op = await this.#o.operations.request(cluster, {
        id: randomUUID(),
        kind: OperationKind.DELETE,
        request: { serviceId, planId, body: {} },
        user: caller.name,
      });
      await this.#o.operations.send(
        op,
        () => this.#o.broker.deprovision(cluster.uuid, serviceId, planId, caller.name),
        domainErrorOf,
      );
      return (await clusterStore.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  /** A kubeconfig through an OSB binding: admins for any cluster, managers for their own. */
  credentials(caller: Caller, name: string, password: string | undefined): Promise<Record<string, unknown>> {
    return this.#o.audit.audited(caller, 'clusterCredentials', name, {}, () => {
      access.requireChange(caller);
      return this.#bind(caller, name, password);
    });
  }

  /**
   * The kubeconfig of the named user (PKS's GET `/binds/{user}`). Its OIDC tokens are that user's, issued
   * with their password, so a caller may ask for their own only: an admin is no exception. Refusals are
   * audited like those of `credentials`: asking for someone else's kubeconfig is what an audit is for.
   */
  credentialsOf(
    caller: Caller,
    name: string,
    user: string,
    password: string | undefined,
  ): Promise<Record<string, unknown>> {
    return this.#o.audit.audited(caller, 'clusterCredentials', name, { user }, async () => {
      // Scopes first, as every change checks them first: admin.read is refused, not misdirected.
      access.requireChange(caller);
      if (user !== caller.name) {
        throw new InputError(
          'user',
          `"${user}" is not you: a kubeconfig carries the OIDC tokens of the user who asks for it`,
          { allowed: caller.name },
        );
      }
      return this.#bind(caller, name, password);
    });
  }

  /** The binding itself, for a caller whose change scope is already checked. */
  async #bind(caller: Caller, name: string, password: string | undefined): Promise<Record<string, unknown>> {
    const cluster = await this.#o.queries.get(caller, name);
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
    const { serviceId, planId } = await this.#o.catalog.ids(cluster.planName);
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
  }

  /**
   * An update or upgrade: the OSB request (what changes, and the platform's view before it), recorded with
   * the spec change it carries, then sent.
   */
  async #change(
    user: string,
    cluster: ClusterRecord,
    kind: typeof OperationKind.UPDATE | typeof OperationKind.UPGRADE,
    changes: Record<string, unknown>,
    specChange: ClusterSpecChange,
    more?: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<void>,
    guard?: (
      tx: Parameters<Parameters<Database['transaction']>[0]>[0],
      locked: ClusterRecord,
    ) => Promise<void>,
  ): Promise<ClusterRecord> {
    const { serviceId, planId } = await this.#o.catalog.ids(cluster.planName);
    const body = {
      service_id: serviceId,
      plan_id: planId,
      context: { platform: 'pks', cluster_name: cluster.name, owner: cluster.owner },
      parameters: changes,
      previous_values: { plan_id: planId },
      ...(kind === OperationKind.UPGRADE ? { maintenance_info: { version: PKS_VERSION } } : {}),
    };
    const op: OperationRecord = await this.#o.operations.request(
      cluster,
      { id: randomUUID(), kind, request: { serviceId, planId, body }, user, specChange },
      { ...(more ? { more } : {}), ...(guard ? { guard } : {}) },
    );
    await this.#o.operations.send(op, () => this.#o.broker.update(cluster.uuid, body, user), domainErrorOf);
    return (await clusterStore.byUuid(this.#o.db, cluster.uuid))!;
  }

  async #changeable(caller: Caller, name: string, deleting = false): Promise<ClusterRecord> {
    access.requireChange(caller);
    validateClusterName(name, 'name');
    const cluster = await clusterStore.byName(this.#o.db, name);
    if (cluster === undefined || !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    access.requireChangeOf(caller, cluster);
    if (cluster.lastActionState === LastActionState.IN_PROGRESS) {
      throw new ConflictError(`Cluster ${name} has an operation in progress; wait for it to finish`);
    }
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

  /** The named compute profile; one that does not exist joins `bad` (undefined when none is named). */
  async #collectComputeProfile(bad: InputError[], name: string | null | undefined) {
    if (name === undefined || name === null) return undefined;
    const profile = await computeProfileStore.byName(this.#o.db, name);
    if (profile === undefined)
      bad.push(new InputError('computeProfileName', `compute profile "${name}" not found`));
    return profile;
  }

  /** The named network profile; one that does not exist joins `bad` (undefined when none is named). */
  async #collectProfile(bad: InputError[], name: string | null | undefined) {
    if (name === undefined || name === null) return undefined;
    const profile = await networkProfileStore.byName(this.#o.db, name);
    if (profile === undefined)
      bad.push(new InputError('networkProfileName', `network profile "${name}" not found`));
    return profile;
  }
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
