import { InternalError } from '@openpks/domain';
import type { DatabaseLogger, QueryResult, Queryable, Transaction } from './database.js';
import { validateChannel, validatePayload } from './names.js';

/** Reports warnings and errors on stderr when the caller gave no logger; info stays quiet. */
export const consoleLogger: DatabaseLogger = {
  info: () => {},
  warn: (message, fields) => console.warn(`[db] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[db] ${message}`, fields ?? ''),
};

export function closedError(): InternalError {
  return new InternalError('the database connection is closed');
}

/** COMMIT found the transaction aborted: a statement inside failed and the callback swallowed the error. */
export function abortedTransactionError(cause?: unknown): InternalError {
  return new InternalError(
    'the transaction was rolled back at COMMIT because a statement inside it failed (its error was caught)',
    { cause },
  );
}

/**
 * Wraps a backend transaction so it cannot be used once it has ended (a callback that kept `tx` after
 * returning would otherwise run statements outside any transaction, or on someone else's connection).
 */
export function guardTransaction(inner: Queryable): { tx: Transaction; end(): void } {
  let ended = false;
  const check = (): void => {
    if (ended) throw new InternalError('the transaction has already ended; use the database, not the old tx');
  };
  const tx: Transaction = {
    async query<R extends object = Record<string, unknown>>(
      sql: string,
      params?: readonly unknown[],
    ): Promise<QueryResult<R>> {
      check();
      return inner.query<R>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      check();
      await inner.exec(sql);
    },
  };
  return {
    tx,
    end: () => {
      ended = true;
    },
  };
}

/** Redacts a connection URL for messages: protocol, host, port and database, never the credentials. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** `Database#notify` of every backend: `pg_notify` through `via` (a transaction, to send it on commit). */
export async function notifyThrough(via: Queryable, channel: string, payload: string): Promise<void> {
  validateChannel(channel);
  validatePayload(payload);
  await via.query('SELECT pg_notify($1, $2)', [channel, payload]);
}
