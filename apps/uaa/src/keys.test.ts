import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@openpks/db';
import { migrate } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { SecretBox } from '@openpks/pki';
import { systemClock } from './clock.js';
import { SigningKeys, UNKNOWN_KID_RELOAD_MS } from './keys.js';
import { uaaMigrations } from './store/migrations.js';

/** The database, counting the reads of the signing-key set. */
function counting(db: Database): { db: Database; reads: () => number } {
  let reads = 0;
  const wrapped = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (text: string, ...rest: unknown[]) => {
          if (/^SELECT \* FROM uaa\.signing_keys/.test(text)) reads++;
          return (target.query as (...args: unknown[]) => unknown).call(target, text, ...rest);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { db: wrapped, reads: () => reads };
}

describe.each(testDatabaseBackends())('signing keys on $name', (backend) => {
  let db: TestDatabase;
  const secrets = new SecretBox(randomBytes(32));

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db, { schema: 'uaa', migrations: uaaMigrations });
  });
  afterAll(async () => db?.close());

  it('reloads for unknown key ids at most once a second, so made-up kids cannot flood the database', async () => {
    const { db: watched, reads } = counting(db);
    const keys = new SigningKeys(watched, secrets, systemClock);
    await keys.init();
    const before = reads();
    const lookups = await Promise.all(Array.from({ length: 50 }, (_, i) => keys.publicKey(`made-up-${i}`)));
    expect(lookups.every((key) => key === undefined)).toBe(true);
    for (let i = 0; i < 50; i++) expect(await keys.publicKey(`made-up-again-${i}`)).toBeUndefined();
    expect(reads() - before).toBe(1);
  });

  it('still finds a key another replica rotated in, once the second has passed', async () => {
    const mine = new SigningKeys(db, secrets, systemClock);
    const other = new SigningKeys(db, secrets, systemClock);
    await mine.init();
    await other.init();
    expect(await mine.publicKey('made-up')).toBeUndefined();
    const kid = await other.rotate(600);
    await new Promise((resolve) => setTimeout(resolve, UNKNOWN_KID_RELOAD_MS + 50));
    expect(await mine.publicKey(kid)).toBeDefined();
  });
});
