import { createRequire } from 'node:module';

// Its own module, so the caller's side of the PGlite worker (workerDatabase.ts) prepares parameters
// without loading PGlite itself.

/**
 * A parameter exactly as node-postgres prepares it for the PostgreSQL backend (its own `prepareValue`):
 * null for null and undefined, buffers as they are (sent in binary), dates as timestamps with their
 * offset, arrays as array literals, other objects as JSON, anything else as its string.
 */
export const textParameter = (
  createRequire(import.meta.url)('pg/lib/utils.js') as {
    prepareValue: (value: unknown) => string | Buffer | null;
  }
).prepareValue;
