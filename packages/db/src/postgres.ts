import { InternalError } from '@openpks/domain';
import pg from 'pg';
import { ChannelListeners } from './channels.js';
import type { Database, DatabaseLogger, QueryResult, Queryable, Transaction, Unlisten } from './database.js';
import { quoteIdentifier, validateChannel } from './names.js';
import {
  abortedTransactionError,
  closedError,
  describeUrl,
  guardTransaction,
  notifyThrough,
} from './support.js';
import { pgTypes } from './types.js';

export const DEFAULT_MAX_CONNECTIONS = 10;
const CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_MIN_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 5_000;

export interface PostgresOptions {
  url: URL;
  maxConnections: number;
  logger: DatabaseLogger;
}

/** Opens a pool on a PostgreSQL server and checks that it answers, so a bad `DATABASE_URL` fails at start. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const config: pg.ClientConfig = {
    connectionString: options.url.href,
    application_name: 'openpks',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: pgTypes as pg.CustomTypesConfig,
  };
  const pool = new pg.Pool({ ...config, max: options.maxConnections });
  pool.on('error', (error) => options.logger.warn('an idle PostgreSQL connection failed', { error }));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new InternalError(
      `cannot connect to PostgreSQL at ${describeUrl(options.url)} (DATABASE_URL): ${messageOf(error)}`,
      { cause: error },
    );
  }
  return new PostgresDatabase(pool, config, options.logger);
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

type PgQueryTarget = Pick<pg.ClientBase, 'query'> | pg.Pool;

async function runQuery<R extends object>(
  target: PgQueryTarget,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  // The extended protocol, as PGlite's query() uses: one statement, so both backends refuse the same SQL.
  const config = { text: sql, values: params === undefined ? [] : [...params], queryMode: 'extended' };
  const result = await target.query<R>(config as pg.QueryConfig);
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #logger: DatabaseLogger;
  readonly #listenConnection: ListenConnection;
  readonly #listeners: ChannelListeners;
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool, config: pg.ClientConfig, logger: DatabaseLogger) {
    this.#pool = pool;
    this.#logger = logger;
    this.#listeners = new ChannelListeners(
      {
        start: (channel) => this.#listenConnection.listen(channel),
        stop: (channel) => this.#listenConnection.unlisten(channel),
      },
      logger,
    );
    this.#listenConnection = new ListenConnection(
      { ...config, application_name: 'openpks-listen' },
      this.#listeners,
      logger,
    );
  }

  #open(): pg.Pool {
    if (this.#closing !== undefined) throw closedError();
    return this.#pool;
  }

  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return runQuery<R>(this.#open(), sql, params);
  }

  async exec(sql: string): Promise<void> {
    // No parameters: the simple protocol, which runs a script of several statements.
    await this.#open().query(sql);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.#open().connect();
    let finished = false;
    let broken = false;
    try {
      await client.query('BEGIN');
      const guard = guardTransaction({
        query: (sql, params) => runQuery(client, sql, params),
        exec: async (sql) => {
          await client.query(sql);
        },
      });
      let result: T;
      try {
        result = await fn(guard.tx);
      } finally {
        guard.end();
      }
      finished = true;
      const commit = await client.query('COMMIT');
      if (commit.command === 'ROLLBACK') throw abortedTransactionError();
      return result;
    } catch (error) {
      if (!finished) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = true;
          this.#logger.warn('ROLLBACK failed; discarding the connection', { error: rollbackError });
        }
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    validateChannel(channel);
    this.#open();
    return this.#listeners.add(channel, handler);
  }

  async notify(channel: string, payload: string, tx?: Queryable): Promise<void> {
    await notifyThrough(tx ?? this, channel, payload);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      await this.#listenConnection.close();
      await this.#pool.end();
    })();
    return this.#closing;
  }
}

/**
 * The one connection that LISTENs for every channel of a Database (a pooled connection would lose its
 * LISTENs when returned). When it drops it reconnects with backoff and LISTENs again on every channel
 * that still has handlers; notifications sent while it was down are lost, as PostgreSQL does not queue
 * them for a session that is gone.
 */
class ListenConnection {
  readonly #config: pg.ClientConfig;
  readonly #listeners: ChannelListeners;
  readonly #logger: DatabaseLogger;
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempts = 0;
  #closed = false;

  constructor(config: pg.ClientConfig, listeners: ChannelListeners, logger: DatabaseLogger) {
    this.#config = config;
    this.#listeners = listeners;
    this.#logger = logger;
  }

  async listen(channel: string): Promise<void> {
    const client = await this.#connected();
    await client.query(`LISTEN ${quoteIdentifier(channel)}`);
  }

  async unlisten(channel: string): Promise<void> {
    const client = this.#client;
    if (client === undefined) return; // not connected: a reconnect LISTENs only on channels with handlers
    try {
      await client.query(`UNLISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      this.#logger.warn('UNLISTEN failed', { channel, error });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #connected(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    client.on('error', (error) => this.#dropped(client, error));
    client.on('end', () => this.#dropped(client, undefined));
    client.on('notification', (message) => this.#listeners.dispatch(message.channel, message.payload ?? ''));
    try {
      await client.connect();
      for (const channel of this.#listeners.channels()) {
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      throw closedError();
    }
    this.#client = client;
    this.#attempts = 0;
    return client;
  }

  #dropped(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#logger.warn('the LISTEN connection dropped; reconnecting', { error });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    if (this.#listeners.channels().length === 0) return; // the next listen() connects
    const delay = Math.min(RECONNECT_MIN_DELAY_MS * 2 ** this.#attempts, RECONNECT_MAX_DELAY_MS);
    this.#attempts += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connected().then(
        () => this.#logger.info('the LISTEN connection is back', { channels: this.#listeners.channels() }),
        (error: unknown) => {
          if (this.#closed) return;
          this.#logger.warn('reconnecting the LISTEN connection failed', { error });
          this.#scheduleReconnect();
        },
      );
    }, delay);
  }
}
