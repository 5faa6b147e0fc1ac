import { InputError, InputErrors } from '@openpks/domain';
import { isIpv4, parseCidr } from './ipv4.js';

/** The profile parameters of PKS-REFERENCE §4, as stored and sent to the broker (snake_case like PKS). */
export interface NetworkProfileParameters {
  lb_size?: LbSize;
  pod_ip_block_ids?: string[];
  pod_subnet_prefix?: number;
  pod_routable?: boolean;
  node_ip_block_ids?: string[];
  node_subnet_prefix?: number;
  node_routable?: boolean;
  fip_pool_ids?: string[];
  t0_router_id?: string;
  master_vms_nsgroup_id?: string;
  nodes_dns?: string[];
  dns_lookup_mode?: 'API' | 'API_INGRESS';
  ingress_prefix?: string;
  single_tier_topology?: boolean;
  infrastructure_networks?: string[];
  cni_configurations?: { type: 'nsxt'; parameters?: Record<string, unknown> };
}

export const LB_SIZES = ['small', 'medium', 'large'] as const;
export type LbSize = (typeof LB_SIZES)[number];
export const DEFAULT_SUBNET_PREFIX = 24;
/** A node or pod subnet must hold a few hosts and fit a block; NSX-T PKS documents /24 as the default. */
export const SUBNET_PREFIX_RANGE = [16, 28] as const;

// NSX-T object ids: PKS documents UUIDs; the Policy API also allows names such as `pks-node-ip-block`.
const NSX_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const ID_ALLOWED = 'an NSX-T object id (a UUID, or letters, digits, _ . -)';
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

type Check = (value: unknown, field: string, errors: InputError[]) => void;

const bool: Check = (v, f, e) => {
  if (typeof v !== 'boolean')
    e.push(new InputError(f, `${show(v)} is not a boolean`, { allowed: 'true, false' }));
};
const oneOf =
  (values: readonly string[]): Check =>
  (v, f, e) => {
    if (typeof v !== 'string' || !values.includes(v)) {
      e.push(new InputError(f, `${show(v)} is not allowed`, { allowed: values.join(', ') }));
    }
  };
const intRange =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v, f, e) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      const allowed =
        max === Number.MAX_SAFE_INTEGER ? `an integer, at least ${min}` : `an integer from ${min} to ${max}`;
      e.push(new InputError(f, `${show(v)} is not allowed`, { allowed }));
    }
  };
const id: Check = (v, f, e) => {
  if (typeof v !== 'string' || !NSX_ID.test(v))
    e.push(new InputError(f, `${show(v)} is not an NSX-T object id`, { allowed: ID_ALLOWED }));
};
const text: Check = (v, f, e) => {
  if (typeof v !== 'string' || v.length > 255)
    e.push(
      new InputError(f, `${show(v)} is not a string`, { allowed: 'a string of at most 255 characters' }),
    );
};
const listOf =
  (item: Check, options: { max?: number; unique?: boolean } = {}): Check =>
  (v, f, e) => {
    if (!Array.isArray(v)) {
      e.push(new InputError(f, `${show(v)} is not a list`, { allowed: 'a JSON array' }));
      return;
    }
    if (options.max !== undefined && v.length > options.max) {
      e.push(new InputError(f, `has ${v.length} entries`, { allowed: `at most ${options.max}` }));
    }
    v.forEach((x, i) => item(x, `${f}[${i}]`, e));
    if (options.unique !== false && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) {
      e.push(new InputError(f, 'lists an entry twice', { allowed: 'each entry once' }));
    }
  };
const ipv4: Check = (v, f, e) => {
  if (typeof v !== 'string' || !isIpv4(v))
    e.push(
      new InputError(f, `${show(v)} is not an IPv4 address`, { allowed: 'an IPv4 address such as 10.0.0.2' }),
    );
};
const cidr: Check = (v, f, e) => {
  if (typeof v !== 'string' || parseCidr(v) === undefined) {
    e.push(
      new InputError(f, `${show(v)} is not a network in CIDR notation`, {
        allowed: 'a CIDR such as 192.168.0.0/16',
      }),
    );
  }
};
const ingressPrefix: Check = (v, f, e) => {
  if (typeof v !== 'string' || !DNS_LABEL.test(v))
    e.push(
      new InputError(f, `${show(v)} is not a DNS label`, { allowed: 'letters, digits and -, at most 63' }),
    );
};
const object =
  (fields: Record<string, Check>, required: readonly string[] = []): Check =>
  (v, f, e) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      e.push(
        new InputError(f, `${show(v)} is not an object`, {
          allowed: `an object with ${Object.keys(fields).join(', ')}`,
        }),
      );
      return;
    }
    const record = v as Record<string, unknown>;
    for (const key of required) {
      if (record[key] === undefined)
        e.push(new InputError(join(f, key), 'is required', { allowed: describe(fields[key]) }));
    }
    for (const [key, value] of Object.entries(record)) {
      const check = fields[key];
      if (check === undefined) {
        e.push(
          new InputError(join(f, key), `unknown field "${key}"`, { allowed: Object.keys(fields).join(', ') }),
        );
      } else if (value !== undefined) {
        check(value, join(f, key), e);
      }
    }
  };

function describe(check: Check | undefined): string | undefined {
  return check === cniType ? 'nsxt' : undefined;
}

const cniType: Check = oneOf(['nsxt']);

