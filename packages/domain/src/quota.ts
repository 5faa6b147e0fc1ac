import { InputError, QuotaExceededError, throwInputErrors } from './errors.js';
import type { Plan } from './plan.js';

/**
 * An owner's limits (PKS's quota `limit`): clusters, CPUs and memory in GB, over all their live clusters.
 * Null is no limit on that resource: PKS's model has every field optional, and its tooling posts quotas
 * with only some (PKS 1.5's had only cpu and memory). A quota limits at least one.
 */
export interface QuotaLimit {
  cluster: number | null;
  cpu: number | null;
  /** GB; a fraction is allowed (PKS's model has it as a float). */
  memory: number | null;
}

export const QUOTA_LIMIT_FIELDS = ['cluster', 'cpu', 'memory'] as const;

/** What an empty limit is told (and a PATCH that would leave a quota limiting nothing). */
export const SOME_LIMIT = 'at least one of cluster, cpu, memory (an absent one is no limit)';

/** What VMs take: CPUs and memory in GB. */
export interface Footprint {
  cpu: number;
  memory: number;
}

/** PKS's rules for a limit (PKS-REFERENCE §2): `cluster` at least 1; `cpu` or `memory` 0 blocks creation. */
export const QUOTA_RULES: Readonly<Record<keyof QuotaLimit, string>> = {
  cluster: 'a whole number of at least 1',
  cpu: 'a whole number of CPUs, 0 or more (0 blocks creating clusters)',
  memory: 'a number of GB, 0 or more (0 blocks creating clusters)',
};

const MAX_LIMIT = 1_000_000_000;

function checkLimitField(key: keyof QuotaLimit, value: unknown, field: string): number {
  const min = key === 'cluster' ? 1 : 0;
  const whole = key !== 'memory';
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InputError(field, `must be a number, got ${JSON.stringify(value)}`, {
      allowed: QUOTA_RULES[key],
    });
  }
  if ((whole && !Number.isInteger(value)) || value < min || value > MAX_LIMIT) {
    throw new InputError(field, `${value} is not allowed`, { allowed: QUOTA_RULES[key] });
  }
  return value;
}

/**
 * A limit as given, each bad field reported at once under `prefix` (`limit.cpu`). A whole limit (a create
 * or a replace) has every field, null where absent or null (no limit), and limits at least one. With
 * `partial` (a PATCH) only the fields given: a number changes that limit, null removes it.
 */
export function validateQuotaLimit(
  input: Partial<Record<keyof QuotaLimit, unknown>>,
  options: { partial: true; prefix?: string },
): Partial<QuotaLimit>;
export function validateQuotaLimit(
  input: Partial<Record<keyof QuotaLimit, unknown>>,
  options?: { partial?: false; prefix?: string },
): QuotaLimit;
export function validateQuotaLimit(
  input: Partial<Record<keyof QuotaLimit, unknown>>,
  options: { partial?: boolean; prefix?: string } = {},
): Partial<QuotaLimit> {
  const prefix = options.prefix ?? 'limit';
  const bad: InputError[] = [];
  const out: Partial<QuotaLimit> = {};
  for (const key of QUOTA_LIMIT_FIELDS) {
    const value = input[key];
    if (value === undefined || value === null) {
      if (value === null || !options.partial) out[key] = null;
      continue;
    }
    try {
      out[key] = checkLimitField(key, value, `${prefix}.${key}`);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      bad.push(error);
    }
  }
  if (bad.length === 0) {
    if (options.partial && Object.keys(out).length === 0) {
      bad.push(new InputError(prefix, 'changes nothing', { allowed: SOME_LIMIT }));
    } else if (!options.partial && !limitsAnything(out as QuotaLimit)) {
      bad.push(new InputError(prefix, 'sets no limit', { allowed: SOME_LIMIT }));
    }
  }
  throwInputErrors(bad);
  return out;
}

/** Whether a limit limits anything: a quota must, lifting every limit is deleting it. */
export function limitsAnything(limit: QuotaLimit): boolean {
  return QUOTA_LIMIT_FIELDS.some((key) => limit[key] !== null);
}

/**
 * An owner as UAA names users (`user_name`, or a client id for client-credentials tokens): 1-255
 * characters, no spaces or control characters.
 */
export function validateQuotaOwner(owner: unknown, field = 'owner'): string {
  if (typeof owner !== 'string' || owner.length === 0) {
    throw new InputError(field, 'is required', { allowed: 'a UAA user name' });
  }
  // eslint-disable-next-line no-control-regex
  if (owner.length > 255 || /[\s\u0000-\u001f\u007f]/.test(owner)) {
    throw new InputError(field, `"${owner.slice(0, 40)}" is not a UAA user name`, {
      allowed: '1-255 characters without spaces or control characters',
    });
  }
  return owner;
}

/**
 * What a cluster on `plan` with `workers` workers is allocated by its masters' and workers' VM types; with
 * `clusters`, that many clusters of the plan with `workers` workers among them all.
 */
export function footprintOf(plan: Plan, workers: number, clusters = 1): Footprint {
  const masters = clusters * plan.master.instances;
  return {
    cpu: masters * plan.master.cpu + workers * plan.worker.cpu,
    memory: (masters * plan.master.ramMb + workers * plan.worker.ramMb) / 1024,
  };
}

/** GB shown without float noise (0.1 + 0.2 is 0.3 here). */
function gb(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A change asked of an owner's allocation: a new cluster, or more of an existing one. */
export interface QuotaRequest {
  /** 1 for a create, 0 for a resize. */
  clusters: number;
  /** What the request adds to the owner's usage (for a create, all the cluster needs). */
  adds: Footprint;
  /** A create or a resize, for the message. */
  kind: 'create' | 'resize';
}

/**
 * The first limit that `request` would break, given `used` (the owner's clusters now), as a
 * QUOTA_EXCEEDED naming the limit, the usage and the request; undefined when it fits.
 */
export function quotaExceeded(
  limit: QuotaLimit,
  used: Footprint & { cluster: number },
  request: QuotaRequest,
): QuotaExceededError | undefined {
  const details = { limit, usage: used, request: request.adds };
  // A null limit is no limit on that resource: it never refuses.
  if (limit.cluster !== null && request.clusters > 0 && used.cluster + request.clusters > limit.cluster) {
    return new QuotaExceededError(
      `clusters: ${used.cluster} of ${limit.cluster} used, creating one more exceeds the limit`,
      { details: { ...details, resource: 'cluster' } },
    );
  }
  const what = request.kind === 'create' ? 'this cluster needs' : 'this resize adds';
  if (limit.cpu !== null && request.adds.cpu > 0 && used.cpu + request.adds.cpu > limit.cpu) {
    return new QuotaExceededError(`cpu: ${used.cpu} of ${limit.cpu} used, ${what} ${request.adds.cpu}`, {
      details: { ...details, resource: 'cpu' },
    });
  }
  // A tolerance of a thousandth of a GB: sums of MB over 1024 must not fail an exact fit on rounding.
  if (
    limit.memory !== null &&
    request.adds.memory > 0 &&
    used.memory + request.adds.memory > limit.memory + 0.001
  ) {
    return new QuotaExceededError(
      `memory: ${gb(used.memory)} of ${gb(limit.memory)} GB used, ${what} ${gb(request.adds.memory)} GB`,
      { details: { ...details, resource: 'memory' } },
    );
  }
  return undefined;
}
