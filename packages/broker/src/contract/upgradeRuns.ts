/**
 * The management API's upgrade-all runs (`/mgmt/upgrade_runs`), ODB's upgrade-all errand as a durable job:
 * the request that starts one and the run as the broker reports it. The API's `upgradeClusters` and
 * `pks-admin upgrade-all-clusters` both speak this.
 */

export const UpgradeRunState = {
  PENDING: 'pending',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
export type UpgradeRunState = (typeof UpgradeRunState)[keyof typeof UpgradeRunState];

export const UpgradeInstanceState = {
  PENDING: 'pending',
  BUSY: 'busy',
  IN_PROGRESS: 'in progress',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  CANCELLED: 'cancelled',
  ORPHANED: 'orphaned',
} as const;
export type UpgradeInstanceState = (typeof UpgradeInstanceState)[keyof typeof UpgradeInstanceState];

/** What starts a run (ODB's upgrade-all errand settings, PKS's `upgrade-clusters`). Left out: the defaults. */
export interface UpgradeRunRequest {
  /** Instances to upgrade, in order; default all. */
  instances?: string[];
  /** Canary instances by id, or the number of instances (from the front) that go first. */
  canaries?: string[] | number;
  max_in_flight?: number;
  attempt_limit?: number;
  attempt_interval_ms?: number;
  polling_interval_ms?: number;
  operation_type?: 'upgrade' | 'recreate';
  /** Who asked (the originating identity's user, e.g. the API's user or the operator). */
  created_by?: string;
}

/**
 * One service instance of a run. `Time` is a `Date` inside the broker and an ISO string on the wire (what
 * a client reads).
 */
export interface UpgradeRunInstance<Time = string> {
  instance_id: string;
  is_canary: boolean;
  state: UpgradeInstanceState;
  attempts: number;
  /** The broker operation (its BoshContextID) that upgrades the instance, once started. */
  operation_id: string | null;
  description: string;
  started_at: Time | null;
  finished_at: Time | null;
}

export interface UpgradeRun<Time = string> {
  id: string;
  state: UpgradeRunState;
  operation_type: 'upgrade' | 'recreate';
  max_in_flight: number;
  attempt_limit: number;
  description: string;
  created_by: string | null;
  created_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
  instances: UpgradeRunInstance<Time>[];
}

/** A run without its instances (`?instances=false`): how many are in each state instead. */
export type UpgradeRunSummary<Time = string> = Omit<UpgradeRun<Time>, 'instances'> & {
  instance_counts: Partial<Record<UpgradeInstanceState, number>>;
};
