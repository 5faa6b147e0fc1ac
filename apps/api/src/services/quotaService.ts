import type { Database, Queryable } from '@openpks/db';
import {
  ConflictError,
  NotFoundError,
  collectInputErrors,
  footprintOf,
  invariant,
  throwInputErrors,
  InputError,
  limitsAnything,
  quotaExceeded,
  SOME_LIMIT,
  validateQuotaLimit,
  validateQuotaOwner,
  type Footprint,
  type Plan,
  type QuotaLimit,
} from '@openpks/domain';
import { quotaStore, type QuotaRecord } from '../store/quotaStore.js';
import { access, type Caller } from './access.js';
import type { Audit } from './audit.js';
import { MAX_CLUSTER_PAGE } from './clusterQueries.js';

/** The most quotas, or owners' usages, one list returns (the query cost guard prices the lists by it). */
export const MAX_LISTED_QUOTAS = MAX_CLUSTER_PAGE;

/** One cluster's share of its owner's usage. */
export interface ClusterUsage {
  name: string;
  planName: string;
  workerInstances: number;
  cpu: number;
  /** GB */
  memory: number;
}

/** What an owner's live clusters are allocated, against their limit (null: no quota). */
export interface Usage {
  owner: string;
  totals: Footprint & { cluster: number };
  clusters: ClusterUsage[];
  limit: QuotaLimit | null;
}

/** A create or a resize, as the quota check sees it. */
export type QuotaCheck =
  | { kind: 'create'; owner: string; plan: Plan; workers: number }
  | { kind: 'resize'; owner: string; plan: Plan; fromWorkers: number; toWorkers: number };

/** PKS's quota model (`/v1/quotas`): what a REST route returns as is. An absent limit field is no limit. */
export interface PksQuota {
  owner: string;
  limit: { cpu?: number; memory?: number; cluster?: number };
}

/** PKS's usage model (`/v1/usages`): what a REST route returns as is. */
export interface PksUsage {
  owner: string;
  totals: { cpu: number; memory: number; cluster: number };
  clusters: { name: string; cpu: number; memory: number }[];
}

export function pksQuotaOf(quota: QuotaRecord): PksQuota {
  // PKS's generated clients read an absent field as None (no limit); a null would be sent back as one.
  const limit: PksQuota['limit'] = {};
  for (const key of ['cpu', 'memory', 'cluster'] as const) {
    const value = quota.limit[key];
    if (value !== null) limit[key] = value;
  }
  return { owner: quota.owner, limit };
}

export function pksUsageOf(usage: Usage): PksUsage {
  return {
    owner: usage.owner,
    totals: { cpu: usage.totals.cpu, memory: usage.totals.memory, cluster: usage.totals.cluster },
    clusters: usage.clusters.map((c) => ({ name: c.name, cpu: c.cpu, memory: c.memory })),
  };
}

/** The owner and the limit checked together, so one answer names every bad field. */
function checked<P extends boolean>(
  owner: unknown,
  limit: Partial<Record<keyof QuotaLimit, unknown>>,
  partial: P,
): { whose: string; valid: P extends true ? Partial<QuotaLimit> : QuotaLimit } {
  const bad: InputError[] = [];
  const whose = collectInputErrors(bad, () => validateQuotaOwner(owner));
  const valid = collectInputErrors(bad, () =>
    partial ? validateQuotaLimit(limit, { partial: true }) : validateQuotaLimit(limit),
  );
  throwInputErrors(bad);
  invariant(whose !== undefined && valid !== undefined, 'a quota that passed its checks has values');
  return { whose, valid: valid as P extends true ? Partial<QuotaLimit> : QuotaLimit };
}

function quotaNotFound(owner: string): NotFoundError {
  // PKS's own wording (PKS-REFERENCE §2), which its clients show as is.
  return new NotFoundError(`The quota owner named: "${owner}" not found.`, { details: { owner } });
}

/**
 * Quotas and usage (PKS 1.6's beta, a full capability here): admins set, change and delete an owner's
 * limits; admins and admin.read read everyone's, managers their own. Usage is what the owner's live
 * clusters are allocated by their plans' VM types; creates and resizes by non-admins are held to it.
 */
