import { parseDocument } from 'yaml';
import { InputError } from '@openpks/domain';

/** A BOSH v2 deployment manifest, after validation (docs-bosh manifest-v2.md). */
export interface Manifest {
  name: string;
  releases: { name: string; version: string }[];
  stemcells: { alias: string; os?: string; name?: string; version: string }[];
  update: UpdatePolicy;
  instanceGroups: InstanceGroup[];
  variables: VariableDefinition[];
  /** Everything else (addons, features, tags, properties), kept as written. */
  raw: Record<string, unknown>;
}

export interface UpdatePolicy {
  canaries: number;
  /** A number, or a percentage of the instance group such as `"50%"`. */
  maxInFlight: number | string;
  canaryWatchTime: string | number;
  updateWatchTime: string | number;
  serial: boolean;
}

export interface Job {
  name: string;
  release: string;
  properties: Record<string, unknown>;
  /** Links the job provides, by link name (`as` renames one); absent when the manifest leaves it to the spec. */
  provides?: Record<string, unknown>;
}

export const Lifecycle = { SERVICE: 'service', ERRAND: 'errand' } as const;
export type Lifecycle = (typeof Lifecycle)[keyof typeof Lifecycle];

export interface InstanceGroup {
  name: string;
  instances: number;
  azs: string[];
  jobs: Job[];
  vmType: string;
  vmExtensions: string[];
  stemcell: string;
  /** Size in MB (1 when only a `persistent_disk_type` is named: its size is the cloud config's). */
  persistentDisk: number;
  persistentDiskType?: string;
  networks: { name: string; staticIps: string[] }[];
  lifecycle: Lifecycle;
  update: UpdatePolicy;
  env: Record<string, unknown>;
}

export const VariableType = {
  CERTIFICATE: 'certificate',
  PASSWORD: 'password',
  RSA: 'rsa',
  SSH: 'ssh',
} as const;
export type VariableType = (typeof VariableType)[keyof typeof VariableType];

export interface VariableDefinition {
  name: string;
  type: VariableType;
  options: Record<string, unknown>;
  /** Links whose addresses join the variable, e.g. `{alternative_name: {from: 'kube-apiserver'}}` (SANs). */
  consumes?: Record<string, { from: string }>;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** BOSH's wording for manifest faults: the task error names the field, as the Director does. */
function fault(field: string, message: string): InputError {
  return new InputError(field, message);
}

function requireString(object: Obj, key: string, where: string): string {
  const value = object[key];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') {
    throw fault(
      `${where}.${key}`,
      value === undefined
        ? `Required property '${key}' was not specified in object (${describe(where, object)})`
        : `Property '${key}' value (${JSON.stringify(value)}) did not match the required type 'String'`,
    );
  }
  return value;
}

function describe(where: string, object: Obj): string {
  return typeof object.name === 'string' ? `${where} '${object.name}'` : where;
}

function optionalArray(object: Obj, key: string, where: string): unknown[] {
  const value = object[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw fault(
      `${where}.${key}`,
      `Property '${key}' value (${JSON.stringify(value)}) did not match the required type 'Array'`,
    );
  }
  return value;
}

function wholeNumber(value: unknown, field: string, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw fault(
      field,
      `Property '${key}' value (${JSON.stringify(value)}) did not match the required type 'Integer'`,
    );
  }
  return value;
}

function parseUpdate(value: unknown, field: string, base?: UpdatePolicy): UpdatePolicy {
  if (value === undefined && base) return base;
  if (!isObject(value)) {
    throw fault(field, `Required property 'update' was not specified in object (deployment manifest)`);
  }
  const pick = <K extends keyof UpdatePolicy>(key: string, name: K): unknown =>
    value[key] !== undefined ? value[key] : base?.[name];
  const canaries = pick('canaries', 'canaries');
  if (canaries === undefined) {
    throw fault(`${field}.canaries`, `Required property 'canaries' was not specified in object (update)`);
  }
  const maxInFlight = pick('max_in_flight', 'maxInFlight');
  if (maxInFlight === undefined) {
    throw fault(
      `${field}.max_in_flight`,
      `Required property 'max_in_flight' was not specified in object (update)`,
    );
  }
  if (
    !(typeof maxInFlight === 'number' && Number.isInteger(maxInFlight) && maxInFlight >= 1) &&
    !(typeof maxInFlight === 'string' && /^(100|[1-9]\d?)%$|^[1-9]\d*$/.test(maxInFlight.trim()))
  ) {
    throw fault(
      `${field}.max_in_flight`,
      `Property 'max_in_flight' value (${JSON.stringify(maxInFlight)}) should be a positive integer or a percentage`,
    );
  }
  const canaryWatchTime = pick('canary_watch_time', 'canaryWatchTime') ?? 1000;
  const updateWatchTime = pick('update_watch_time', 'updateWatchTime') ?? 1000;
  const serial = pick('serial', 'serial');
  return {
    canaries: wholeNumber(canaries, `${field}.canaries`, 'canaries'),
    maxInFlight: maxInFlight as number | string,
    canaryWatchTime: canaryWatchTime as string | number,
    updateWatchTime: updateWatchTime as string | number,
    serial: serial === undefined ? true : serial === true,
  };
}

