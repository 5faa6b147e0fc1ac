import type { Queryable } from '@openpks/db';
import { QUOTA_LIMIT_FIELDS, type QuotaLimit } from '@openpks/domain';

export interface QuotaRecord {
  owner: string;
  limit: QuotaLimit;
  createdAt: Date;
  updatedAt: Date;
}

interface QuotaRow {
  owner: string;
  cluster: number | null;
  cpu: number | null;
  memory: number | null;
  created_at: Date;
  updated_at: Date;
}

/** A NULL column is no limit: kept null, never read as 0 (which would block every create). */
function numberOrNull(value: number | null): number | null {
  return value === null ? null : Number(value);
}

function quotaOf(row: QuotaRow): QuotaRecord {
  return {
    owner: row.owner,
    limit: {
      cluster: numberOrNull(row.cluster),
      cpu: numberOrNull(row.cpu),
      memory: numberOrNull(row.memory),
    },
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export const quotaStore = {
  async all(db: Queryable, limit: number): Promise<QuotaRecord[]> {
    const result = await db.query<QuotaRow>(`SELECT * FROM api.quotas ORDER BY owner LIMIT $1`, [limit]);
    return result.rows.map(quotaOf);
  },
  /** With `forUpdate`, the row stays locked until the transaction ends (the create and resize checks). */
  async byOwner(db: Queryable, owner: string, forUpdate = false): Promise<QuotaRecord | undefined> {
    const result = await db.query<QuotaRow>(
      `SELECT * FROM api.quotas WHERE owner = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [owner],
    );
    return result.rows[0] && quotaOf(result.rows[0]);
  },
  /** Creates the owner's limit; undefined when the owner already has one (left as it was). */
  async insert(db: Queryable, owner: string, limit: QuotaLimit): Promise<QuotaRecord | undefined> {
    const result = await db.query<QuotaRow>(
      `INSERT INTO api.quotas (owner, cluster, cpu, memory) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner) DO NOTHING RETURNING *`,
      [owner, limit.cluster, limit.cpu, limit.memory],
    );
    return result.rows[0] && quotaOf(result.rows[0]);
  },
  /** Creates or replaces the owner's limit. */
  async put(db: Queryable, owner: string, limit: QuotaLimit): Promise<QuotaRecord> {
    const result = await db.query<QuotaRow>(
      `INSERT INTO api.quotas (owner, cluster, cpu, memory) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner) DO UPDATE
         SET cluster = excluded.cluster, cpu = excluded.cpu, memory = excluded.memory, updated_at = now()
       RETURNING *`,
      [owner, limit.cluster, limit.cpu, limit.memory],
    );
    return quotaOf(result.rows[0]!);
  },
  /**
   * Changes the given fields of an existing limit, a null one to no limit; undefined when the owner has
   * none. The column names come from the fixed list, never from the input.
   */
  async patch(db: Queryable, owner: string, limit: Partial<QuotaLimit>): Promise<QuotaRecord | undefined> {
    const given = QUOTA_LIMIT_FIELDS.filter((key) => limit[key] !== undefined);
    const sets = given.map((key, i) => `${key} = $${i + 2}`);
    const result = await db.query<QuotaRow>(
      `UPDATE api.quotas SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE owner = $1 RETURNING *`,
      [owner, ...given.map((key) => limit[key] ?? null)],
    );
    return result.rows[0] && quotaOf(result.rows[0]);
  },
  /** False when the owner had none. */
  async remove(db: Queryable, owner: string): Promise<boolean> {
    const result = await db.query(`DELETE FROM api.quotas WHERE owner = $1`, [owner]);
    return result.rowCount === 1;
  },
  /** An owner's live clusters, as much of each as usage needs, by name. */
  async clustersOf(
    db: Queryable,
    owner: string,
  ): Promise<{ name: string; planName: string; workerInstances: number }[]> {
    const result = await db.query<{ name: string; plan_name: string; worker_instances: number }>(
      `SELECT name, plan_name, worker_instances FROM api.clusters
       WHERE deleted_at IS NULL AND owner = $1 ORDER BY name`,
      [owner],
    );
    return result.rows.map((r) => ({
      name: r.name,
      planName: r.plan_name,
      workerInstances: Number(r.worker_instances),
    }));
  },
  /**
   * An owner's live clusters summed per plan (clusters, workers): the quota check's read, one row per
   * plan however many clusters the owner has, since it runs with the owner's quota row locked.
   */
  async plansOf(
    db: Queryable,
    owner: string,
  ): Promise<{ planName: string; clusters: number; workers: number }[]> {
    const result = await db.query<{ plan_name: string; clusters: string; workers: string }>(
      `SELECT plan_name, count(*) AS clusters, sum(worker_instances) AS workers FROM api.clusters
       WHERE deleted_at IS NULL AND owner = $1 GROUP BY plan_name`,
      [owner],
    );
    return result.rows.map((r) => ({
      planName: r.plan_name,
      clusters: Number(r.clusters),
      workers: Number(r.workers),
    }));
  },
  /** Owners with a quota or a live cluster, in name order: whose usage there is to report. */
  async owners(db: Queryable, limit: number): Promise<string[]> {
    const result = await db.query<{ owner: string }>(
      `SELECT owner FROM api.quotas
       UNION SELECT owner FROM api.clusters WHERE deleted_at IS NULL
       ORDER BY owner LIMIT $1`,
      [limit],
    );
    return result.rows.map((r) => r.owner);
  },
};
