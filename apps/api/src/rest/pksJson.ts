import {
  DRAIN_SETTING_KEYS,
  InputError,
  LastAction,
  LastActionState,
  throwInputErrors,
  type DrainSettingKey,
  type Plan,
} from '@openpks/domain';
import type { CreateClusterInput, DrainInput, UpdateClusterInput } from '../services/clusterService.js';
import type { ClusterNetworkRecord } from '../store/clusterNetworks.js';
import type { ClusterRecord } from '../store/clusterStore.js';
import type { ComputeProfileRecord } from '../store/computeProfileStore.js';
import type { NetworkProfileRecord } from '../store/networkProfileStore.js';
import { TaskStatus, type TaskRecord } from '../store/taskStore.js';

// PKS v1's JSON (PKS-REFERENCE §2) in and out of the services' types. Field names, enums and types are
// PKS's; every rule stays in the services: this file only reads shapes and renames fields.

type Json = Record<string, unknown>;

/** `kubeletDrainTimeout` → `kubelet_drain_timeout`. */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const DRAIN_FIELDS = DRAIN_SETTING_KEYS.map(snake);

export function pksPlan(p: Plan): Json {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    worker_instances: p.worker.instances,
    master_instances: p.master.instances,
    // The one hyphenated key of PKS's JSON.
    'allow-privileged-containers': p.allowPrivileged,
  };
}

function drainStrings(drain: Partial<Record<DrainSettingKey, string | number | boolean>>): Json {
  return Object.fromEntries(
    DRAIN_SETTING_KEYS.filter((k) => drain[k] !== undefined).map((k) => [snake(k), String(drain[k])]),
  );
}

/**
 * A Cluster. `details` adds what `/clusterdetails` shows: the NSX-T network the cluster runs with and the
 * drain settings set by its plan and for the cluster.
 */
export function pksCluster(
  c: ClusterRecord,
  details?: {
    plan: Plan | undefined;
    network: ClusterNetworkRecord | undefined;
    profile?: NetworkProfileRecord;
  },
): Json {
  const parameters: Json = {
    kubernetes_master_host: c.masterHost,
    kubernetes_master_port: c.masterPort,
    kubernetes_worker_instances: c.workerInstances,
  };
  if (c.networkProfileName !== null) {
    // PKS carries the profile as a JSON *string* (ClusterParameters.nsxt_network_profile).
    const profileParameters = details?.network?.profileParameters ?? details?.profile?.parameters;
    if (profileParameters !== undefined) {
      parameters.nsxt_network_profile = JSON.stringify({
        name: c.networkProfileName,
        ...(details?.profile ? { description: details.profile.description } : {}),
        parameters: profileParameters,
      });
    }
  }
  if (details !== undefined) {
    if (details.network?.details) parameters.nsxt_network_details = details.network.details;
    if (details.plan) parameters.kubernetes_setting_plan_details = drainStrings(details.plan.drain);
    if (c.drain !== null) parameters.kubernetes_setting_cluster_details = drainStrings(c.drain);
  }
  return {
    name: c.name,
    plan_name: c.planName,
    uuid: c.uuid,
    last_action: c.lastAction,
    last_action_state: c.lastActionState,
    last_action_description: c.lastActionDescription,
    kubernetes_master_ips: c.masterIps,
    network_profile_name: c.networkProfileName,
    compute_profile_name: c.computeProfileName,
    k8s_version: c.k8sVersion ?? '',
    pks_version: c.pksVersion,
    parameters,
  };
}

export function pksNetworkProfile(p: NetworkProfileRecord): Json {
  return { name: p.name, description: p.description, parameters: p.parameters };
}

export function pksComputeProfile(p: ComputeProfileRecord): Json {
  return { name: p.name, description: p.description, parameters: p.parameters };
}

function epochSeconds(at: Date | null): number {
  // PKS's TaskInfo times are int epoch seconds; a time not reached yet is 0, as Go's zero value says it.
  return at === null ? 0 : Math.floor(at.getTime() / 1000);
}

