export type {
  Database,
  DatabaseKind,
  DatabaseLogger,
  OpenDatabaseOptions,
  QueryResult,
  Queryable,
  Transaction,
  Unlisten,
} from './database.js';
export { openDatabase, parseDatabaseUrl } from './open.js';
export { migrate, migrationChecksum } from './migrate.js';
export type { Migration, MigrateOptions, MigrationReport } from './migrate.js';
export { MigrationError, SqlState, sqlStateOf } from './errors.js';
export type { MigrationErrorOptions } from './errors.js';
export { PubSub } from './pubsub.js';
export type { MessageHandler, Unsubscribe } from './pubsub.js';
export { Leases, leasesMigration, claimRows, claimNext } from './leases.js';
export type { Lease, ClaimOptions } from './leases.js';
export {
  MAX_IDENTIFIER_LENGTH,
  MAX_NOTIFY_PAYLOAD_BYTES,
  quoteIdentifier,
  validateChannel,
  validateSchemaName,
} from './names.js';
