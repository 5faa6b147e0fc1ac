import { createHash } from 'node:crypto';
import type { Database, DatabaseLogger, Transaction } from './database.js';
import { MigrationError } from './errors.js';
import { quoteIdentifier, validateSchemaName } from './names.js';

/** One step of a component's schema, applied once, in id order, inside its own transaction. */
export interface Migration {
  /** Sorts in the order to apply: `0001_create_users`, `0002_add_user_email`. Never renamed once shipped. */
  id: string;
  /** Plain PostgreSQL, run with `search_path` set to the component's schema (so tables are unqualified). */
  sql: string;
}

export interface MigrateOptions {
  /** The component's schema (`uaa`, `api`, `broker`, `director`, `nsx`). */
  schema: string;
  migrations: readonly Migration[];
  logger?: DatabaseLogger | undefined;
}

export interface MigrationReport {
  schema: string;
  /** Ids applied by this call, in order. */
  applied: string[];
  /** How many of the given migrations were already applied (by an earlier start or another replica). */
  skipped: number;
  /**
   * Ids the database has applied that this code does not know: a newer version ran here (a rolling
   * upgrade). Not an error; the caller decides whether to start.
   */
  unknown: string[];
}

const MIGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

/** Arbitrary first key for our advisory locks ('pks' in ASCII), the second is the schema's hash. */
const ADVISORY_LOCK_CLASS = 0x706b73;

/** sha256 (hex) of a migration's SQL, with line endings normalised so a Windows checkout matches. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n'), 'utf8').digest('hex');
}

interface AppliedRow {
  id: string;
  checksum: string;
}

/**
 * Brings a component's schema up to date: creates the schema and `<schema>.schema_migrations`, refuses
 * a migration list that is out of order or that changed a migration already applied, then applies the
 * pending ones in order, each in its own transaction. Safe to run from several replicas at once: every
 * step holds a transaction-level advisory lock keyed on the schema.
 */
export async function migrate(db: Database, options: MigrateOptions): Promise<MigrationReport> {
  const schema = validateSchemaName(options.schema);
  const migrations = validateMigrationList(schema, options.migrations);
  const bookkeeping = `${quoteIdentifier(schema)}.schema_migrations`;

  const applied = await db.transaction(async (tx) => {
    await lockSchema(tx, schema);
    // Look before creating: CREATE SCHEMA checks the CREATE privilege on the database even when the
    // schema exists, and an operator may have created it for a role without that privilege.
    const existing = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (existing.rowCount === 0) await tx.exec(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${bookkeeping} (
         id text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await tx.query<AppliedRow>(`SELECT id, checksum FROM ${bookkeeping} ORDER BY id`);
    return new Map(rows.map((row) => [row.id, row.checksum]));
  });

  const known = new Set(migrations.map((migration) => migration.id));
  const unknown = [...applied.keys()].filter((id) => !known.has(id));
  for (const migration of migrations) {
    const checksum = applied.get(migration.id);
    if (checksum !== undefined) verifyChecksum(schema, migration, checksum);
  }
  const lastApplied = [...applied.keys()].sort().at(-1);
  for (const migration of migrations) {
    if (!applied.has(migration.id) && lastApplied !== undefined && migration.id < lastApplied) {
      throw new MigrationError(
        `migration ${schema}/${migration.id} is new but sorts before ${lastApplied}, which is already ` +
          `applied; give it an id after ${lastApplied}`,
        { schema, migrationId: migration.id },
      );
    }
  }
  if (unknown.length > 0) {
    options.logger?.warn('the database has migrations this code does not know (a newer version ran)', {
      schema,
      unknown,
    });
  }

  const report: MigrationReport = { schema, applied: [], skipped: 0, unknown };
  for (const migration of migrations) {
    if (applied.has(migration.id)) {
      report.skipped += 1;
      continue;
    }
    const ran = await applyMigration(db, schema, bookkeeping, migration);
    if (ran) {
      report.applied.push(migration.id);
      options.logger?.info('applied migration', { schema, id: migration.id });
    } else {
      report.skipped += 1;
    }
  }
  return report;
}

function validateMigrationList(schema: string, migrations: readonly Migration[]): readonly Migration[] {
  let previous: string | undefined;
  for (const migration of migrations) {
    const id: unknown = migration?.id;
    if (typeof id !== 'string' || !MIGRATION_ID.test(id)) {
      throw new MigrationError(
        `migration id ${JSON.stringify(id)} in schema ${schema} is invalid: use letters, digits, _ . - ` +
          '(such as 0001_create_users)',
        { schema, migrationId: typeof id === 'string' ? id : undefined },
      );
    }
    if (typeof migration.sql !== 'string' || migration.sql.trim() === '') {
      throw new MigrationError(`migration ${schema}/${id} has no SQL`, { schema, migrationId: id });
    }
    if (previous !== undefined && id === previous) {
      throw new MigrationError(`migration id ${schema}/${id} appears twice`, { schema, migrationId: id });
    }
    if (previous !== undefined && id < previous) {
      throw new MigrationError(
        `migrations of schema ${schema} are out of order: ${id} comes after ${previous}; list them sorted by id`,
        { schema, migrationId: id },
      );
    }
    previous = id;
  }
  return migrations;
}

function verifyChecksum(schema: string, migration: Migration, appliedChecksum: string): void {
  const checksum = migrationChecksum(migration.sql);
  if (checksum === appliedChecksum) return;
  throw new MigrationError(
    `migration ${schema}/${migration.id} was changed after it was applied ` +
      `(applied checksum ${appliedChecksum}, checksum now ${checksum}); ` +
      'never edit an applied migration, add a new one',
    { schema, migrationId: migration.id, details: { appliedChecksum, checksum } },
  );
}

/** Applies one migration unless another replica did meanwhile; returns whether this call applied it. */
async function applyMigration(
  db: Database,
  schema: string,
  bookkeeping: string,
  migration: Migration,
): Promise<boolean> {
  const checksum = migrationChecksum(migration.sql);
  try {
    return await db.transaction(async (tx) => {
      await lockSchema(tx, schema);
      const existing = await tx.query<AppliedRow>(`SELECT id, checksum FROM ${bookkeeping} WHERE id = $1`, [
        migration.id,
      ]);
      const row = existing.rows[0];
      if (row !== undefined) {
        verifyChecksum(schema, migration, row.checksum);
        return false;
      }
      await tx.exec(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
      await tx.exec(migration.sql);
      // The migration may have changed search_path; the bookkeeping insert names its table in full anyway.
      await tx.query(`INSERT INTO ${bookkeeping} (id, checksum) VALUES ($1, $2)`, [migration.id, checksum]);
      return true;
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${schema}/${migration.id} failed and was rolled back: ${reason}`, {
      schema,
      migrationId: migration.id,
      cause: error,
    });
  }
}

async function lockSchema(tx: Transaction, schema: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
    ADVISORY_LOCK_CLASS,
    `migrate:${schema}`,
  ]);
}