export class QuotaService {
  readonly #db: Database;
  readonly #plans: readonly Plan[];
  readonly #audit: Audit;

  constructor(db: Database, plans: readonly Plan[], audit: Audit) {
    this.#db = db;
    this.#plans = plans;
    this.#audit = audit;
  }

  /** Every quota for admins and admin.read; a manager's own (if any) for a manager. */
  async list(caller: Caller): Promise<QuotaRecord[]> {
    access.requireAnyPksScope(caller);
    if (access.readsAll(caller)) return quotaStore.all(this.#db, MAX_LISTED_QUOTAS);
    const own = await quotaStore.byOwner(this.#db, caller.name);
    return own === undefined ? [] : [own];
  }

  /** One owner's quota (the caller's own without `owner`); another's is not found for a manager. */
  async get(caller: Caller, owner?: string | null): Promise<QuotaRecord> {
    const whose = this.#readable(caller, owner);
    const quota = await quotaStore.byOwner(this.#db, whose);
    if (quota === undefined) throw quotaNotFound(whose);
    return quota;
  }

  /** Creates or replaces an owner's limit (admin): a field not given is no limit. */
  set(
    caller: Caller,
    owner: string,
    limit: Partial<Record<keyof QuotaLimit, unknown>>,
  ): Promise<QuotaRecord> {
    return this.#audit.audited(caller, 'setQuota', owner, { owner, limit }, async () => {
      access.requireAdmin(caller);
      const { whose, valid } = checked(owner, limit, false);
      return quotaStore.put(this.#db, whose, valid);
    });
  }

  /**
   * Creates an owner's limit (admin; POST `/v1/quotas`): one that exists is a conflict, not replaced, so
   * automation that creates quotas never overwrites a limit an operator set by hand.
   */
  create(
    caller: Caller,
    owner: unknown,
    limit: Partial<Record<keyof QuotaLimit, unknown>>,
  ): Promise<QuotaRecord> {
    const target = typeof owner === 'string' ? owner : undefined;
    return this.#audit.audited(caller, 'createQuota', target, { owner, limit }, async () => {
      access.requireAdmin(caller);
      const { whose, valid } = checked(owner, limit, false);
      const quota = await quotaStore.insert(this.#db, whose, valid);
      if (quota === undefined) {
        throw new ConflictError(`The quota owner named: "${whose}" already has a quota`, {
          details: { owner: whose },
        });
      }
      return quota;
    });
  }

  /**
   * Changes the given fields of an owner's existing limit (admin; PATCH `/v1/quotas/{owner}`), a null one
   * to no limit. Removing the last limit is refused: the quota would limit nothing while still listed as
   * one, and deleting it says so.
   */
  update(
    caller: Caller,
    owner: string,
    limit: Partial<Record<keyof QuotaLimit, unknown>>,
  ): Promise<QuotaRecord> {
    return this.#audit.audited(caller, 'updateQuota', owner, { owner, limit }, async () => {
      access.requireAdmin(caller);
      const { whose, valid } = checked(owner, limit, true);
      return this.#db.transaction(async (tx) => {
        const quota = await quotaStore.byOwner(tx, whose, true);
        if (quota === undefined) throw quotaNotFound(whose);
        if (!limitsAnything({ ...quota.limit, ...valid })) {
          throw new InputError('limit', 'would leave the quota limiting nothing', {
            allowed: `${SOME_LIMIT}; to lift every limit, delete the quota`,
          });
        }
        const updated = await quotaStore.patch(tx, whose, valid);
        invariant(updated !== undefined, 'a quota locked in this transaction is still there');
        return updated;
      });
    });
  }

  /** Removes an owner's limit (admin): they are unlimited again. */
  delete(caller: Caller, owner: string): Promise<QuotaRecord> {
    return this.#audit.audited(caller, 'deleteQuota', owner, { owner }, async () => {
      access.requireAdmin(caller);
      validateQuotaOwner(owner);
      return this.#db.transaction(async (tx) => {
        const quota = await quotaStore.byOwner(tx, owner, true);
        if (quota === undefined) throw quotaNotFound(owner);
        await quotaStore.remove(tx, owner);
        return quota;
      });
    });
  }

  /** Every owner's usage for admins and admin.read (owners with clusters or a quota); a manager's own. */
  async usages(caller: Caller): Promise<Usage[]> {
    access.requireAnyPksScope(caller);
    const owners = access.readsAll(caller)
      ? await quotaStore.owners(this.#db, MAX_LISTED_QUOTAS)
      : [caller.name];
    return Promise.all(owners.map((owner) => this.#usageOf(this.#db, owner)));
  }

  /** One owner's usage (the caller's own without `owner`). */
  async usage(caller: Caller, owner?: string | null): Promise<Usage> {
    return this.#usageOf(this.#db, this.#readable(caller, owner));
  }

  /**
   * Holds a create or resize to the owner's quota. Admins are exempt (as in PKS). Inside `tx` the
   * owner's quota row is locked first, so a concurrent create or resize of the same owner waits for this
   * transaction and then counts what it recorded: two requests at the limit cannot both pass. Without a
   * transaction it is the early check that spares the NSX step of a request bound to be refused.
   */
  async enforce(caller: Caller, check: QuotaCheck, tx?: Queryable): Promise<void> {
    if (access.changesAll(caller)) return;
    const db = tx ?? this.#db;
    const quota = await quotaStore.byOwner(db, check.owner, tx !== undefined);
    if (quota === undefined) return;
    const used = await this.#totalsOf(db, check.owner);
    const adds =
      check.kind === 'create'
        ? footprintOf(check.plan, check.workers)
        : {
            cpu:
              footprintOf(check.plan, check.toWorkers).cpu - footprintOf(check.plan, check.fromWorkers).cpu,
            memory:
              footprintOf(check.plan, check.toWorkers).memory -
              footprintOf(check.plan, check.fromWorkers).memory,
          };
    const refused = quotaExceeded(quota.limit, used, {
      kind: check.kind,
      clusters: check.kind === 'create' ? 1 : 0,
      adds,
    });
    if (refused) throw refused;
  }

  /** The same sums as `#usageOf`'s totals, from one row per plan (the locked check's read). */
  async #totalsOf(db: Queryable, owner: string): Promise<Footprint & { cluster: number }> {
    const totals = { cluster: 0, cpu: 0, memory: 0 };
    for (const p of await quotaStore.plansOf(db, owner)) {
      const size = this.#sizeOf(p.planName, p.clusters, p.workers);
      totals.cluster += p.clusters;
      totals.cpu += size.cpu;
      totals.memory += size.memory;
    }
    return totals;
  }

  /** `clusters` clusters of a plan with `workers` workers in all. */
  #sizeOf(planName: string, clusters: number, workers: number): Footprint {
    // A plan taken out of the configuration leaves its clusters unmeasurable: counted, sized 0.
    const plan = this.#plans.find((p) => p.name === planName);
    return plan === undefined ? { cpu: 0, memory: 0 } : footprintOf(plan, workers, clusters);
  }

  #readable(caller: Caller, owner: string | null | undefined): string {
    access.requireAnyPksScope(caller);
    if (owner === undefined || owner === null) return caller.name;
    const whose = validateQuotaOwner(owner);
    // A manager asking about someone else learns nothing, not even that the owner exists.
    if (whose !== caller.name && !access.readsAll(caller)) throw quotaNotFound(whose);
    return whose;
  }

  /**
   * An owner's usage. Every live cluster record counts, a failed create too: its name is held and its
   * VMs may exist until it is deleted. Workers are the spec's count (what the owner asked for), not what
   * the Director runs now: a resize in progress, or a VM the Director has not recreated yet, must not
   * make room for another request that would overrun the limit once the Director catches up.
   */
  async #usageOf(db: Queryable, owner: string): Promise<Usage> {
    const [clusters, quota] = await Promise.all([
      quotaStore.clustersOf(db, owner),
      quotaStore.byOwner(db, owner),
    ]);
    const rows = clusters.map((c) => ({ ...c, ...this.#sizeOf(c.planName, 1, c.workerInstances) }));
    return {
      owner,
      totals: {
        cluster: rows.length,
        cpu: rows.reduce((sum, r) => sum + r.cpu, 0),
        memory: rows.reduce((sum, r) => sum + r.memory, 0),
      },
      clusters: rows,
      limit: quota?.limit ?? null,
    };
  }
}
