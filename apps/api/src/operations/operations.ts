import type { Database, Queryable } from '@openpks/db';
import { ConflictError, isPksError, LastActionState, type PksError } from '@openpks/domain';
import type { NsxProxy } from '@openpks/nsx';
import type { Logger } from '@openpks/role';
import { updateClusterState } from '../clusters/clusterState.js';
import { deriveConditions } from '../clusters/conditions.js';
import { COMPLETED, lastActionOf, STARTING } from '../clusters/lastAction.js';
import { applySpecChange, type ClusterSpec, type ClusterSpecChange } from '../clusters/spec.js';
import type { ClusterStatus } from '../clusters/status.js';
import type { Metrics } from '../http/metrics.js';
import { ClusterEventKind, recordClusterEvent } from '../services/events.js';
import type { Audit } from '../services/audit.js';
import { clusterNetworks } from '../store/clusterNetworks.js';
import { clusterStore, specOf, type ClusterRecord } from '../store/clusterStore.js';
import { clusterNotFound } from '../services/access.js';
import {
  OperationKind,
  OperationPhase,
  OperationState,
  operationStore,
  type OperationRecord,
  type OperationRequest,
} from './operationStore.js';

export const DEFAULT_BROKER_UNREACHABLE_MS = 15 * 60_000;
export const DEFAULT_POLLING_DEADLINE_MS = 24 * 60 * 60_000;

export interface OperationsOptions {
  db: Database;
  /** This replica's name, the holder of the leases it takes. */
  holder: string;
  leaseMs: number;
  logger: Pick<Logger, 'warn' | 'error'>;
  audit: Audit;
  /** Reads a cluster's status from the Director; without it the status is never observed. */
  observe?: ((uuid: string) => Promise<ClusterStatus>) | undefined;
  /** The NSX-T proxy step: a deleted cluster's NSX objects are released once the broker has deleted it. */
  nsx?: NsxProxy | undefined;
  metrics?: Metrics | undefined;
  /** Called when an operation ends (upgrade runs hear about their clusters here). */
  onFinished?: ((op: OperationRecord, state: LastActionState) => void) | undefined;
  /** Tells every tracker, here and on other replicas, that an operation wants driving. */
  wake: () => void;
  /**
   * Deadlines per phase. `requested` (not yet acknowledged) and `polling` alike end failed when the broker
   * has not answered for `brokerUnreachableMs` (default 15 minutes); `polling` also ends failed when the
   * broker has reported it in progress for `pollingMs` (default 24 hours, OSB's maximum polling duration).
   */
  deadlines?: { brokerUnreachableMs?: number | undefined; pollingMs?: number | undefined };
}

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** A new operation: what it is, the OSB request to send, who asked, and the spec change it carries. */
export interface OperationRequestInput {
  id: string;
  kind: OperationKind;
  request: OperationRequest;
  user: string;
  taskId?: string | null;
  specChange?: ClusterSpecChange;
}

/**
 * The owner of every operation transition: requested → sent (polling) → done, or failed, with the lease
 * that lets one driver at a time carry it (claimed, renewed during long calls, released), a deadline per
 * phase, and for each transition the cluster's mirror (last action, spec, status, conditions), its state
 * event and, when it ends, its audit entry. Nothing else writes `api.operations` (its SQL is in
 * `operationStore.ts`).
 */
export class Operations {
  readonly #o: OperationsOptions;

  constructor(options: OperationsOptions) {
    this.#o = options;
  }

  get holder(): string {
    return this.#o.holder;
  }

  // ---- requests ---------------------------------------------------------------------------------------