/**
 * TaskInfo. A cluster the run never started (the task was canceled) is `failed` in its last_action_state:
 * ClusterUpgradeInfo allows only in progress|succeeded|failed|queued, the cluster was not upgraded, and
 * the task's own `status: canceled` says why.
 */
export function pksTask(t: TaskRecord): Json {
  const started = t.clusters
    .map((c) => c.startedAt)
    .filter((d): d is Date => d !== null)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    uuid: t.id,
    type: 'UPGRADE',
    status: t.status,
    start_time: epochSeconds(started ?? (t.status === TaskStatus.NOT_STARTED ? null : t.createdAt)),
    end_time: epochSeconds(t.finishedAt),
    clusters: t.clusters.map((c) => ({
      cluster_name: c.clusterName,
      last_action: LastAction.UPGRADE,
      last_action_state:
        c.lastActionState === TaskStatus.CANCELED ? LastActionState.FAILED : c.lastActionState,
      start_time: epochSeconds(c.startedAt),
      end_time: epochSeconds(c.finishedAt),
      is_canary: c.isCanary,
    })),
  };
}

/** Where the services name a field their own way, the name the PKS request used for it. */
const REST_FIELD: Record<string, string> = {
  planName: 'plan_name',
  externalHostname: 'parameters.kubernetes_master_host',
  numNodes: 'parameters.kubernetes_worker_instances',
  networkProfileName: 'network_profile_name',
  computeProfileName: 'compute_profile_name',
  maxInFlight: 'max_in_flight',
  ...Object.fromEntries(DRAIN_SETTING_KEYS.map((k) => [`drain.${k}`, snake(k)])),
};

/** The field a service's InputError names, as this request named it (`update` has no `parameters.`). */
export function restFieldOf(
  field: string | undefined,
  request: 'create' | 'update' | 'other',
): string | undefined {
  if (field === undefined) return undefined;
  const named = REST_FIELD[field];
  if (named === undefined) return field;
  return request === 'update' ? named.replace(/^parameters\./, '') : named;
}

/** Reads one JSON object field by field, collecting every bad one (named as the client named it). */
class Fields {
  readonly bad: InputError[] = [];

  constructor(
    readonly object: Json,
    readonly prefix: string,
  ) {}

