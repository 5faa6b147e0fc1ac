import { claimNext, type Queryable, type Transaction } from '@openpks/db';
import type { OperationState } from '@openpks/broker';
import type { ClusterSpec } from '../clusters/spec.js';

// The only SQL on `api.operations`. Transitions are decided by the operation owner (`operations.ts`); these
// statements only carry them out, each guarded so that a stale writer (a lost lease, an operation that
// ended meanwhile) changes nothing and learns so from the row count.

export const OperationKind = {
  CREATE: 'create',
  UPDATE: 'update',
  UPGRADE: 'upgrade',
  DELETE: 'delete',
} as const;
export type OperationKind = (typeof OperationKind)[keyof typeof OperationKind];

/** requested: not yet acknowledged by the broker; polling: following `last_operation`; done: ended. */
export const OperationPhase = { REQUESTED: 'requested', POLLING: 'polling', DONE: 'done' } as const;
export type OperationPhase = (typeof OperationPhase)[keyof typeof OperationPhase];

/**
 * An operation's state: the three words OSB's `last_operation` reports (the broker's contract), which are
 * also PKS's `last_action_state` for an operation.
 */
export { OperationState } from '@openpks/broker';

/** The OSB request as sent (body and ids), so it can be re-sent after a crash. */
export interface OperationRequest {
  serviceId: string;
  planId: string;
  body: Record<string, unknown>;
}

export interface OperationRecord {
  id: string;
  clusterUuid: string;
  kind: OperationKind;
  phase: OperationPhase;
  state: OperationState;
  request: OperationRequest;
  originatingUser: string;
  brokerOperation: string | null;
  directorTaskId: number | null;
  taskId: string | null;
  /** What the operation did or why it failed, as its owner last recorded it. */
  description: string;
  /** The cluster's spec generation this operation applies (null for operations from before generations). */
  generation: number | null;
  /** The spec this operation replaced, put back if the broker refuses the change outright. */
  previousSpec: ClusterSpec | null;
  holder: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface OperationRow {
  id: string;
  cluster_uuid: string;
  kind: OperationKind;
  phase: OperationPhase;
  state: OperationState;
  request: OperationRequest;
  originating_user: string;
  broker_operation: string | null;
  director_task_id: number | null;
  task_id: string | null;
  description: string;
  generation: number | null;
  previous_spec: ClusterSpec | null;
  holder: string | null;
  created_at: Date;
  finished_at: Date | null;
}

function operationOf(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    clusterUuid: row.cluster_uuid,
    kind: row.kind,
    phase: row.phase,
    state: row.state,
    request: row.request,
    originatingUser: row.originating_user,
    brokerOperation: row.broker_operation,
    directorTaskId: row.director_task_id,
    taskId: row.task_id,
    description: row.description,
    generation: row.generation,
    previousSpec: row.previous_spec,
    holder: row.holder,
    createdAt: new Date(row.created_at),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
  };
}

const LEASE = `clock_timestamp() + $LEASE::float8 * interval '1 millisecond'`;
const lease = (param: number) => LEASE.replace('$LEASE', `$${param}`);

