import type { Database, Queryable } from '@openpks/db';
import type { UpgradeInstanceState, UpgradeRunInstance, UpgradeRunState } from '../contract/upgradeRuns.js';

/** A row of `broker.upgrade_runs`. */
export interface RunRow {
  id: string;
  state: UpgradeRunState;
  operation_type: 'upgrade' | 'recreate';
  max_in_flight: number;
  attempt_limit: number;
  attempt_interval_ms: number;
  polling_interval_ms: number;
  description: string;
  cancel_requested: boolean;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** A row of `broker.upgrade_run_instances`. */
export interface RunInstanceRow extends UpgradeRunInstance<Date> {
  run_id: string;
  ordinal: number;
  next_attempt_at: Date | null;
}

export interface NewRun {
  id: string;
  operationType: 'upgrade' | 'recreate';
  maxInFlight: number;
  attemptLimit: number;
  attemptIntervalMs: number;
  pollingIntervalMs: number;
  createdBy: string | null;
  /** Instance ids in the order they go (canaries first). */
  instances: readonly string[];
  canaries: readonly string[];
}

/** How many instances of a run are in a state, canaries and the rest apart. */
export interface StateTally {
  state: UpgradeInstanceState;
  is_canary: boolean;
  n: number;
}

/** A run instance as `json_agg` returns it: timestamps as text. */
type JsonRow = Omit<RunInstanceRow, 'started_at' | 'finished_at' | 'next_attempt_at'> & {
  started_at: string | null;
  finished_at: string | null;
  next_attempt_at: string | null;
};

const dateOf = (value: string | null): Date | null => (value === null ? null : new Date(value));

function rowOf(row: JsonRow): RunInstanceRow {
  return {
    ...row,
    started_at: dateOf(row.started_at),
    finished_at: dateOf(row.finished_at),
    next_attempt_at: dateOf(row.next_attempt_at),
  };
}

/** Instances of run $1 that may start now: pending or busy, and their next attempt due (the db's clock). */
const STARTABLE = `SELECT * FROM broker.upgrade_run_instances
  WHERE run_id = $1 AND state IN ('pending', 'busy') AND (next_attempt_at IS NULL OR next_attempt_at <= now())`;

/** `broker.upgrade_runs` and `broker.upgrade_run_instances`: runs and each instance's progress in them. */
export const upgradeRunStore = {
  async insert(db: Database, run: NewRun): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO broker.upgrade_runs (id, state, operation_type, max_in_flight, attempt_limit, attempt_interval_ms,
           polling_interval_ms, created_by)
         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7)`,
        [
          run.id,
          run.operationType,
          run.maxInFlight,
          run.attemptLimit,
          run.attemptIntervalMs,
          run.pollingIntervalMs,
          run.createdBy,
        ],
      );
      for (const [ordinal, instanceId] of run.instances.entries()) {
        await tx.query(
          `INSERT INTO broker.upgrade_run_instances (run_id, instance_id, ordinal, is_canary, state)
           VALUES ($1, $2, $3, $4, 'pending')`,
          [run.id, instanceId, ordinal, run.canaries.includes(instanceId)],
        );
      }
    });
  },

  async get(db: Queryable, id: string): Promise<RunRow | undefined> {
    const { rows } = await db.query<RunRow>('SELECT * FROM broker.upgrade_runs WHERE id = $1', [id]);
    return rows[0];
  },

  /** Run ids, newest first; `active` keeps those still pending or running. */
  async ids(db: Queryable, options: { active: boolean; limit: number }): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM broker.upgrade_runs WHERE NOT $1::boolean OR state IN ('pending', 'running')
       ORDER BY created_at DESC LIMIT $2`,
      [options.active, options.limit],
    );
    return rows.map((r) => r.id);
  },

  /** Runs still to drive, oldest first. */
  async active(db: Queryable): Promise<RunRow[]> {
    const { rows } = await db.query<RunRow>(
      `SELECT * FROM broker.upgrade_runs WHERE state IN ('pending', 'running') ORDER BY created_at`,
    );
    return rows;
  },

  async instances(db: Queryable, runId: string): Promise<RunInstanceRow[]> {
    const { rows } = await db.query<RunInstanceRow>(
      'SELECT * FROM broker.upgrade_run_instances WHERE run_id = $1 ORDER BY ordinal',
      [runId],
    );
    return rows;
  },

  /**
   * What one step of a run needs, in one statement and without the whole fleet: the instances under way,
   * the first `limit` that may start now (pending, or busy and due), in order, and how many instances are
   * in each state, canaries apart. A run of 1,000 read every row each step.
   */
  async step(
    db: Queryable,
    runId: string,
    limit: number,
  ): Promise<{ rows: RunInstanceRow[]; tally: StateTally[] }> {
    const { rows } = await db.query<{ tally: StateTally[]; rows: JsonRow[] }>(
      `SELECT
         (SELECT coalesce(json_agg(t), '[]') FROM (
            SELECT state, is_canary, count(*)::int AS n FROM broker.upgrade_run_instances
            WHERE run_id = $1 GROUP BY state, is_canary) t) AS tally,
         (SELECT coalesce(json_agg(r ORDER BY r.ordinal), '[]') FROM (
            SELECT * FROM broker.upgrade_run_instances WHERE run_id = $1 AND state = 'in progress'
            UNION ALL
            (${STARTABLE} ORDER BY ordinal LIMIT $2)) r) AS rows`,
      [runId, limit],
    );
    return { rows: rows[0]!.rows.map(rowOf), tally: rows[0]!.tally };
  },

  /** The next `limit` instances that may start now after `afterOrdinal`, in order. */
  async startable(
    db: Queryable,
    runId: string,
    afterOrdinal: number,
    limit: number,
  ): Promise<RunInstanceRow[]> {
    const { rows } = await db.query<RunInstanceRow>(
      `${STARTABLE} AND ordinal > $3 ORDER BY ordinal LIMIT $2`,
      [runId, limit, afterOrdinal],
    );
    return rows;
  },

  /** How many of the run's instances are in each state. */
  async counts(db: Queryable, runId: string): Promise<Partial<Record<UpgradeInstanceState, number>>> {
    const { rows } = await db.query<{ state: UpgradeInstanceState; n: number }>(
      'SELECT state, count(*)::int AS n FROM broker.upgrade_run_instances WHERE run_id = $1 GROUP BY state',
      [runId],
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  },

  /** False when there is no such run. */
  async requestCancel(db: Queryable, id: string): Promise<boolean> {
    const updated = await db.query('UPDATE broker.upgrade_runs SET cancel_requested = true WHERE id = $1', [
      id,
    ]);
    return updated.rowCount === 1;
  },

  /** The run's instances not started yet (pending or busy) end cancelled, with why. */
  async cancelWaiting(db: Queryable, runId: string, description: string): Promise<void> {
    await db.query(
      `UPDATE broker.upgrade_run_instances SET state = 'cancelled', description = $2, finished_at = now()
       WHERE run_id = $1 AND state IN ('pending', 'busy')`,
      [runId, description],
    );
  },

  async markRunning(db: Queryable, id: string): Promise<void> {
    await db.query(`UPDATE broker.upgrade_runs SET state = 'running', started_at = now() WHERE id = $1`, [
      id,
    ]);
  },

  async finish(db: Queryable, id: string, state: UpgradeRunState, description: string): Promise<void> {
    await db.query(
      `UPDATE broker.upgrade_runs SET state = $2, description = $3, finished_at = now() WHERE id = $1`,
      [id, state, description],
    );
  },

  /** The instance's upgrade started as broker operation `operationId`. */
  async instanceStarted(
    db: Queryable,
    runId: string,
    instanceId: string,
    attempts: number,
    operationId: string,
  ): Promise<void> {
    await db.query(
      `UPDATE broker.upgrade_run_instances SET state = 'in progress', attempts = $3, operation_id = $4,
         description = 'upgrading', started_at = now() WHERE run_id = $1 AND instance_id = $2`,
      [runId, instanceId, attempts, operationId],
    );
  },

  /** The instance was busy; it is tried again after `retryInMs`. */
  async instanceBusy(
    db: Queryable,
    runId: string,
    instanceId: string,
    attempts: number,
    retryInMs: number,
  ): Promise<void> {
    await db.query(
      `UPDATE broker.upgrade_run_instances SET state = 'busy', attempts = $3,
         next_attempt_at = now() + $4::float8 * interval '1 millisecond', description = 'busy: another operation is in progress'
       WHERE run_id = $1 AND instance_id = $2`,
      [runId, instanceId, attempts, retryInMs],
    );
  },

  /**
   * Upgrades under way that ended, in one statement: they end together at a step (50 at once were 50
   * statements, each waiting for the others on the connection).
   */
  async upgradesEnded(
    db: Queryable,
    runId: string,
    ended: readonly { instanceId: string; state: UpgradeInstanceState; description: string }[],
  ): Promise<void> {
    if (ended.length === 0) return;
    await db.query(
      `UPDATE broker.upgrade_run_instances i SET state = e.state, description = e.description, finished_at = now()
       FROM unnest($2::text[], $3::text[], $4::text[]) AS e(instance_id, state, description)
       WHERE i.run_id = $1 AND i.instance_id = e.instance_id`,
      [runId, ended.map((e) => e.instanceId), ended.map((e) => e.state), ended.map((e) => e.description)],
    );
  },

  /** The instance's part ended; `starting` when it ended as it was being started (its start time is now too). */
  async instanceEnded(
    db: Queryable,
    runId: string,
    instanceId: string,
    outcome: { state: UpgradeInstanceState; description: string; attempts?: number; starting: boolean },
  ): Promise<void> {
    await db.query(
      `UPDATE broker.upgrade_run_instances SET state = $3, description = $4, attempts = COALESCE($5, attempts),
         started_at = CASE WHEN $6 THEN COALESCE(started_at, now()) ELSE started_at END, finished_at = now()
       WHERE run_id = $1 AND instance_id = $2`,
      [runId, instanceId, outcome.state, outcome.description, outcome.attempts ?? null, outcome.starting],
    );
  },
};
