import type { PubSub } from '@openpks/db';

/**
 * The messages of a db pub/sub channel as an async iterator, keeping those `accept` lets through. Ending
 * the iteration (the client unsubscribes, the socket closes) unsubscribes from the channel.
 */
export async function channelMessages<T, R>(
  pubsub: PubSub,
  channel: string,
  map: (message: T) => R | undefined,
): Promise<AsyncIterableIterator<R>> {
  const queue: R[] = [];
  let waiting: ((result: IteratorResult<R>) => void) | undefined;
  let done = false;
  const unsubscribe = await pubsub.subscribe<T>(channel, (message) => {
    if (done) return;
    const value = map(message);
    if (value === undefined) return;
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