export const operationStore = {
  /** A new operation in phase `requested`, leased by `holder` (who sends it). */
  async insert(
    db: Queryable,
    op: Pick<
      OperationRecord,
      | 'id'
      | 'clusterUuid'
      | 'kind'
      | 'request'
      | 'originatingUser'
      | 'taskId'
      | 'description'
      | 'generation'
      | 'previousSpec'
    >,
    holder: string | null,
    leaseMs: number,
  ): Promise<void> {
    await db.query(
      `INSERT INTO api.operations (id, cluster_uuid, kind, phase, state, request, originating_user, task_id,
         description, generation, previous_spec, holder, lease_expires_at)
       VALUES ($1,$2,$3,'requested','in progress',$4::jsonb,$5,$6,$7,$8,$9::jsonb,$10,
         CASE WHEN $10::text IS NULL THEN NULL ELSE ${lease(11)} END)`,
      [
        op.id,
        op.clusterUuid,
        op.kind,
        JSON.stringify(op.request),
        op.originatingUser,
        op.taskId,
        op.description,
        op.generation,
        op.previousSpec === null ? null : JSON.stringify(op.previousSpec),
        holder,
        leaseMs,
      ],
    );
  },

  async byId(db: Queryable, id: string): Promise<OperationRecord | undefined> {
    const { rows } = await db.query<OperationRow>(`SELECT * FROM api.operations WHERE id = $1`, [id]);
    return rows[0] && operationOf(rows[0]);
  },

  async activeFor(db: Queryable, clusterUuid: string): Promise<OperationRecord | undefined> {
    const { rows } = await db.query<OperationRow>(
      `SELECT * FROM api.operations WHERE cluster_uuid = $1 AND state = 'in progress'`,
      [clusterUuid],
    );
    return rows[0] && operationOf(rows[0]);
  },

  /** The cluster's most recent operation (what its PKS last action is derived from). */
  async latestFor(db: Queryable, clusterUuid: string): Promise<OperationRecord | undefined> {
    const { rows } = await db.query<OperationRow>(
      `SELECT * FROM api.operations WHERE cluster_uuid = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
      [clusterUuid],
    );
    return rows[0] && operationOf(rows[0]);
  },

  /** The most recent operations of the clusters, newest first, at most `limit`. */
  async recent(
    db: Queryable,
    filter: { clusterUuid?: string | undefined; inProgress?: boolean; limit: number },
  ): Promise<OperationRecord[]> {
    const { rows } = await db.query<OperationRow>(
      `SELECT * FROM api.operations
       WHERE ($1::uuid IS NULL OR cluster_uuid = $1) AND (NOT $2::boolean OR state = 'in progress')
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [filter.clusterUuid ?? null, filter.inProgress ?? false, filter.limit],
    );
    return rows.map(operationOf);
  },

  /** Whether an operation of the upgrade run's task is still in progress. */
  async activeForTask(db: Queryable, taskId: string): Promise<boolean> {
    const { rows } = await db.query(
      `SELECT 1 FROM api.operations WHERE task_id = $1 AND state = 'in progress' LIMIT 1`,
      [taskId],
    );
    return rows.length > 0;
  },

  /**
   * Leases the oldest operation in progress that nobody holds (or whose holder's lease ran out), except
   * those in `exclude` (driven here already), to `holder`.
   */
  async claimNext(
    tx: Transaction,
    holder: string,
    leaseMs: number,
    exclude: readonly string[],
  ): Promise<OperationRecord | undefined> {
    const row = await claimNext<OperationRow>(tx, {
      table: 'api.operations',
      where: `state = 'in progress' AND (holder IS NULL OR lease_expires_at < clock_timestamp())
        AND NOT (id = ANY($1::uuid[]))`,
      orderBy: 'created_at, id',
      params: [[...exclude]],
    });
    if (row === undefined) return undefined;
    await tx.query(`UPDATE api.operations SET holder = $2, lease_expires_at = ${lease(3)} WHERE id = $1`, [
      row.id,
      holder,
      leaseMs,
    ]);
    return operationOf({ ...row, holder });
  },

  /**
   * Extends `holder`'s lease on an operation still in progress by `leaseMs` from now; false when the
   * lease is no longer theirs (taken over, ended, abandoned).
   */
  async renewLease(db: Queryable, id: string, holder: string, leaseMs: number): Promise<boolean> {
    const result = await db.query(
      `UPDATE api.operations SET lease_expires_at = ${lease(3)}
       WHERE id = $1 AND holder = $2 AND state = 'in progress'`,
      [id, holder, leaseMs],
    );
    return result.rowCount === 1;
  },

  /** Gives `holder`'s lease back (anyone may claim the operation now). */
  async release(db: Queryable, id: string, holder: string): Promise<void> {
    await db.query(
      `UPDATE api.operations SET holder = NULL, lease_expires_at = NULL WHERE id = $1 AND holder = $2`,
      [id, holder],
    );
  },

  /** Takes the lease from whoever holds it and restarts the broker-outage clock (an admin's retry). */
  async releaseForRetry(db: Queryable, id: string): Promise<boolean> {
    const result = await db.query(
      `UPDATE api.operations SET holder = NULL, lease_expires_at = NULL, broker_unreachable_since = NULL,
         updated_at = now()
       WHERE id = $1 AND state = 'in progress'`,
      [id],
    );
    return result.rowCount === 1;
  },

  /**
   * requested → polling: the broker acknowledged the request (`brokerOperation` is its operation data).
   * With `holder`, only while they hold it; `keepLease` keeps it held (the driver goes on polling).
   */
  async acknowledged(
    db: Queryable,
    id: string,
    brokerOperation: string | null,
    options: { holder: string | null; keepLease: boolean },
  ): Promise<boolean> {
    const result = await db.query(
      `UPDATE api.operations SET phase = 'polling', broker_operation = $2, broker_unreachable_since = NULL,
         phase_since = clock_timestamp(), updated_at = now()
         ${options.keepLease ? '' : ', holder = NULL, lease_expires_at = NULL'}
       WHERE id = $1 AND phase = 'requested' AND state = 'in progress'
         AND ($3::text IS NULL OR holder = $3)`,
      [id, brokerOperation, options.holder],
    );
    return result.rowCount === 1;
  },

  /** The broker's words for an operation in progress (held by `holder`). */
  async describe(db: Queryable, id: string, holder: string, description: string): Promise<boolean> {
    const result = await db.query(
      `UPDATE api.operations SET description = $3, updated_at = now()
       WHERE id = $1 AND holder = $2 AND state = 'in progress'`,
      [id, holder, description],
    );
    return result.rowCount === 1;
  },

  /**
   * Ends an operation in progress. With `holder`, only theirs (a driver that lost its lease must not);
   * without, whoever holds it (an admin abandoning it, a refusal by the broker to its sender).
   */
  async finish(
    db: Queryable,
    id: string,
    state: Exclude<OperationState, 'in progress'>,
    description: string,
    holder: string | null,
  ): Promise<OperationRecord | undefined> {
    const { rows } = await db.query<OperationRow>(
      `UPDATE api.operations SET phase = 'done', state = $2, description = $3, holder = NULL,
         lease_expires_at = NULL, phase_since = clock_timestamp(), finished_at = now(), updated_at = now()
       WHERE id = $1 AND state = 'in progress' AND ($4::text IS NULL OR holder = $4) RETURNING *`,
      [id, state, description, holder],
    );
    return rows[0] && operationOf(rows[0]);
  },

  /**
   * Records that the broker did not answer (the first time only: a restart or another replica keeps the
   * clock) and returns for how long it has not, in ms; undefined when `holder` no longer holds it.
   */
  async brokerUnreachable(db: Queryable, id: string, holder: string): Promise<number | undefined> {
    const { rows } = await db.query<{ ms: number }>(
      `UPDATE api.operations SET broker_unreachable_since = coalesce(broker_unreachable_since, clock_timestamp())
       WHERE id = $1 AND holder = $2 AND state = 'in progress'
       RETURNING extract(epoch FROM clock_timestamp() - broker_unreachable_since) * 1000 AS ms`,
      [id, holder],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].ms);
  },

  async brokerAnswered(db: Queryable, id: string): Promise<void> {
    await db.query(
      `UPDATE api.operations SET broker_unreachable_since = NULL
       WHERE id = $1 AND broker_unreachable_since IS NOT NULL`,
      [id],
    );
  },

  /** How long the operation has been in its phase, in ms (by the database's clock). */
  async phaseAgeMs(db: Queryable, id: string): Promise<number | undefined> {
    const { rows } = await db.query<{ ms: number }>(
      `SELECT extract(epoch FROM clock_timestamp() - phase_since) * 1000 AS ms FROM api.operations WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].ms);
  },

  async setDirectorTask(db: Queryable, id: string, taskId: number): Promise<void> {
    await db.query(`UPDATE api.operations SET director_task_id = $2 WHERE id = $1`, [id, taskId]);
  },

  /**
   * In ms, when the earliest lease held by someone other than `holder` runs out (null when none is held).
   */
  async nextForeignLeaseExpiryMs(db: Queryable, holder: string): Promise<number | null> {
    const { rows } = await db.query<{ ms: number | null }>(
      `SELECT extract(epoch FROM min(lease_expires_at) - clock_timestamp()) * 1000 AS ms
       FROM api.operations WHERE state = 'in progress' AND holder IS NOT NULL AND holder <> $1`,
      [holder],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Number(ms);
  },
};