  #field(key: string): string {
    return `${this.prefix}${key}`;
  }

  string(key: string, required: false): string | undefined;
  string(key: string, required: true): string;
  string(key: string, required: boolean): string | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) {
      if (required) this.bad.push(new InputError(this.#field(key), 'is required'));
      return undefined;
    }
    if (typeof value !== 'string') {
      this.bad.push(new InputError(this.#field(key), `must be a string, not ${typeName(value)}`));
      return undefined;
    }
    return value;
  }

  /** A PKS int32: a JSON number without a fraction. */
  integer(key: string): number | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.bad.push(new InputError(this.#field(key), `must be an integer, not ${typeName(value)}`));
      return undefined;
    }
    return value;
  }

  strings(key: string): string[] | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      this.bad.push(new InputError(this.#field(key), `must be a list of strings, not ${typeName(value)}`));
      return undefined;
    }
    return value as string[];
  }

  object_(key: string, required: boolean): Json | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) {
      if (required) this.bad.push(new InputError(this.#field(key), 'is required'));
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.bad.push(new InputError(this.#field(key), `must be an object, not ${typeName(value)}`));
      return undefined;
    }
    return value as Json;
  }

  /**
   * Fields this API does not take are refused, never ignored: a misspelt `kubernetes_worker_instance`
   * would otherwise create a cluster other than the one asked for. PKS fields openpks does not implement
   * are named as such; null stands for absent, as generated clients send it.
   */
  only(known: readonly string[], unsupported: readonly string[] = []): void {
    for (const [key, value] of Object.entries(this.object)) {
      if (known.includes(key)) continue;
      if (unsupported.includes(key)) {
        if (value !== null) {
          this.bad.push(new InputError(this.#field(key), 'is a PKS field openpks does not support'));
        }
        continue;
      }
      this.bad.push(
        new InputError(this.#field(key), 'is not a field of this request', { allowed: known.join(', ') }),
      );
    }
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}

/** The body as an object: PKS requests are JSON objects. */
export function requestObject(body: unknown, model: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError(undefined, `the body must be a JSON object (${model}), not ${typeName(body)}`);
  }
  return body as Json;
}

/** An empty name is no name: Go clients send "" for a string they were not given. */
function named(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

const CLUSTER_PARAMETERS = [
  'kubernetes_master_host',
  'kubernetes_master_port',
  'kubernetes_worker_instances',
];
const CLUSTER_PARAMETERS_UNSUPPORTED = [
  'worker_haproxy_ip_addresses',
  'authorization_mode',
  'nsxt_network_profile',
  'nsxt_network_details',
  'compute_profile',
  'kubernetes_setting_plan_details',
  'kubernetes_setting_cluster_details',
  'k8s_customization_parameters',
  'custom_ca_certs',
  'cluster_tags',
];

/** ClusterRequest → the service's CreateClusterInput. */
export function createClusterInput(body: unknown): CreateClusterInput {
  const request = new Fields(requestObject(body, 'ClusterRequest'), '');
  request.only(
    ['name', 'plan_name', 'network_profile_name', 'compute_profile_name', 'parameters'],
    ['kubernetes_profile_name'],
  );
  const name = request.string('name', true);
  const planName = request.string('plan_name', true);
  const networkProfileName = named(request.string('network_profile_name', false));
  const computeProfileName = named(request.string('compute_profile_name', false));
  const parametersObject = request.object_('parameters', true);
  const bad = [...request.bad];
  let externalHostname: string | undefined;
  let numNodes: number | undefined;
  if (parametersObject !== undefined) {
    const parameters = new Fields(parametersObject, 'parameters.');
    parameters.only(CLUSTER_PARAMETERS, CLUSTER_PARAMETERS_UNSUPPORTED);
    externalHostname = parameters.string('kubernetes_master_host', true);
    const port = parameters.integer('kubernetes_master_port');
    // Masters serve on 8443 in every openpks cluster; another port would be recorded but never served.
    if (port !== undefined && port !== 8443) {
      parameters.bad.push(
        new InputError('parameters.kubernetes_master_port', `${port} is not served`, { allowed: '8443' }),
      );
    }
    numNodes = parameters.integer('kubernetes_worker_instances');
    bad.push(...parameters.bad);
  }
  throwInputErrors(bad);
  return {
    name: name!,
    planName: planName!,
    externalHostname: externalHostname!,
    numNodes,
    networkProfileName,
    computeProfileName,
  };
}

/** UpdateClusterParameters → the service's UpdateClusterInput. */
export function updateClusterInput(body: unknown): UpdateClusterInput {
  const request = new Fields(requestObject(body, 'UpdateClusterParameters'), '');
  request.only(
    ['kubernetes_worker_instances', 'network_profile_name', ...DRAIN_FIELDS],
    ['insecure_registries', 'custom_ca_certs', 'cluster_tags', 'delete_all_tags', 'kubernetes_profile_name'],
  );
  const numNodes = request.integer('kubernetes_worker_instances');
  const networkProfileName = named(request.string('network_profile_name', false));
  const drain: DrainInput = {};
  for (const key of DRAIN_SETTING_KEYS) {
    // PKS sends the drain settings as strings ("30", "true"): the service's one drain rule reads them.
    const value = request.string(snake(key), false);
    if (value !== undefined) drain[key] = value;
  }
  throwInputErrors(request.bad);
  const hasDrain = Object.keys(drain).length > 0;
  if (numNodes === undefined && networkProfileName === undefined && !hasDrain) {
    throw new InputError(undefined, 'nothing to change', {
      allowed: `at least one of kubernetes_worker_instances, network_profile_name, ${DRAIN_FIELDS.join(', ')}`,
    });
  }
  return { numNodes, networkProfileName, ...(hasDrain ? { drain } : {}) };
}

/** UpgradeClustersRequest → the task service's input. */
export function upgradeClustersInput(body: unknown): {
  clusters: string[];
  canaries?: string[];
  maxInFlight?: number;
} {
  const request = new Fields(requestObject(body, 'UpgradeClustersRequest'), '');
  request.only(['clusters', 'canaries', 'max_in_flight']);
  const clusters = request.strings('clusters');
  if (clusters === undefined && !request.bad.some((b) => b.field === 'clusters')) {
    request.bad.push(new InputError('clusters', 'is required', { allowed: 'a list of cluster names' }));
  }
  const canaries = request.strings('canaries');
  const maxInFlight = request.integer('max_in_flight');
  throwInputErrors(request.bad);
  return {
    clusters: clusters!,
    ...(canaries ? { canaries } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
  };
}

/** A network profile request `{name, description, parameters}`. */
export function networkProfileInput(body: unknown): {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
} {
  const request = new Fields(requestObject(body, 'NetworkProfileRequest'), '');
  request.only(['name', 'description', 'parameters']);
  const name = request.string('name', true);
  const description = request.string('description', false);
  const parameters = request.object_('parameters', true);
  throwInputErrors(request.bad);
  return { name: name!, ...(description !== undefined ? { description } : {}), parameters: parameters! };
}

/** A compute profile request: the top level's shape here, the rest (parameters.azs) in the service. */
export function computeProfileInput(body: unknown): {
  name: unknown;
  description?: unknown;
  parameters: unknown;
} {
  const request = new Fields(requestObject(body, 'ComputeProfileRequest'), '');
  request.only(['name', 'description', 'parameters']);
  throwInputErrors(request.bad);
  return {
    name: request.object.name,
    description: request.object.description,
    parameters: request.object.parameters,
  };
}

/** The optional openpks extension of a bind request: the caller's password, for the OIDC tokens. */
export function bindInput(body: unknown): { password?: string } {
  if (body === undefined) return {};
  const request = new Fields(requestObject(body, 'a bind request'), '');
  request.only(['password']);
  const password = request.string('password', false);
  throwInputErrors(request.bad);
  return password === undefined ? {} : { password };
}

/**
 * A Quota request `{owner, limit: {cluster, cpu, memory}}`: its shape here, the values in the quota
 * service's one rule. On PATCH the owner is the path's, and a body naming another owner is refused rather
 * than guessed at; the limit's fields are then each optional.
 */
export function quotaInput(
  body: unknown,
  pathOwner?: string,
): { owner: unknown; limit: Partial<Record<'cluster' | 'cpu' | 'memory', unknown>> } {
  const request = new Fields(requestObject(body, 'Quota'), '');
  request.only(['owner', 'limit']);
  const limitObject = request.object_('limit', true);
  let owner: unknown = request.object.owner;
  if (pathOwner !== undefined) {
    if (owner !== undefined && owner !== null && owner !== pathOwner) {
      request.bad.push(
        new InputError('owner', `${JSON.stringify(owner)} is not the owner in the path`, {
          allowed: `"${pathOwner}", or no owner`,
        }),
      );
    }
    owner = pathOwner;
  }
  const bad = [...request.bad];
  if (limitObject !== undefined) {
    const limitFields = new Fields(limitObject, 'limit.');
    limitFields.only(['cluster', 'cpu', 'memory']);
    bad.push(...limitFields.bad);
  }
  throwInputErrors(bad);
  return {
    owner,
    limit: { cluster: limitObject?.cluster, cpu: limitObject?.cpu, memory: limitObject?.memory },
  };
}
