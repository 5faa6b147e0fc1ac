import { InputError } from '@openpks/domain';
import type { Queryable, Transaction } from './database.js';
import type { Migration } from './migrate.js';
import { quoteIdentifier, quoteTableName, validateSchemaName } from './names.js';

/**
 * The migration that gives a component its `leases` table. Put it in the component's list under an id
 * that sorts where it belongs: `migrations: [..., leasesMigration('0003_create_leases')]`.
 */
export function leasesMigration(id: string): Migration {
  return {
    id,
    sql: `CREATE TABLE leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);`,
  };
}

export interface Lease {
  name: string;
  holder: string;
  expiresAt: Date;
}

/**
 * Named leases, each held by one holder (a replica, a worker) until it releases it or lets it expire:
 * "who runs the reconciler", "who drives upgrade run 42". Time is the database's clock, so replicas
 * with skewed clocks agree. Pass a transaction as `db` to take leases inside it.
 */
export class Leases {
  readonly #db: Queryable;
  readonly #table: string;

  constructor(db: Queryable, options: { schema: string }) {
    this.#db = db;
    this.#table = `${quoteIdentifier(validateSchemaName(options.schema))}.leases`;
  }

  /** Takes the lease if it is free or expired (or already ours, which extends it). */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    validateLease(name, holder);
    const result = await this.#db.query(
      `INSERT INTO ${this.#table} AS lease (name, holder, expires_at)
       VALUES ($1, $2, clock_timestamp() + $3::float8 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE lease.holder = excluded.holder OR lease.expires_at <= clock_timestamp()
       RETURNING name`,
      [name, holder, validateTtl(ttlMs)],
    );
    return result.rowCount === 1;
  }

  /** Extends a lease we still hold; false when it expired or someone else has it (stop working on it). */
  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    validateLease(name, holder);
    const result = await this.#db.query(
      `UPDATE ${this.#table} SET expires_at = clock_timestamp() + $3::float8 * interval '1 millisecond'
       WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()`,
      [name, holder, validateTtl(ttlMs)],
    );
    return result.rowCount === 1;
  }

  /** Gives the lease up; false when it was not ours (any more). */
  async release(name: string, holder: string): Promise<boolean> {
    validateLease(name, holder);
    const result = await this.#db.query(`DELETE FROM ${this.#table} WHERE name = $1 AND holder = $2`, [
      name,
      holder,
    ]);
    return result.rowCount === 1;
  }

  /** The lease as it stands now, or undefined when nobody holds it (or it expired). */
  async current(name: string): Promise<Lease | undefined> {
    const result = await this.#db.query<{ name: string; holder: string; expires_at: Date }>(
      `SELECT name, holder, expires_at FROM ${this.#table} WHERE name = $1 AND expires_at > clock_timestamp()`,
      [name],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { name: row.name, holder: row.holder, expiresAt: row.expires_at };
  }
}

function validateLease(name: string, holder: string): void {
  if (typeof name !== 'string' || name === '') throw new InputError('name', 'a lease needs a name');
  if (typeof holder !== 'string' || holder === '') throw new InputError('holder', 'a lease needs a holder');
}

function validateTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new InputError('ttlMs', `a lease's time to live must be positive, got ${ttlMs}`, {
      allowed: 'milliseconds above 0',
    });
  }
  return ttlMs;
}

export interface ClaimOptions {
  /** The table, schema-qualified: `director.tasks`. */
  table: string;
  /** Which rows may be claimed: an SQL condition written by the component (never user input), `$n` params. */
  where?: string | undefined;
  params?: readonly unknown[] | undefined;
  /** Which claimable rows go first (SQL written by the component), e.g. `created_at, id`. */
  orderBy?: string | undefined;
  /** At most this many rows (default 1). */
  limit?: number | undefined;
}

/**
 * Locks and returns up to `limit` claimable rows, skipping rows another transaction has locked, so
 * concurrent workers never get the same row (`SELECT … FOR UPDATE SKIP LOCKED`). The locks last until
 * `tx` ends: in the same transaction, mark what you claimed (holder, lease expiry, state) so that the
 * claim outlives the transaction, then commit.
 *
 * ```ts
 * const task = await db.transaction(async (tx) => {
 *   const row = await claimNext<TaskRow>(tx, {
 *     table: 'director.tasks',
 *     where: "state = 'queued' OR (state = 'processing' AND lease_expires_at < now())",
 *     orderBy: 'created_at, id',
 *   });
 *   if (row === undefined) return undefined;
 *   await tx.query(
 *     `UPDATE director.tasks SET state = 'processing', holder = $2,
 *        lease_expires_at = now() + interval '30 seconds' WHERE id = $1`,
 *     [row.id, workerId],
 *   );
 *   return row;
 * });
 * ```
 */
export async function claimRows<R extends object = Record<string, unknown>>(
  tx: Transaction,
  options: ClaimOptions,
): Promise<R[]> {
  const limit = options.limit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InputError('limit', `claim limit must be a whole number, got ${limit}`, {
      allowed: '1 to 10000',
    });
  }
  const where = options.where === undefined ? '' : ` WHERE (${options.where})`;
  const orderBy = options.orderBy === undefined ? '' : ` ORDER BY ${options.orderBy}`;
  const result = await tx.query<R>(
    `SELECT * FROM ${quoteTableName(options.table)}${where}${orderBy} LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    options.params,
  );
  return result.rows;
}

/** `claimRows` for one row: the next claimable row, or undefined when there is none free. */
export async function claimNext<R extends object = Record<string, unknown>>(
  tx: Transaction,
  options: Omit<ClaimOptions, 'limit'>,
): Promise<R | undefined> {
  const [row] = await claimRows<R>(tx, { ...options, limit: 1 });
  return row;
}