/** `cni_configurations.parameters` (NCP settings), PKS-REFERENCE §4. */
const cniParameters = object({
  nsx_lb: bool,
  nsx_ingress_controller: bool,
  x_forwarded_for: oneOf(['insert', 'replace']),
  ingress_ip: ipv4,
  log_settings: object({
    log_level: oneOf(['INFO', 'WARNING', 'DEBUG', 'ERROR', 'CRITICAL']),
    log_dropped_traffic: bool,
  }),
  ingress_persistence_settings: object({
    persistence_type: oneOf(['none', 'cookie', 'source_ip']),
    persistence_timeout: intRange(1),
  }),
  max_l4_lb_service: intRange(1),
  l4_persistence_type: oneOf(['source_ip']),
  l4_lb_algorithm: oneOf(['round_robin', 'least_connection', 'ip_hash', 'weighted_round_robin']),
  top_firewall_section_marker: text,
  bottom_firewall_section_marker: text,
});

const parameterChecks: Record<keyof NetworkProfileParameters, Check> = {
  lb_size: oneOf(LB_SIZES),
  pod_ip_block_ids: listOf(id),
  pod_subnet_prefix: intRange(...SUBNET_PREFIX_RANGE),
  pod_routable: bool,
  node_ip_block_ids: listOf(id),
  node_subnet_prefix: intRange(...SUBNET_PREFIX_RANGE),
  node_routable: bool,
  fip_pool_ids: listOf(id),
  t0_router_id: id,
  master_vms_nsgroup_id: id,
  nodes_dns: listOf(ipv4, { max: 3 }),
  dns_lookup_mode: oneOf(['API', 'API_INGRESS']),
  ingress_prefix: ingressPrefix,
  single_tier_topology: bool,
  infrastructure_networks: listOf(cidr),
  cni_configurations: object({ type: cniType, parameters: cniParameters }, ['type']),
};

export const NETWORK_PROFILE_PARAMETERS: readonly string[] = Object.keys(parameterChecks);

export interface ValidateProfileOptions {
  /** The installation's own pod IP block, which profiles must not list (PKS-REFERENCE §4). */
  tilePodIpBlockId?: string;
}

/**
 * Checks profile parameters against the §4 schema and returns them typed. Every bad field is reported at
 * once, each named by its dotted path (`parameters.cni_configurations.parameters.l4_lb_algorithm`) with
 * what is allowed.
 */
export function validateNetworkProfileParameters(
  parameters: unknown,
  options: ValidateProfileOptions = {},
): NetworkProfileParameters {
  const errors: InputError[] = [];
  object(parameterChecks)(parameters, 'parameters', errors);
  const p = parameters as NetworkProfileParameters;
  if (
    errors.length === 0 &&
    options.tilePodIpBlockId !== undefined &&
    p.pod_ip_block_ids?.includes(options.tilePodIpBlockId)
  ) {
    errors.push(
      new InputError(
        'parameters.pod_ip_block_ids',
        `must not list the installation's pod IP block ${options.tilePodIpBlockId}`,
        {
          allowed: 'IP blocks created for profiles',
        },
      ),
    );
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
  return p;
}

/** One difference between a cluster's profile and the one it is asked to take that PKS 1.6 refuses. */
export interface ProfileConflict {
  field: string;
  message: string;
}

/**
 * PKS 1.6's rules for `update-cluster --network-profile` (PKS-REFERENCE §4): field by field, a field empty
 * in either profile is ignored; `pod_ip_block_ids` may gain or reorder entries; nothing under
 * `cni_configurations` ever changes (even from or to absent, since NCP reads it only at create); any other
 * difference is a conflict. Returns every conflict (empty: the update is allowed).
 */
export function networkProfileUpdateConflicts(
  current: NetworkProfileParameters,
  next: NetworkProfileParameters,
): ProfileConflict[] {
  const conflicts: ProfileConflict[] = [];
  const a = current as Record<string, unknown>;
  const b = next as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const field = `parameters.${key}`;
    if (key === 'cni_configurations') {
      diffDeep(a[key], b[key], field, conflicts, 'cni_configurations can never be updated');
      continue;
    }
    if (isEmpty(a[key]) || isEmpty(b[key])) continue;
    if (key === 'pod_ip_block_ids') {
      const removed = (a[key] as string[]).filter((x) => !(b[key] as string[]).includes(x));
      if (removed.length > 0) {
        conflicts.push({
          field,
          message: `pod IP blocks can only be added or reordered; ${removed.join(', ')} would be removed`,
        });
      }
      continue;
    }
    if (!same(a[key], b[key])) {
      conflicts.push({ field, message: `cannot change from ${show(a[key])} to ${show(b[key])}` });
    }
  }
  return conflicts;
}

/**
 * The parameters a cluster runs with after an allowed update: the new profile, with fields it leaves empty
 * kept from the current one (so adding pod blocks without `pod_subnet_prefix` keeps the prefix, the 1.6.0
 * bug that wrote 0 fixed in 1.6.1).
 */
export function mergeNetworkProfileUpdate(
  current: NetworkProfileParameters,
  next: NetworkProfileParameters,
): NetworkProfileParameters {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(next)) if (!isEmpty(value)) merged[key] = value;
  return merged as NetworkProfileParameters;
}

function diffDeep(a: unknown, b: unknown, field: string, out: ProfileConflict[], why: string): void {
  if (same(a, b)) return;
  if (isPlain(a) && isPlain(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      diffDeep(a[key], b[key], `${field}.${key}`, out, why);
    return;
  }
  out.push({ field, message: `${why}: ${show(a)} → ${show(b)}` });
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isPlain(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

function join(field: string, key: string): string {
  return `${field}.${key}`;
}

function show(v: unknown): string {
  return v === undefined ? 'absent' : JSON.stringify(v);
}
