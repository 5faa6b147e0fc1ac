import type { DirectorClient } from '@openpks/bosh';
import type { Database } from '@openpks/db';
import type { Logger } from '@openpks/role';
import type { ClusterRecord } from '../store/clusterStore.js';
import { updateClusterState } from './clusterState.js';
import { observeCluster, type ClusterStatus } from './status.js';

/**
 * Keeps a cluster's status in line with the Director when someone reads its details (operations refresh
 * it when they end). A list never asks the Director: it shows each cluster's status as last observed.
 */
export class ClusterObserver {
  readonly #db: Database;
  readonly #director: DirectorClient | undefined;
  readonly #logger: Pick<Logger, 'warn'>;

  constructor(db: Database, director: DirectorClient | undefined, logger: Pick<Logger, 'warn'>) {
    this.#db = db;
    this.#director = director;
    this.#logger = logger;
  }

  /** Reads a cluster's status from the Director; undefined without one (an API with no Director access). */
  get observe(): ((uuid: string) => Promise<ClusterStatus>) | undefined {
    const director = this.#director;
    return director === undefined ? undefined : (uuid) => observeCluster(director, uuid);
  }

  /**
   * The cluster with its status read from the Director now, stored when anything but the time of the
   * reading changed (so a read that finds nothing new writes nothing). When the Director cannot be read
   * the cluster is returned as last observed.
   */
  async refresh(cluster: ClusterRecord): Promise<ClusterRecord> {
    if (this.#director === undefined) return cluster;
    let status: ClusterStatus;
    try {
      status = await observeCluster(this.#director, cluster.uuid);
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
