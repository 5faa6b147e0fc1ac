import { ConflictError } from '@openpks/domain';
import type { PksErrorOptions } from '@openpks/domain';

export interface MigrationErrorOptions extends PksErrorOptions {
  schema: string;
  migrationId?: string | undefined;
}

/**
 * A component's migrations cannot be applied: a changed or failing migration, or a list out of order.
 * The component must not start on that schema; an operator or a developer has to look.
 */
export class MigrationError extends ConflictError {
  readonly schema: string;
  readonly migrationId: string | undefined;

  constructor(message: string, options: MigrationErrorOptions) {
    super(message, {
      cause: options.cause,
      details: { schema: options.schema, migrationId: options.migrationId, ...options.details },
    });
    this.schema = options.schema;
    this.migrationId = options.migrationId;
  }
}

/** SQLSTATE codes components match on (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SqlState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  LOCK_NOT_AVAILABLE: '55P03',
} as const;
export type SqlState = (typeof SqlState)[keyof typeof SqlState];

/**
 * The SQLSTATE of a database error from either backend (both carry it as `code`, beside `severity`),
 * else undefined.
 */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || !('severity' in error)) {
    return undefined;
  }
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
