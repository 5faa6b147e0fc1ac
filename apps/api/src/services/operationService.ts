import type { Database } from '@openpks/db';
import { ConflictError } from '@openpks/domain';
import { clusters, operations, type ClusterRecord, type OperationRecord } from '../store/records.js';
import type { OperationTracker } from '../tracker/operationTracker.js';
import { access, clusterNotFound, type Caller } from './access.js';
import type { ClusterService } from './clusterService.js';

export interface OperationServiceOptions {
  db: Database;
  tracker: Pick<OperationTracker, 'retry' | 'abandon'>;
  clusterService: Pick<ClusterService, 'audited'>;
}

/** What an administrator does about an operation that is stuck: drive it again, or give it up. */
export class OperationService {
  readonly #o: OperationServiceOptions;

  constructor(options: OperationServiceOptions) {
    this.#o = options;
  }

  /** Drives the cluster's operation in progress again now (re-sent if the broker never acknowledged it). */
  retry(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.#o.clusterService.audited(caller, 'retryClusterOperation', name, {}, async () => {
      const { cluster, operation } = await this.#inProgress(caller, name);
      if (!(await this.#o.tracker.retry(operation.id))) throw finishedMeanwhile(name);
      return (await clusters.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  /**
   * Ends the cluster's operation in progress as failed, with who did it and why, so the cluster can be
   * changed or deleted again. What the broker and Director are doing is not stopped.
   */
  abandon(caller: Caller, name: string, reason: string | undefined): Promise<ClusterRecord> {
    return this.#o.clusterService.audited(caller, 'abandonClusterOperation', name, { reason }, async () => {
      const { cluster, operation } = await this.#inProgress(caller, name);
      const why = reason?.trim() ? `: ${reason.trim()}` : '';
      const description =
        `${operation.kind} abandoned by ${caller.name}${why}; the broker and the Director may still be ` +
        'working on it: check the cluster, then repeat the change or delete the cluster';
      if (!(await this.#o.tracker.abandon(operation.id, description))) throw finishedMeanwhile(name);
      return (await clusters.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  async #inProgress(
    caller: Caller,
    name: string,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
    access.requireAdmin(caller);
    const cluster = await clusters.byName(this.#o.db, name);
    if (cluster === undefined) throw clusterNotFound(name);
    const operation = await operations.activeFor(this.#o.db, cluster.uuid);
    if (operation === undefined) {
      throw new ConflictError(`Cluster ${name} has no operation in progress`, { details: { cluster: name } });
    }
    return { cluster, operation };
  }
}

function finishedMeanwhile(name: string): ConflictError {
  return new ConflictError(`The operation of cluster ${name} ended meanwhile`, {
    details: { cluster: name },
  });
}