/**
 * Parses and validates a v2 manifest. Faults are InputErrors naming the field (`instance_groups.worker.jobs`)
 * with the Director's wording, so the task that rejects a manifest reads like BOSH's.
 */
export function parseManifest(text: string): Manifest {
  const cached = parsedManifests.get(text);
  if (cached !== undefined) {
    // Most recently used last: the oldest goes first when the cache is full.
    parsedManifests.delete(text);
    parsedManifests.set(text, cached);
    return cached;
  }
  // A manifest that fails is not kept: its error is thrown afresh each time.
  const parsed = deepFreeze(readManifest(text));
  parsedManifests.set(text, parsed);
  while (parsedManifests.size > PARSED_MANIFEST_LIMIT) {
    parsedManifests.delete(parsedManifests.keys().next().value!);
  }
  return parsed;
}

/**
 * How many manifests' parsed forms are kept, by text: one deploy reads its manifest several times (the
 * request, the task's events, the deployer, the errand after it), each a YAML parse and validation.
 */
const PARSED_MANIFEST_LIMIT = 32;
const parsedManifests = new Map<string, Manifest>();

/** Frozen all the way down: a parsed manifest is shared by whoever parses the same text. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function readManifest(text: string): Manifest {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw fault(
      'manifest',
      `Incorrect YAML structure of the uploaded manifest: ${document.errors[0]!.message}`,
    );
  }
  const root: unknown = document.toJS();
  if (!isObject(root)) throw fault('manifest', 'Manifest should be a hash');
  const name = requireString(root, 'name', 'manifest');

  const releases = optionalArray(root, 'releases', 'manifest').map((release, i) => {
    if (!isObject(release)) throw fault(`releases[${i}]`, 'Release should be a hash');
    return {
      name: requireString(release, 'name', 'releases'),
      version: requireString(release, 'version', `releases.${String(release.name)}`),
    };
  });
  const stemcells = optionalArray(root, 'stemcells', 'manifest').map((stemcell, i) => {
    if (!isObject(stemcell)) throw fault(`stemcells[${i}]`, 'Stemcell should be a hash');
    const alias = requireString(stemcell, 'alias', 'stemcells');
    if (stemcell.os === undefined && stemcell.name === undefined) {
      throw fault(`stemcells.${alias}`, `Stemcell '${alias}' must specify either 'os' or 'name'`);
    }
    return {
      alias,
      ...(typeof stemcell.os === 'string' ? { os: stemcell.os } : {}),
      ...(typeof stemcell.name === 'string' ? { name: stemcell.name } : {}),
      version: requireString(stemcell, 'version', `stemcells.${alias}`),
    };
  });
  const update = parseUpdate(root.update, 'update');
  const releaseNames = new Set(releases.map((r) => r.name));
  const stemcellAliases = new Set(stemcells.map((s) => s.alias));

  const rawGroups = root.instance_groups ?? root.jobs;
  if (!Array.isArray(rawGroups)) {
    throw fault(
      'instance_groups',
      `Required property 'instance_groups' was not specified in object (deployment manifest)`,
    );
  }
  const seen = new Set<string>();
  const instanceGroups = rawGroups.map((group, i): InstanceGroup => {
    if (!isObject(group)) throw fault(`instance_groups[${i}]`, 'Instance group should be a hash');
    const groupName = requireString(group, 'name', 'instance_groups');
    const where = `instance_groups.${groupName}`;
    if (seen.has(groupName)) {
      throw fault(where, `Duplicate instance group name '${groupName}'`);
    }
    seen.add(groupName);
    if (group.instances === undefined) {
      throw fault(
        `${where}.instances`,
        `Required property 'instances' was not specified in object (instance group '${groupName}')`,
      );
    }
    const instances = wholeNumber(group.instances, `${where}.instances`, 'instances');
    const jobs = optionalArray(group, 'jobs', where).map((job, j): Job => {
      if (!isObject(job)) throw fault(`${where}.jobs[${j}]`, 'Job should be a hash');
      const jobName = requireString(job, 'name', `${where}.jobs`);
      const release = requireString(job, 'release', `${where}.jobs.${jobName}`);
      if (!releaseNames.has(release)) {
        throw fault(
          `${where}.jobs.${jobName}.release`,
          `Job '${jobName}' requires release '${release}' but it is not listed in the manifest's releases`,
        );
      }
      const properties = job.properties ?? {};
      if (!isObject(properties)) {
        throw fault(`${where}.jobs.${jobName}.properties`, `Job '${jobName}' properties should be a hash`);
      }
      return {
        name: jobName,
        release,
        properties,
        ...(isObject(job.provides) ? { provides: job.provides } : {}),
      };
    });
    if (jobs.length === 0) {
      throw fault(`${where}.jobs`, `Instance group '${groupName}' must specify at least one job in 'jobs'`);
    }
    const stemcell = requireString(group, 'stemcell', where);
    if (!stemcellAliases.has(stemcell)) {
      throw fault(
        `${where}.stemcell`,
        `Instance group '${groupName}' references an unknown stemcell '${stemcell}'`,
      );
    }
    const networks = optionalArray(group, 'networks', where).map((network, n) => {
      if (!isObject(network)) throw fault(`${where}.networks[${n}]`, 'Network should be a hash');
      return {
        name: requireString(network, 'name', `${where}.networks`),
        staticIps: optionalArray(network, 'static_ips', `${where}.networks`).map(String),
      };
    });
    if (networks.length === 0) {
      throw fault(`${where}.networks`, `Instance group '${groupName}' must specify at least one network`);
    }
    const lifecycle = group.lifecycle ?? Lifecycle.SERVICE;
    if (lifecycle !== Lifecycle.SERVICE && lifecycle !== Lifecycle.ERRAND) {
      throw fault(
        `${where}.lifecycle`,
        `Invalid lifecycle '${String(lifecycle)}' for instance group '${groupName}', valid lifecycle values are: service, errand`,
      );
    }
    const disk = group.persistent_disk;
    return {
      name: groupName,
      instances,
      azs: optionalArray(group, 'azs', where).map(String),
      jobs,
      vmType: requireString(group, 'vm_type', where),
      vmExtensions: optionalArray(group, 'vm_extensions', where).map(String),
      stemcell,
      // A `persistent_disk_type` alone is a disk whose size the cloud config names (the sim makes it 1 MB).
      persistentDisk: typeof disk === 'number' ? disk : group.persistent_disk_type !== undefined ? 1 : 0,
      ...(typeof group.persistent_disk_type === 'string'
        ? { persistentDiskType: group.persistent_disk_type }
        : {}),
      networks,
      lifecycle,
      update: parseUpdate(group.update, `${where}.update`, update),
      env: isObject(group.env) ? group.env : {},
    };
  });

  const variableNames = new Set<string>();
  const variables = optionalArray(root, 'variables', 'manifest').map((variable, i): VariableDefinition => {
    if (!isObject(variable)) throw fault(`variables[${i}]`, 'Variable should be a hash');
    const variableName = requireString(variable, 'name', 'variables');
    const type = requireString(variable, 'type', `variables.${variableName}`);
    if (!(Object.values(VariableType) as string[]).includes(type)) {
      throw fault(
        `variables.${variableName}.type`,
        `Variable '${variableName}' has an unsupported type '${type}' (supported: certificate, password, rsa, ssh)`,
      );
    }
    if (variableNames.has(variableName)) {
      throw fault(`variables.${variableName}`, `Duplicate variable name '${variableName}'`);
    }
    variableNames.add(variableName);
    const options = variable.options ?? {};
    if (!isObject(options))
      throw fault(`variables.${variableName}.options`, 'Variable options should be a hash');
    const consumes: Record<string, { from: string }> = {};
    if (variable.consumes !== undefined) {
      if (!isObject(variable.consumes))
        throw fault(`variables.${variableName}.consumes`, 'Variable consumes should be a hash');
      for (const [kind, link] of Object.entries(variable.consumes)) {
        if (kind !== 'alternative_name' && kind !== 'common_name') {
          throw fault(
            `variables.${variableName}.consumes.${kind}`,
            `Variable '${variableName}' consumes '${kind}': only alternative_name and common_name are supported`,
          );
        }
        if (!isObject(link) || typeof link.from !== 'string' || link.from === '') {
          throw fault(
            `variables.${variableName}.consumes.${kind}.from`,
            `Variable '${variableName}' consumes '${kind}' without a link name in 'from'`,
          );
        }
        consumes[kind] = { from: link.from };
      }
    }
    return {
      name: variableName,
      type: type as VariableType,
      options,
      ...(Object.keys(consumes).length > 0 ? { consumes } : {}),
    };
  });
  for (const variable of variables) {
    const ca = variable.options.ca;
    if (variable.type === VariableType.CERTIFICATE && ca !== undefined) {
      const issuer = variables.find((v) => v.name === ca);
      if (issuer === undefined || issuer.options.is_ca !== true) {
        throw fault(
          `variables.${variable.name}.options.ca`,
          `Variable '${variable.name}' names CA '${String(ca)}', which is not a certificate variable with is_ca: true in this manifest`,
        );
      }
    }
  }

  return { name, releases, stemcells, update, instanceGroups, variables, raw: root };
}

/** The maximum number of instances updated at once for a group of `size` (BOSH rounds percentages, min 1). */
export function maxInFlightOf(policy: UpdatePolicy, size: number): number {
  const value = policy.maxInFlight;
  if (typeof value === 'number') return Math.max(1, value);
  const trimmed = value.trim();
  if (trimmed.endsWith('%')) return Math.max(1, Math.round((size * Number(trimmed.slice(0, -1))) / 100));
  return Math.max(1, Number(trimmed));
}
