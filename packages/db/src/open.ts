import { InputError } from '@openpks/domain';
import type { Database, OpenDatabaseOptions } from './database.js';
import { openPGlite } from './workerDatabase.js';
import { DEFAULT_MAX_CONNECTIONS, openPostgres } from './postgres.js';
import { consoleLogger } from './support.js';

/**
 * The one connection factory. With `url` (`DATABASE_URL`): a node-postgres pool on that server. Without:
 * PGlite in `<dataDir>/pgdata`, or in memory for `dataDir: 'memory://'` or none.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const logger = options.logger ?? consoleLogger;
  if (options.url !== undefined && options.url !== '') {
    return openPostgres({
      url: parseDatabaseUrl(options.url),
      maxConnections: validateMaxConnections(options.maxConnections),
      logger,
    });
  }
  return openPGlite(options.dataDir, logger, options.onLost);
}

/** Parses `DATABASE_URL`; the error names the variable and never repeats a password. */
export function parseDatabaseUrl(value: string): URL {
  const allowed = 'postgres://user:password@host:5432/database (or postgresql://)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError('DATABASE_URL', 'DATABASE_URL is not a valid URL', { allowed });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new InputError('DATABASE_URL', `DATABASE_URL must be a postgres:// URL, not ${url.protocol}//`, {
      allowed,
    });
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new InputError('DATABASE_URL', 'DATABASE_URL names no host', { allowed });
  }
  return url;
}

function validateMaxConnections(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new InputError('maxConnections', `maxConnections must be a whole number, got ${value}`, {
      allowed: '1 to 1000',
    });
  }
  return value;
}
