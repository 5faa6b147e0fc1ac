import { InputError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseLogger } from './index.js';
import { PubSub } from './index.js';
import type { TestDatabase } from './testing/index.js';
import { EventCollector, flushEvents, testDatabaseBackends } from './testing/index.js';

interface ClusterEvent {
  cluster: string;
  state: string;
}

describe.each(testDatabaseBackends(process.env, { pgliteWorker: true }))('PubSub on $name', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('delivers a published JSON message to a subscriber', async () => {
    const pubsub = new PubSub(db);
    const received = new EventCollector<ClusterEvent>();
    await pubsub.subscribe<ClusterEvent>('ps_delivery', received.push);
    await pubsub.publish<ClusterEvent>('ps_delivery', { cluster: 'c1', state: 'succeeded' });
    expect(await received.waitFor(1)).toEqual([{ cluster: 'c1', state: 'succeeded' }]);
    await pubsub.close();
  });

  it('delivers every message to several subscribers of one channel, each with its own copy', async () => {
    const pubsub = new PubSub(db);
    const first = new EventCollector<ClusterEvent>();
    const second = new EventCollector<ClusterEvent>();
    await pubsub.subscribe<ClusterEvent>('ps_many', (message) => {
      first.push(message);
      message.state = 'mutated by the first subscriber';
    });
    await pubsub.subscribe<ClusterEvent>('ps_many', second.push);
    await pubsub.publish('ps_many', { cluster: 'c1', state: 'in progress' });
    await pubsub.publish('ps_many', { cluster: 'c1', state: 'succeeded' });
    expect((await second.waitFor(2)).map((m) => m.state)).toEqual(['in progress', 'succeeded']);
    expect(await first.waitFor(2)).toHaveLength(2);
    await pubsub.close();
  });

  it('shares one LISTEN per channel between the subscribers in a process', async () => {
    const listened: string[] = [];
    const counting = {
      ...db,
      listen: (channel: string, handler: (payload: string) => void) => {
        listened.push(channel);
        return db.listen(channel, handler);
      },
    };
    const pubsub = new PubSub(counting);
    await Promise.all([
      pubsub.subscribe('ps_shared', () => {}),
      pubsub.subscribe('ps_shared', () => {}),
      pubsub.subscribe('ps_other', () => {}),
    ]);
    await pubsub.subscribe('ps_shared', () => {});
    expect(listened.sort()).toEqual(['ps_other', 'ps_shared']);
    await pubsub.close();
  });

  it('stops delivering to a subscriber that unsubscribed', async () => {
    const pubsub = new PubSub(db);
    const leaving = new EventCollector<number>();
    const staying = new EventCollector<number>();
    const unsubscribe = await pubsub.subscribe<number>('ps_unsub', leaving.push);
    await pubsub.subscribe<number>('ps_unsub', staying.push);
    await pubsub.publish('ps_unsub', 1);
    await leaving.waitFor(1);
    await unsubscribe();
    await pubsub.publish('ps_unsub', 2);
    expect(await staying.waitFor(2)).toEqual([1, 2]);
    expect(leaving.events).toEqual([1]);
    await pubsub.close();
  });

  it('subscribes afresh after the last subscriber of a channel left', async () => {
    const pubsub = new PubSub(db);
    const unsubscribe = await pubsub.subscribe('ps_again', () => {});
    await unsubscribe();
    const received = new EventCollector<string>();
    await pubsub.subscribe<string>('ps_again', received.push);
    await pubsub.publish('ps_again', 'back');
    expect(await received.waitFor(1)).toEqual(['back']);
    await pubsub.close();
  });

  it('keeps delivering to the others when a subscriber throws or rejects, and logs it', async () => {
    const errors: string[] = [];
    const logger: DatabaseLogger = {
      info: () => {},
      warn: () => {},
      error: (message) => errors.push(message),
    };
    const pubsub = new PubSub(db, { logger });
    const healthy = new EventCollector<string>();
    await pubsub.subscribe('ps_faulty', () => {
      throw new Error('sync bug');
    });
    await pubsub.subscribe('ps_faulty', async () => {
      throw new Error('async bug');
    });
    await pubsub.subscribe<string>('ps_faulty', healthy.push);
    await pubsub.publish('ps_faulty', 'one');
    await pubsub.publish('ps_faulty', 'two');
    expect(await healthy.waitFor(2)).toEqual(['one', 'two']);
    await flushEvents();
    expect(errors).toEqual(Array(4).fill('a subscriber failed'));
    await pubsub.close();
  });

  it('publishes inside a transaction only when it commits, and only after', async () => {
    const pubsub = new PubSub(db);
    const received = new EventCollector<string>();
    await pubsub.subscribe<string>('ps_tx', received.push);

    await db.transaction(async (tx) => {
      await pubsub.publish('ps_tx', 'committed', tx);
      await tx.query('SELECT 1');
      await flushEvents();
      expect(received.events).toEqual([]);
    });
    expect(await received.waitFor(1)).toEqual(['committed']);

    await db
      .transaction(async (tx) => {
        await pubsub.publish('ps_tx', 'rolled back', tx);
        throw new Error('abandon');
      })
      .catch(() => undefined);
    await pubsub.publish('ps_tx', 'after');
    expect(await received.waitFor(2)).toEqual(['committed', 'after']);
    await pubsub.close();
  });

  it('delivers what one replica publishes to the subscribers of another', async () => {
    const replica = await db.replica();
    try {
      const publisher = new PubSub(db);
      const subscriber = new PubSub(replica);
      const received = new EventCollector<ClusterEvent>();
      await subscriber.subscribe<ClusterEvent>('ps_replicas', received.push);
      await publisher.publish('ps_replicas', { cluster: 'c9', state: 'failed' });
      expect(await received.waitFor(1)).toEqual([{ cluster: 'c9', state: 'failed' }]);
      await subscriber.close();
    } finally {
      await replica.close();
    }
  });

  it('drops a notification on its channel that is not JSON, and keeps going', async () => {
    const warnings: string[] = [];
    const logger: DatabaseLogger = {
      info: () => {},
      warn: (message) => warnings.push(message),
      error: () => {},
    };
    const pubsub = new PubSub(db, { logger });
    const received = new EventCollector<unknown>();
    await pubsub.subscribe('ps_raw', received.push);
    await db.notify('ps_raw', 'not json {');
    await pubsub.publish('ps_raw', { ok: true });
    expect(await received.waitFor(1)).toEqual([{ ok: true }]);
    expect(warnings).toEqual(['dropped a notification that is not JSON']);
    await pubsub.close();
  });

  it('refuses a bad channel, a message too large and one that is not JSON', async () => {
    const pubsub = new PubSub(db);
    await expect(pubsub.subscribe('Bad Channel', () => {})).rejects.toBeInstanceOf(InputError);
    await expect(pubsub.publish('Bad Channel', {})).rejects.toThrow(/invalid channel name/);
    await expect(pubsub.publish('ps_refused', { blob: 'x'.repeat(8_000) })).rejects.toThrow(/over the limit/);
    await expect(pubsub.publish('ps_refused', undefined)).rejects.toThrow(/JSON-serialisable/);
  });
});
