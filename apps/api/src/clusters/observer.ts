import type { DirectorClient } from '@openpks/bosh';
import type { Database } from '@openpks/db';
import { LastActionState } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import type { ClusterRecord } from '../store/clusterStore.js';
import { updateClusterState } from './clusterState.js';
import { observeCluster, type ClusterStatus } from './status.js';

/** How long a read of a cluster's status may wait for the Director (its instance listing is a task). */
export const DEFAULT_OBSERVE_TIMEOUT_MS = 10_000;

/**
 * Keeps a cluster's status in line with the Director when someone reads its details (operations refresh
 * it when they end). A list never asks the Director: it shows each cluster's status as last observed.
 * While an operation runs the Director is busy with the deployment (its instance listing would wait behind
 * the deploy), so details show the status as last observed until the operation ends and reads it.
 */
export class ClusterObserver {
  readonly #db: Database;
  readonly #director: DirectorClient | undefined;
  readonly #logger: Pick<Logger, 'warn'>;
  readonly #timeoutMs: number;

  constructor(
    db: Database,
    director: DirectorClient | undefined,
    logger: Pick<Logger, 'warn'>,
    timeoutMs = DEFAULT_OBSERVE_TIMEOUT_MS,
  ) {
    this.#db = db;
    this.#director = director;
    this.#logger = logger;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Reads a cluster's status from the Director, failing after the timeout; undefined without a Director
   * (an API deployed with no access to it).
   */
  get observe(): ((uuid: string) => Promise<ClusterStatus>) | undefined {
    const director = this.#director;
    if (director === undefined) return undefined;
    return (uuid) => within(observeCluster(director, uuid), this.#timeoutMs, 'reading the cluster’s status');
  }

  /**
   * The cluster with its status read from the Director now, stored when anything but the time of the
   * reading changed (so a read that finds nothing new writes nothing). When the Director cannot be read
   * the cluster is returned as last observed.
   */
  async refresh(cluster: ClusterRecord): Promise<ClusterRecord> {
    const observe = this.observe;
    if (observe === undefined || cluster.lastActionState === LastActionState.IN_PROGRESS) return cluster;
    let status: ClusterStatus;
    try {
      status = await observe(cluster.uuid);
    } catch (error) {
      this.#logger.warn(
        { err: error, cluster: cluster.name },
        'could not read the status of a cluster from the Director; showing it as last observed',
      );
      return cluster;
    }
    if (!this.#changes(cluster, status)) return { ...cluster, status };
    const written = await this.#db.transaction((tx) => updateClusterState(tx, cluster.uuid, { status }));
    return written.deletedAt === null ? written : cluster;
  }

  /**
   * Whether `status` says anything new about the cluster. Its conditions follow from its spec, status and
   * latest operation, and were derived at the last write of any of them: the same status changes none.
   */
  #changes(cluster: ClusterRecord, status: ClusterStatus): boolean {
    if (cluster.status === null) return true;
    const { observedAt: _then, ...before } = cluster.status;
    const { observedAt: _now, ...after } = status;
    return JSON.stringify(before) !== JSON.stringify(after);
  }
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
