import type { DatabaseLogger, Unlisten } from './database.js';

/** What a backend does to start and stop receiving one channel's notifications. */
export interface ChannelBackend {
  start(channel: string): Promise<void>;
  stop(channel: string): Promise<void>;
}

interface Subscription {
  readonly handler: (payload: string) => void;
}

interface ChannelState {
  readonly subscriptions: Set<Subscription>;
  readonly ready: Promise<void>;
}

/**
 * The handlers of every channel a connection listens on: the backend LISTENs once per channel, however
 * many handlers there are, and UNLISTENs when the last one goes. A handler that throws is logged and
 * never stops delivery to the others.
 */
export class ChannelListeners {
  readonly #channels = new Map<string, ChannelState>();
  readonly #backend: ChannelBackend;
  readonly #logger: DatabaseLogger;

  constructor(backend: ChannelBackend, logger: DatabaseLogger) {
    this.#backend = backend;
    this.#logger = logger;
  }

  /** The channels that have handlers now (what a new connection must LISTEN on). */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  async add(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    const subscription: Subscription = { handler };
    let state = this.#channels.get(channel);
    if (state === undefined) {
      const created: ChannelState = { subscriptions: new Set(), ready: this.#backend.start(channel) };
      this.#channels.set(channel, created);
      created.ready.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
      state = created;
    }
    state.subscriptions.add(subscription);
    try {
      await state.ready;
    } catch (error) {
      state.subscriptions.delete(subscription);
      throw error;
    }
    const owner = state;
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      owner.subscriptions.delete(subscription);
      if (owner.subscriptions.size === 0 && this.#channels.get(channel) === owner) {
        this.#channels.delete(channel);
        await this.#backend.stop(channel);
      }
    };
  }

  dispatch(channel: string, payload: string): void {
    const state = this.#channels.get(channel);
    if (state === undefined) return;
    for (const subscription of [...state.subscriptions]) {
      try {
        // Typed as returning void, but an async handler's rejection must not go unhandled either.
        const result: unknown = subscription.handler(payload);
        if (result instanceof Promise) {
          result.catch((error: unknown) =>
            this.#logger.error('a notification handler failed', { channel, error }),
          );
        }
      } catch (error) {
        this.#logger.error('a notification handler threw', { channel, error });
      }
    }
  }

  clear(): void {
    this.#channels.clear();
  }
}
