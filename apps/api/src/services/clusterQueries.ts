import type { Database } from '@openpks/db';
import { InputError, NotFoundError, validateClusterName, type Plan } from '@openpks/domain';
import type { ClusterObserver } from '../clusters/observer.js';
import { clusterEventStore } from '../store/clusterEventStore.js';
import { clusterNetworks, type ClusterNetworkRecord } from '../store/clusterNetworks.js';
import { clusterStore, type ClusterRecord } from '../store/clusterStore.js';
import { networkProfileStore, type NetworkProfileRecord } from '../store/networkProfileStore.js';
import { access, clusterNotFound, type Caller } from './access.js';
import type { ClusterEventMessage } from './events.js';

/** The largest page of `clustersConnection` (a bigger one is refused, never silently cut). */
export const MAX_CLUSTER_PAGE = 500;

export interface ClusterQueriesOptions {
  db: Database;
  plans: readonly Plan[];
  /** Reads a cluster's status from the Director when its details are asked for. */
  observer: ClusterObserver;
}

/** A cluster's details with what PKS's `clusterdetails` shows beside it. */
export interface ClusterDetails {
  cluster: ClusterRecord;
  /** Its NSX-T networking; undefined before the proxy step recorded any (or without NSX-T). */
  network: ClusterNetworkRecord | undefined;
  /** Its network profile as defined now; undefined without one, or when the profile was deleted since. */
  profile: NetworkProfileRecord | undefined;
  /** Its plan; undefined when the plan is no longer offered. */
  plan: Plan | undefined;
}

/** What a caller may read of plans and clusters (PKS-REFERENCE §3: managers see only their own). */
export class ClusterQueries {
  readonly #o: ClusterQueriesOptions;

  constructor(options: ClusterQueriesOptions) {
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
    return clusterStore.live(this.#o.db, access.readsAll(caller) ? undefined : caller.name);
  }

  /**
   * How many clusters `list` would return the caller, in one COUNT: the query cost limit prices lists of
   * clusters by it. A caller without a PKS scope sees none (`list` refuses them).
   */
  async countVisible(caller: Caller): Promise<number> {
    if (!access.hasAnyPksScope(caller)) return 0;
    return clusterStore.count(this.#o.db, access.readsAll(caller) ? undefined : caller.name);
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
      clusterStore.page(this.#o.db, { owner, after: options.after, limit: first + 1 }),
      clusterStore.count(this.#o.db, owner),
    ]);
    return { clusters: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /** Several clusters by name in one query; those the caller may not see are left out (not found). */
  async getMany(caller: Caller, names: readonly string[]): Promise<Map<string, ClusterRecord>> {
    access.requireAnyPksScope(caller);
    const found = await clusterStore.byNames(this.#o.db, names);
    return new Map(found.filter((c) => access.canSee(caller, c.owner)).map((c) => [c.name, c]));
  }

  /** The recent events of several clusters the caller was already allowed to read, in one query. */
  eventsOf(clusterUuids: readonly string[], limit = 50): Promise<Map<string, ClusterEventMessage[]>> {
    return clusterEventStore.recentOf(this.#o.db, clusterUuids, limit);
  }

  /** The NSX-T networking of several clusters the caller was already allowed to read, in one query. */
  async networksOf(clusterUuids: readonly string[]): Promise<Map<string, ClusterNetworkRecord>> {
    const found = await clusterNetworks.many(this.#o.db, clusterUuids);
    return new Map(found.map((n) => [n.clusterUuid, n]));
  }

  async get(caller: Caller, name: string): Promise<ClusterRecord> {
    access.requireAnyPksScope(caller);
    const cluster = await clusterStore.byName(this.#o.db, name);
    if (cluster === undefined || !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    return cluster;
  }

  /**
   * A cluster's details: the cluster with its status read from the Director now (one read of its
   * deployment), so what it shows is what runs. As last observed when the Director cannot say.
   */
  async details(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.#o.observer.refresh(await this.get(caller, name));
  }

  /**
   * A cluster's details (as `details`) with its network, network profile and plan: PKS's `clusterdetails`.
   * A profile deleted since the cluster was created is left out, not an error: the cluster still runs
   * with the parameters its network recorded.
   */
  async detailsWithNetwork(caller: Caller, name: string): Promise<ClusterDetails> {
    const cluster = await this.details(caller, name);
    const [network, profile] = await Promise.all([
      clusterNetworks.get(this.#o.db, cluster.uuid),
      cluster.networkProfileName === null
        ? undefined
        : networkProfileStore.byName(this.#o.db, cluster.networkProfileName),
    ]);
    const plan = this.plans(caller).find((p) => p.name === cluster.planName);
    return { cluster, network, profile, plan };
  }

  /**
   * What a `clusterEvents` subscriber may see. Another's cluster is not found, as everywhere; a name not
   * in use yet may be watched (subscribe, then create), and every event is still checked against its owner.
   */
  async watch(caller: Caller, name: string): Promise<(event: ClusterEventMessage) => boolean> {
    access.requireAnyPksScope(caller);
    validateClusterName(name, 'name');
    const cluster = await clusterStore.byName(this.#o.db, name);
    if (cluster !== undefined && !access.canSee(caller, cluster.owner)) throw clusterNotFound(name);
    return (event) => event.clusterName === name && access.canSee(caller, event.owner);
  }

  events(cluster: ClusterRecord, limit = 50): Promise<ClusterEventMessage[]> {
    return clusterEventStore.recent(this.#o.db, cluster.uuid, limit);
  }
}
