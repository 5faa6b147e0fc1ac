import type { Queryable } from '@openpks/db';
import type { OperationState, OperationType } from '../contract/operationData.js';
import type { Step } from '../operations/steps.js';

/** A row of `broker.operations`. Its id is the BOSH context id of every task it starts. */
export interface OperationRow {
  id: string;
  instance_id: string;
  type: OperationType;
  plan_id: string;
  state: OperationState;
  description: string;
  steps: Step[];
  /** How many steps were started (claimed); a claim whose task never showed up is made again later. */
  step: number;
  step_started_at: Date;
  first_task_id: number | null;
  request_hash: string | null;
  /** The broker replica driving the operation, until `lease_expires_at` (then anyone may take it). */
  lease_holder: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
}

export interface NewOperation {
  id: string;
  instanceId: string;
  type: OperationType;
  planId: string;
  /** What `last_operation` says while it runs. */
  description: string;
  steps: readonly Step[];
  requestHash: string | null;
  originatingIdentity: unknown;
  requestIdentity: string | undefined;
  /** The replica that records it drives it: its lease from the start. */
  lease: { holder: string; ttlMs: number };
}

const expiry = `clock_timestamp() + $LEASE::float8 * interval '1 millisecond'`;
const leaseTtl = (n: number) => expiry.replace('$LEASE', `$${n}`);

/**
 * `broker.operations`: the platform's asynchronous requests and how far each got, with the lease of the
 * replica that drives it. Only the lease holder starts a step or ends an operation.
 */
export const operationStore = {
  /** Throws the unique violation of `operations_one_in_progress` when the instance is busy. */
  async insert(db: Queryable, op: NewOperation): Promise<void> {
    await db.query(
      `INSERT INTO broker.operations (id, instance_id, type, plan_id, state, description, steps, request_hash,
         originating_identity, request_identity, lease_holder, lease_expires_at)
       VALUES ($1, $2, $3, $4, 'in progress', $5, $6, $7, $8, $9, $10, ${leaseTtl(11)})`,
      [
        op.id,
        op.instanceId,
        op.type,
        op.planId,
        op.description,
        JSON.stringify(op.steps),
        op.requestHash,
        JSON.stringify(op.originatingIdentity ?? null),
        op.requestIdentity ?? null,
        op.lease.holder,
        op.lease.ttlMs,
      ],
    );
  },

  async get(db: Queryable, id: string): Promise<OperationRow | undefined> {
    const { rows } = await db.query<OperationRow>('SELECT * FROM broker.operations WHERE id = $1', [id]);
    return rows[0];
  },

  /** The instance's newest operation (of a type). */
  async latest(db: Queryable, instanceId: string, type?: OperationType): Promise<OperationRow | undefined> {
    const { rows } = await db.query<OperationRow>(
      `SELECT * FROM broker.operations WHERE instance_id = $1 AND ($2::text IS NULL OR type = $2)
       ORDER BY created_at DESC, id LIMIT 1`,
      [instanceId, type ?? null],
    );
    return rows[0];
  },

  /** The instance's operation in progress (at most one: `operations_one_in_progress`). */
  async running(db: Queryable, instanceId: string): Promise<OperationRow | undefined> {
    const { rows } = await db.query<OperationRow>(
      `SELECT * FROM broker.operations WHERE instance_id = $1 AND state = 'in progress'`,
      [instanceId],
    );
    return rows[0];
  },

  /** The request started the first step and the Director took it as this task. */
  async recordFirstTask(db: Queryable, id: string, taskId: number): Promise<void> {
    await db.query(
      'UPDATE broker.operations SET first_task_id = $2, step = 1, step_started_at = now() WHERE id = $1',
      [id, taskId],
    );
  },

  /**
   * Claims step `next` (0-based) for the holder, so that it is started once: true unless the step was
   * claimed already and recently (its task has not shown up at the Director yet), or the lease is another's.
   */
  async claimStep(
    db: Queryable,
    id: string,
    next: number,
    holder: string,
    retryMs: number,
  ): Promise<boolean> {
    const claimed = await db.query(
      `UPDATE broker.operations SET step = $2 + 1, step_started_at = now()
       WHERE id = $1 AND state = 'in progress' AND lease_holder = $3
         AND (step <= $2 OR step_started_at < now() - $4::float8 * interval '1 millisecond')`,
      [id, next, holder, retryMs],
    );
    return claimed.rowCount === 1;
  },

  /** Ends the operation and frees its lease; undefined when it had ended or the lease is another's. */
  async finish(
    db: Queryable,
    id: string,
    holder: string,
    state: OperationState,
    description: string,
  ): Promise<OperationRow | undefined> {
    const { rows } = await db.query<OperationRow>(
      `UPDATE broker.operations SET state = $3, description = $4, finished_at = now(),
         lease_holder = NULL, lease_expires_at = NULL
       WHERE id = $1 AND state = 'in progress' AND lease_holder = $2 RETURNING *`,
      [id, holder, state, description],
    );
    return rows[0];
  },

  /** Takes one operation's lease if nobody holds it (or it expired, or it is the holder's already). */
  async claim(db: Queryable, id: string, holder: string, ttlMs: number): Promise<boolean> {
    const claimed = await db.query(
      `UPDATE broker.operations SET lease_holder = $2, lease_expires_at = ${leaseTtl(3)}
       WHERE id = $1 AND state = 'in progress'
         AND (lease_holder IS NULL OR lease_holder = $2 OR lease_expires_at <= clock_timestamp())`,
      [id, holder, ttlMs],
    );
    return claimed.rowCount === 1;
  },

  /**
   * Takes the leases of up to `limit` operations in progress that nobody drives (never held, released, or
   * expired: their broker stopped or died), oldest first, leaving out `driving` (this holder's own). Rows
   * another replica is claiming at the same moment are skipped, not waited for.
   */
  async claimUndriven(
    db: Queryable,
    holder: string,
    ttlMs: number,
    driving: readonly string[],
    limit: number,
  ): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `UPDATE broker.operations SET lease_holder = $1, lease_expires_at = ${leaseTtl(2)}
       WHERE id IN (
         SELECT id FROM broker.operations
         WHERE state = 'in progress' AND NOT (id = ANY($3::text[]))
           AND (lease_holder IS NULL OR lease_holder = $1 OR lease_expires_at <= clock_timestamp())
         ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [holder, ttlMs, [...driving], limit],
    );
    return rows.map((r) => r.id);
  },

  /** Extends the holder's leases; returns the ids it still holds (the others ended or were taken). */
  async renew(db: Queryable, holder: string, ids: readonly string[], ttlMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await db.query<{ id: string }>(
      `UPDATE broker.operations SET lease_expires_at = ${leaseTtl(3)}
       WHERE lease_holder = $1 AND id = ANY($2::text[]) AND state = 'in progress' RETURNING id`,
      [holder, [...ids], ttlMs],
    );
    return new Set(rows.map((r) => r.id));
  },

  /** Gives leases up (a broker stopping), so that another replica may drive the operations at once. */
  async release(db: Queryable, holder: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db.query(
      `UPDATE broker.operations SET lease_holder = NULL, lease_expires_at = NULL
       WHERE lease_holder = $1 AND id = ANY($2::text[])`,
      [holder, [...ids]],
    );
  },
};
