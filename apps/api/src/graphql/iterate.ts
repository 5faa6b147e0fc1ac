import type { PubSub, Unsubscribe } from '@openpks/db';

/**
 * The messages of a db pub/sub channel as an async iterator, keeping those `accept` lets through. Ending
 * the iteration (the client unsubscribes, the socket closes) unsubscribes from the channel.
 */
export async function channelMessages<T, R>(
  pubsub: PubSub,
  channel: string,
  map: (message: T) => R | undefined,
): Promise<AsyncIterableIterator<R>> {
  return iteratorOver((push) => pubsub.subscribe<T>(channel, (message) => push(map(message))));
}

/** An async iterator over what `subscribe` pushes (undefined is skipped); ending it unsubscribes. */
export async function iteratorOver<R>(
  subscribe: (push: (value: R | undefined) => void) => Promise<() => Promise<void>>,
): Promise<AsyncIterableIterator<R>> {
  const queue: R[] = [];
  let waiting: ((result: IteratorResult<R>) => void) | undefined;
  let done = false;
  const unsubscribe = await subscribe((value) => {
    if (done || value === undefined) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
    } else queue.push(value);
  });
  const finish = async (): Promise<IteratorResult<R>> => {
    if (!done) {
      done = true;
      await unsubscribe();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return { value: undefined, done: true };
  };
  const iterator: AsyncIterableIterator<R> = {
    next: () => {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw: async (error: unknown) => {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator](): AsyncIterableIterator<R> {
      return iterator;
    },
  };
  return iterator;
}

type Handler<T> = (message: T) => void;

/**
 * One db subscription per channel and process, routing each message to the subscribers of its key
 * (a cluster's name, a task's id). The hot path costs one JSON parse and one map lookup per message,
 * however many subscribers there are; only the subscribers of that key are touched, and they share the
 * (frozen) message rather than each parsing its own copy.
 */
class KeyedFanOut<T> {
  readonly #handlers = new Map<string, Set<Handler<T>>>();
  #size = 0;
  // Serialises subscribe/unsubscribe of the channel so a quick last-leave/first-join cannot race.
  #state: Promise<Unsubscribe | undefined> = Promise.resolve(undefined);

  constructor(
    private readonly pubsub: PubSub,
    private readonly channel: string,
    private readonly keyOf: (message: T) => string,
  ) {}

  async add(key: string, handler: Handler<T>): Promise<() => Promise<void>> {
    let set = this.#handlers.get(key);
    if (set === undefined) this.#handlers.set(key, (set = new Set()));
    set.add(handler);
    this.#size += 1;
    if (this.#size === 1) {
      this.#state = this.#state.then(
        async (current) => current ?? (await this.pubsub.subscribe<T>(this.channel, (m) => this.#deliver(m))),
      );
    }
    try {
      await this.#state;
    } catch (error) {
      await this.#remove(key, handler);
      throw error;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      await this.#remove(key, handler);
    };
  }

  async #remove(key: string, handler: Handler<T>): Promise<void> {
    const set = this.#handlers.get(key);
    if (set === undefined || !set.delete(handler)) return;
    if (set.size === 0) this.#handlers.delete(key);
    this.#size -= 1;
    if (this.#size === 0) {
      this.#state = this.#state
        .catch(() => undefined)
        .then(async (current) => {
          // Someone joined again while this was queued: keep listening.
          if (this.#size > 0) return current;
          await current?.();
          return undefined;
        });
      await this.#state;
    }
  }

  #deliver(message: T): void {
    const set = this.#handlers.get(this.keyOf(message));
    if (set === undefined) return;
    Object.freeze(message);
    for (const handler of set) {
      try {
        handler(message);
      } catch {
        // A subscriber's own check failed; the others still get the message.
      }
    }
  }
}

const fanOuts = new WeakMap<PubSub, Map<string, KeyedFanOut<unknown>>>();

function fanOutOf<T>(pubsub: PubSub, channel: string, keyOf: (message: T) => string): KeyedFanOut<T> {
  let channels = fanOuts.get(pubsub);
  if (channels === undefined) fanOuts.set(pubsub, (channels = new Map()));
  let fanOut = channels.get(channel);
  if (fanOut === undefined) {
    fanOut = new KeyedFanOut<T>(pubsub, channel, keyOf) as KeyedFanOut<unknown>;
    channels.set(channel, fanOut);
  }
  return fanOut as KeyedFanOut<T>;
}

/**
 * The messages of a db pub/sub channel that carry `key` (by `keyOf`), as an async iterator, through the
 * process's one keyed fan-out of that channel. `map` still sees each message (authorisation per
 * subscriber) and must not change it: subscribers of a key share it.
 */
export async function keyedChannelMessages<T, R>(
  pubsub: PubSub,
  channel: string,
  keyOf: (message: T) => string,
  key: string,
  map: (message: T) => R | undefined,
): Promise<AsyncIterableIterator<R>> {
  return iteratorOver((push) => fanOutOf(pubsub, channel, keyOf).add(key, (m) => push(map(m))));
}
