import { InputError } from '@openpks/domain';
import type { Database, DatabaseLogger, Queryable, Unlisten } from './database.js';
import { validateChannel } from './names.js';
import { consoleLogger } from './support.js';

export type MessageHandler<T> = (message: T) => void | Promise<void>;
export type Unsubscribe = () => Promise<void>;

interface Topic {
  readonly handlers: Set<{ handler: MessageHandler<unknown> }>;
  readonly listening: Promise<Unlisten>;
}

/**
 * Live events between replicas on PostgreSQL `LISTEN/NOTIFY`, carrying JSON. Every process that
 * subscribes to a channel receives every message published on it, by any replica, after the publishing
 * transaction commits. Delivery is at most once and only while subscribed: use it to wake readers up,
 * and keep the truth in tables (a subscriber that was down reads what it missed from there).
 */
export class PubSub {
  readonly #db: Database;
  readonly #logger: DatabaseLogger;
  readonly #topics = new Map<string, Topic>();

  constructor(db: Database, options: { logger?: DatabaseLogger | undefined } = {}) {
    this.#db = db;
    this.#logger = options.logger ?? consoleLogger;
  }

  /**
   * Sends `message` as JSON (at most 7,900 bytes once encoded). With `tx`, it is delivered only if that
   * transaction commits, and only then.
   */
  async publish<T>(channel: string, message: T, tx?: Queryable): Promise<void> {
    validateChannel(channel);
    const payload = JSON.stringify(message);
    if (payload === undefined) {
      throw new InputError('message', 'a published message must be JSON-serialisable (not undefined)');
    }
    await this.#db.notify(channel, payload, tx);
  }

  /**
   * Calls `handler` with each message published on `channel` from now on. Subscribers of one channel in
   * this process share one LISTEN; a handler that throws or rejects is logged and the others still run.
   */
  async subscribe<T>(channel: string, handler: MessageHandler<T>): Promise<Unsubscribe> {
    validateChannel(channel);
    const entry = { handler: handler as MessageHandler<unknown> };
    let topic = this.#topics.get(channel);
    if (topic === undefined) {
      const created: Topic = {
        handlers: new Set(),
        listening: this.#db.listen(channel, (payload) => this.#deliver(channel, created, payload)),
      };
      created.listening.catch(() => {
        if (this.#topics.get(channel) === created) this.#topics.delete(channel);
      });
      this.#topics.set(channel, created);
      topic = created;
    }
    topic.handlers.add(entry);
    try {
      await topic.listening;
    } catch (error) {
      topic.handlers.delete(entry);
      throw error;
    }
    const owner = topic;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      owner.handlers.delete(entry);
      if (owner.handlers.size === 0 && this.#topics.get(channel) === owner) {
        this.#topics.delete(channel);
        const unlisten = await owner.listening;
        await unlisten();
      }
    };
  }

  /** Unsubscribes everything this PubSub subscribed (the database stays open). */
  async close(): Promise<void> {
    const topics = [...this.#topics.values()];
    this.#topics.clear();
    await Promise.all(
      topics.map(async (topic) => {
        topic.handlers.clear();
        const unlisten = await topic.listening.catch(() => undefined);
        await unlisten?.();
      }),
    );
  }

  #deliver(channel: string, topic: Topic, payload: string): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (error) {
      this.#logger.warn('dropped a notification that is not JSON', { channel, error });
      return;
    }
    let first = true;
    for (const { handler } of [...topic.handlers]) {
      try {
        // Each subscriber gets its own copy, so one that mutates its message cannot surprise another.
        const copy: unknown = first ? message : JSON.parse(payload);
        first = false;
        const result = handler(copy);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#logger.error('a subscriber failed', { channel, error }));
        }
      } catch (error) {
        this.#logger.error('a subscriber failed', { channel, error });
      }
    }
  }
}
