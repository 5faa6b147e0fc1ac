import type { Database } from '@openpks/db';
import { ConflictError } from '@openpks/domain';
import type { OperationRecord } from '../operations/operationStore.js';
import type { Operations } from '../operations/operations.js';
import { clusterStore, type ClusterRecord } from '../store/clusterStore.js';
import type { OperationTracker } from '../tracker/operationTracker.js';
import { access, clusterNotFound, type Caller } from './access.js';
import type { Audit } from './audit.js';

export interface OperationServiceOptions {
  db: Database;
  operations: Operations;
  tracker: Pick<OperationTracker, 'retry' | 'abandon'>;
  audit: Audit;
}

/** An operation as an administrator lists it, with the cluster it is about. */
export interface ClusterOperationView {
  operation: OperationRecord;
  clusterName: string;
}

/** The most operations `clusterOperations` lists. */
export const MAX_LISTED_OPERATIONS = 500;

/** What an administrator does about an operation that is stuck: see it, drive it again, or give it up. */
export class OperationService {
  readonly #o: OperationServiceOptions;

  constructor(options: OperationServiceOptions) {
    this.#o = options;
  }

  /** Recent operations (those in progress only, with `inProgress`), newest first: admins and admin.read. */
  async list(
    caller: Caller,
    filter: { clusterName?: string | undefined; inProgress?: boolean; limit: number },
  ): Promise<ClusterOperationView[]> {
    access.requireReadAll(caller);
    let clusterUuid: string | undefined;
    if (filter.clusterName !== undefined) {
      const cluster = await clusterStore.byName(this.#o.db, filter.clusterName);
      if (cluster === undefined) throw clusterNotFound(filter.clusterName);
      clusterUuid = cluster.uuid;
    }
    const operations = await this.#o.operations.recent({
      clusterUuid,
      inProgress: filter.inProgress ?? false,
      limit: Math.min(Math.max(filter.limit, 1), MAX_LISTED_OPERATIONS),
    });
    const names = await clusterStore.namesOf(this.#o.db, [...new Set(operations.map((o) => o.clusterUuid))]);
    return operations.map((operation) => ({
      operation,
      clusterName: names.get(operation.clusterUuid) ?? operation.clusterUuid,
    }));
  }

  /** Drives the cluster's operation in progress again now (re-sent if the broker never acknowledged it). */
  retry(caller: Caller, name: string): Promise<ClusterRecord> {
    return this.#o.audit.audited(caller, 'retryClusterOperation', name, {}, async () => {
      const { cluster, operation } = await this.#inProgress(caller, name);
      if (!(await this.#o.tracker.retry(operation.id))) throw finishedMeanwhile(name);
      return (await clusterStore.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  /**
   * Ends the cluster's operation in progress as failed, with who did it and why, so the cluster can be
   * changed or deleted again. What the broker and Director are doing is not stopped.
   */
  abandon(caller: Caller, name: string, reason: string | undefined): Promise<ClusterRecord> {
    return this.#o.audit.audited(caller, 'abandonClusterOperation', name, { reason }, async () => {
      const { cluster, operation } = await this.#inProgress(caller, name);
      const why = reason?.trim() ? `: ${reason.trim()}` : '';
      const description =
        `${operation.kind} abandoned by ${caller.name}${why}; the broker and the Director may still be ` +
        'working on it: check the cluster, then repeat the change or delete the cluster';
      if (!(await this.#o.tracker.abandon(operation.id, description))) throw finishedMeanwhile(name);
      return (await clusterStore.byUuid(this.#o.db, cluster.uuid))!;
    });
  }

  async #inProgress(
    caller: Caller,
    name: string,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
    access.requireAdmin(caller);
    const cluster = await clusterStore.byName(this.#o.db, name);
    if (cluster === undefined) throw clusterNotFound(name);
    const operation = await this.#o.operations.activeFor(cluster.uuid);
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