  /**
   * Records a new cluster and its create, leased by this replica (which sends it), in one transaction;
   * `guard` runs in it first (the quota check, whose lock holds until the record is committed), `more`
   * last. A name in use is a CONFLICT.
   */
  async requestCreate(
    cluster: { uuid: string; name: string; owner: string; spec: ClusterSpec },
    input: Omit<OperationRequestInput, 'kind' | 'specChange'>,
    more?: (tx: Tx) => Promise<void>,
    guard?: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    const op = {
      id: input.id,
      clusterUuid: cluster.uuid,
      kind: OperationKind.CREATE,
      request: input.request,
      originatingUser: input.user,
      taskId: input.taskId ?? null,
      description: STARTING.create,
      generation: 1,
      previousSpec: null,
    };
    const view = lastActionOf({ ...op, state: OperationState.IN_PROGRESS });
    await this.#o.db
      .transaction(async (tx) => {
        await guard?.(tx);
        await clusterStore.insert(tx, {
          uuid: cluster.uuid,
          name: cluster.name,
          owner: cluster.owner,
          spec: cluster.spec,
          ...view,
          conditions: deriveConditions(
            {
              spec: cluster.spec,
              generation: 1,
              observedGeneration: 0,
              status: null,
              operation: { ...op, state: OperationState.IN_PROGRESS },
            },
            [],
          ),
        });
        await operationStore.insert(tx, op, this.#o.holder, this.#o.leaseMs);
        await this.#stateEvent(tx, cluster, view, { created: true });
        await more?.(tx);
      })
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === '23505') {
          throw new ConflictError(`Cluster ${cluster.name} already exists`, { details: { field: 'name' } });
        }
        throw error;
      });
  }

  /**
   * Records an operation on an existing cluster with the spec change it carries (a new generation when
   * anything changes), unless one is already in progress: CONFLICT. Leased by this replica, which sends
   * it next (`send`), unless `sent` says the broker already has it (an upgrade run's). `guard` runs in
   * the transaction with the cluster locked as it stands (the quota check of a resize), before anything
   * is written.
   */
  async request(
    cluster: ClusterRecord,
    input: OperationRequestInput,
    options: {
      sentAs?: string;
      more?: (tx: Tx) => Promise<void>;
      guard?: (tx: Tx, locked: ClusterRecord) => Promise<void>;
    } = {},
  ): Promise<OperationRecord> {
    const op = await this.#o.db
      .transaction(async (tx) => {
        const locked = await clusterStore.byName(tx, cluster.name, true);
        if (locked === undefined || locked.uuid !== cluster.uuid) throw clusterNotFound(cluster.name);
        if (await operationStore.activeFor(tx, locked.uuid)) throw inFlight(cluster.name);
        await options.guard?.(tx, locked);
        const before = specOf(locked);
        const { spec, changed } = applySpecChange(before, input.specChange ?? {});
        const generation = changed ? locked.generation + 1 : locked.generation;
        const fields = {
          id: input.id,
          clusterUuid: locked.uuid,
          kind: input.kind,
          request: input.request,
          originatingUser: input.user,
          taskId: input.taskId ?? null,
          description: STARTING[input.kind],
          generation,
          previousSpec: changed ? before : null,
        };
        await operationStore.insert(
          tx,
          fields,
          options.sentAs === undefined ? this.#o.holder : null,
          this.#o.leaseMs,
        );
        if (options.sentAs !== undefined) {
          await operationStore.acknowledged(tx, fields.id, options.sentAs, {
            holder: null,
            keepLease: false,
          });
        }
        const op = (await operationStore.byId(tx, fields.id))!;
        const written = await updateClusterState(tx, locked.uuid, {
          ...(changed ? { spec: { spec, generation } } : {}),
          operation: op,
          lastAction: true,
        });
        await this.#stateEvent(tx, written, lastActionOf(op));
        await options.more?.(tx);
        return op;
      })
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === '23505') throw inFlight(cluster.name);
        throw error;
      });
    // Already with the broker: a tracker follows it from now (one sent by us is announced once sent).
    if (options.sentAs !== undefined) this.#o.wake();
    return op;
  }

  /**
   * Sends the OSB request of an operation this replica holds, renewing the lease while the call lasts (a
   * slow broker can take a minute; another replica must not claim it and send it a second time).
   * Acknowledged: the operation polls, and every tracker hears of it. Refused: it fails with the broker's
   * reason, the spec it changed is put back (nothing changed), and the error is thrown. Unreachable or
   * broken broker: it stays requested and a tracker re-sends it.
   */
  async send(
    op: Pick<OperationRecord, 'id' | 'clusterUuid'>,
    call: () => Promise<{ operation: string | undefined }>,
    domainErrorOf: (error: unknown) => unknown,
  ): Promise<void> {
    const stop = this.heartbeat(op.id, () => undefined);
    let answer: { operation: string | undefined };
    try {
      answer = await call();
    } catch (error) {
      stop();
      const domain = domainErrorOf(error);
      if (isPksError(domain) && domain.code !== 'INTERNAL') {
        await this.#refused(op.id, domain);
        throw domain;
      }
      await operationStore.release(this.#o.db, op.id, this.#o.holder);
      this.#o.wake();
      return;
    }
    stop();
    await operationStore.acknowledged(this.#o.db, op.id, answer.operation ?? null, {
      holder: this.#o.holder,
      keepLease: false,
    });
    this.#o.wake();
  }

  async #refused(id: string, error: PksError): Promise<void> {
    const ended = await this.#o.db.transaction(async (tx) => {
      const op = await operationStore.finish(tx, id, OperationState.FAILED, error.message, null);
      if (op === undefined) return undefined;
      const cluster = await clusterStore.byUuid(tx, op.clusterUuid, true);
      // The broker took nothing: the spec goes back to what it was, at the generation it had.
      const restore =
        op.previousSpec !== null && cluster !== undefined && op.generation === cluster.generation
          ? { spec: { spec: op.previousSpec, generation: op.generation - 1 } }
          : {};
      const written = await updateClusterState(tx, op.clusterUuid, {
        ...restore,
        operation: op,
        lastAction: true,
      });
      await this.#stateEvent(tx, written, lastActionOf(op));
      return op;
    });
    if (ended !== undefined) await this.#ended(ended, LastActionState.FAILED);
  }

  // ---- leases -----------------------------------------------------------------------------------------

  /** Leases the next operation that wants a driver (none driven here already). */
  claim(exclude: readonly string[]): Promise<OperationRecord | undefined> {
    return this.#o.db.transaction((tx) =>
      operationStore.claimNext(tx, this.#o.holder, this.#o.leaseMs, exclude),
    );
  }

  /** False when this replica no longer holds the operation (taken over, ended, abandoned). */
  renew(id: string): Promise<boolean> {
    return operationStore.renewLease(this.#o.db, id, this.#o.holder, this.#o.leaseMs);
  }

  /**
   * Renews the lease on a clock of its own (a third of it), so that no single call can outlast it;
   * `onLost` hears when a renewal finds it gone. Returns the stop.
   */
  heartbeat(id: string, onLost: () => void): () => void {
    const timer = setInterval(() => {
      this.renew(id).then(
        (held) => {
          if (!held) onLost();
        },
        (error: unknown) => this.#o.logger.warn({ err: error, operation: id }, 'renewing a lease failed'),
      );
    }, this.#o.leaseMs / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Hands the operation back (unless it ended) so the next look, here or elsewhere, picks it up. */
  release(id: string): Promise<void> {
    return operationStore.release(this.#o.db, id, this.#o.holder);
  }

  /** In ms, when the earliest lease another replica holds runs out (null when none is held). */
  nextForeignLeaseExpiryMs(): Promise<number | null> {
    return operationStore.nextForeignLeaseExpiryMs(this.#o.db, this.#o.holder);
  }

  // ---- while it runs ----------------------------------------------------------------------------------

  /** A re-sent request the broker acknowledged: the driver goes on polling it. False when the lease is gone. */
  resent(op: OperationRecord, brokerOperation: string | undefined): Promise<boolean> {
    return operationStore.acknowledged(this.#o.db, op.id, brokerOperation ?? null, {
      holder: this.#o.holder,
      keepLease: true,
    });
  }

  /** The broker's words for the operation while it runs, on the cluster and as a state event. */
  async progress(op: OperationRecord, description: string): Promise<void> {
    await this.#o.db.transaction(async (tx) => {
      if (!(await operationStore.describe(tx, op.id, this.#o.holder, description))) return;
      const current = (await operationStore.byId(tx, op.id))!;
      const written = await updateClusterState(tx, op.clusterUuid, { operation: current, lastAction: true });
      await this.#stateEvent(tx, written, lastActionOf(current));
    });
  }

  /** The Director task the operation is at now. */
  directorTask(op: OperationRecord, taskId: number): Promise<void> {
    return operationStore.setDirectorTask(this.#o.db, op.id, taskId);
  }

  /**
   * The broker did not answer: the outage's start is stored (a restart or another replica keeps the
   * clock), and past the limit the operation ends failed with the reason. True when it ended.
   */
  async brokerUnreachable(op: OperationRecord, reason: string): Promise<boolean> {
    const limitMs = this.#o.deadlines?.brokerUnreachableMs ?? DEFAULT_BROKER_UNREACHABLE_MS;
    const ms = await operationStore.brokerUnreachable(this.#o.db, op.id, this.#o.holder);
    if (ms === undefined || ms < limitMs) return false;
    await this.finish(
      op,
      OperationState.FAILED,
      `the broker did not answer for ${formatDuration(limitMs)} (last error: ${reason}); the cluster may be ` +
        'partly changed: check it with `pks cluster`, then repeat the change or delete the cluster',
      // The Director may still be deploying: its status is read when someone next looks at it.
      { observe: false },
    );
    return true;
  }

  brokerAnswered(op: OperationRecord): Promise<void> {
    return operationStore.brokerAnswered(this.#o.db, op.id);
  }

  /**
   * The polling phase's deadline: an operation the broker has reported in progress for longer than the
   * limit ends failed with the reason and the broker's last words. True when it ended.
   */
  async pollingOverdue(op: OperationRecord, lastWords: string): Promise<boolean> {
    if (op.phase !== OperationPhase.POLLING) return false;
    const limitMs = this.#o.deadlines?.pollingMs ?? DEFAULT_POLLING_DEADLINE_MS;
    const ms = await operationStore.phaseAgeMs(this.#o.db, op.id);
    if (ms === undefined || ms < limitMs) return false;
    await this.finish(
      op,
      OperationState.FAILED,
      `the broker reported this ${op.kind} in progress for more than ${formatDuration(limitMs)}` +
        (lastWords ? ` (its last word: ${lastWords})` : '') +
        '; the broker and the Director may still be working on it: check the cluster with `pks cluster`, ' +
        'then repeat the change or delete the cluster',
      { observe: false },
    );
    return true;
  }

  // ---- the end ----------------------------------------------------------------------------------------

  /**
   * Ends an operation this replica holds (a driver that lost its lease during a long call must not): the
   * NSX objects of a deleted cluster are released first (a failure there fails the delete, so a retry
   * releases them), the cluster's status is read from the Director, and the cluster shows the outcome.
   */
  async finish(
    op: OperationRecord,
    state: typeof OperationState.SUCCEEDED | typeof OperationState.FAILED,
    description: string = state === OperationState.SUCCEEDED ? COMPLETED[op.kind] : `${op.kind} failed`,
    { observe = true }: { observe?: boolean } = {},
  ): Promise<void> {
    let deleted = op.kind === OperationKind.DELETE && state === OperationState.SUCCEEDED;
    if (deleted && this.#o.nsx && (await clusterNetworks.get(this.#o.db, op.clusterUuid))) {
      try {
        await this.#o.nsx.release(op.clusterUuid);
      } catch (error) {
        state = OperationState.FAILED;
        description = `NSX-T objects could not be released (${(error as Error).message}); delete the cluster again`;
        deleted = false;
      }
    }
    const status = deleted || !observe ? undefined : await this.#observe(op);
    const ended = await this.#o.db.transaction(async (tx) => {
      const done = await operationStore.finish(
        tx,
        op.id,
        state as 'succeeded' | 'failed',
        description,
        this.#o.holder,
      );
      if (done === undefined) return undefined;
      if (deleted) await clusterNetworks.remove(tx, op.clusterUuid);
      const written = await updateClusterState(tx, op.clusterUuid, {
        operation: done,
        lastAction: true,
        ...(status !== undefined ? { status } : {}),
        ...(state === OperationState.SUCCEEDED && done.generation !== null
          ? { applied: done.generation }
          : {}),
        ...(deleted ? { deleted: true } : {}),
      });
      if (state === OperationState.SUCCEEDED && !deleted && this.#o.observe === undefined) {
        // Without a Director to read, the versions of a change the broker reports done are the ones it
        // was asked for: all there is to go on.
        await clusterStore.update(tx, op.clusterUuid, {
          pksVersion: written.wantedPksVersion,
          k8sVersion: written.wantedK8sVersion,
        });
      }
      await this.#stateEvent(tx, written, lastActionOf(done));
      return done;
    });
    if (ended !== undefined)
      await this.#ended(
        ended,
        state === OperationState.SUCCEEDED ? LastActionState.SUCCEEDED : LastActionState.FAILED,
      );
  }

  /**
   * Ends an operation failed with `description`, whoever drives it (its driver stops at its next write);
   * the cluster can then be changed or deleted again. What the broker and Director are doing is not
   * stopped. Undefined when the operation is no longer in progress.
   */
  async abandon(id: string, description: string): Promise<OperationRecord | undefined> {
    const ended = await this.#o.db.transaction(async (tx) => {
      const op = await operationStore.finish(tx, id, OperationState.FAILED, description, null);
      if (op === undefined) return undefined;
      const written = await updateClusterState(tx, op.clusterUuid, { operation: op, lastAction: true });
      await this.#stateEvent(tx, written, lastActionOf(op));
      return op;
    });
    if (ended !== undefined) await this.#ended(ended, LastActionState.FAILED);
    return ended;
  }

  /**
   * Drives a stuck operation again now: its lease is taken from whoever holds it and the broker outage
   * clock restarts; every replica looks for work. False when it is no longer in progress.
   */
  async retry(id: string): Promise<boolean> {
    if (!(await operationStore.releaseForRetry(this.#o.db, id))) return false;
    this.#o.wake();
    return true;
  }

  // ---- reads ------------------------------------------------------------------------------------------

  activeFor(clusterUuid: string): Promise<OperationRecord | undefined> {
    return operationStore.activeFor(this.#o.db, clusterUuid);
  }

  activeForTask(taskId: string): Promise<boolean> {
    return operationStore.activeForTask(this.#o.db, taskId);
  }

  recent(filter: {
    clusterUuid?: string | undefined;
    inProgress?: boolean;
    limit: number;
  }): Promise<OperationRecord[]> {
    return operationStore.recent(this.#o.db, filter);
  }

  // ---- inside ---------------------------------------------------------------------------------------

  /** The cluster's status at the end of an operation; the outcome stands if the Director cannot tell. */
  async #observe(op: OperationRecord): Promise<ClusterStatus | undefined> {
    if (this.#o.observe === undefined) return undefined;
    return this.#o.observe(op.clusterUuid).catch((error: unknown) => {
      this.#o.logger.warn(
        { err: error, operation: op.id, cluster: op.clusterUuid },
        'could not read the status of a cluster from the Director; the next read of its details will',
      );
      return undefined;
    });
  }

  /** After an operation ended: its audit entry, the metrics, and whoever waits for it. */
  async #ended(op: OperationRecord, state: LastActionState): Promise<void> {
    const names = await clusterStore
      .namesOf(this.#o.db, [op.clusterUuid])
      .catch(() => new Map<string, string>());
    await this.#o.audit.write(
      {
        actor: op.originatingUser,
        clientId: 'pks-api',
        action: `${op.kind}ClusterFinished`,
        target: names.get(op.clusterUuid) ?? op.clusterUuid,
        parameters: { operation: op.id, ...(op.taskId ? { task: op.taskId } : {}) },
        outcome: state === LastActionState.SUCCEEDED ? 'succeeded' : 'failed',
        errorCode: null,
        message: op.description,
      },
      'an operation',
    );
    this.#o.metrics?.operations.inc({ kind: op.kind, state });
    this.#o.metrics?.operationSeconds.observe(
      { kind: op.kind },
      (Date.now() - op.createdAt.getTime()) / 1000,
    );
    this.#o.onFinished?.(op, state);
  }

  #stateEvent(
    tx: Queryable,
    cluster: Pick<ClusterRecord, 'uuid' | 'name' | 'owner'>,
    view: ReturnType<typeof lastActionOf>,
    { created = false }: { created?: boolean } = {},
  ): Promise<void> {
    return recordClusterEvent(tx, {
      ...(created ? { created } : {}),
      clusterUuid: cluster.uuid,
      clusterName: cluster.name,
      owner: cluster.owner,
      kind: ClusterEventKind.STATE,
      at: new Date().toISOString(),
      lastAction: view.lastAction,
      lastActionState: view.lastActionState,
      description: view.lastActionDescription,
    });
  }
}

export function inFlight(name: string): ConflictError {
  return new ConflictError(`Cluster ${name} has an operation in progress; wait for it to finish`);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
