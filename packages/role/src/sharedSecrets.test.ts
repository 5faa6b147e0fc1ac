import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DataDirectory, SecretBox } from '@openpks/pki';
import { SharedSecrets } from './sharedSecrets.js';

describe.each(testDatabaseBackends())('shared secrets on $name', (backend) => {
  let db: TestDatabase;
  const key = SecretBox.generateKey();
  const box = () => new SecretBox(Buffer.from(key, 'base64'));
  const machine = async () => DataDirectory.open(await mkdtemp(join(tmpdir(), 'pks-shared-')));

  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db.close();
  });

  it('gives every machine the value the first one created, with a 0600 copy in each data directory', async () => {
    const [a, b] = [await machine(), await machine()];
    const replica = await db.replica();
    let generated = 0;
    const generate = () => `value-${++generated}`;
    const [fromA, fromB] = await Promise.all([
      new SharedSecrets(db, box(), a).loadOrCreate('race', generate, { file: 'secrets/race' }),
      new SharedSecrets(replica, box(), b).loadOrCreate('race', generate, { file: 'secrets/race' }),
    ]);
    expect(fromB).toBe(fromA);
    expect((await a.read('secrets/race'))!.toString()).toBe(`${fromA}\n`);
    expect((await b.read('secrets/race'))!.toString()).toBe(`${fromA}\n`);
    // The value is sealed in the database, never in the clear.
    const { rows } = await db.query<{ sealed: string }>(
      `SELECT sealed FROM shared.secrets WHERE name = 'race'`,
    );
    expect(rows[0]!.sealed).not.toContain(fromA);
    await replica.close();
  });

  it("takes over an existing installation's file, clear or sealed, instead of generating a new value", async () => {
    const dataDir = await machine();
    await dataDir.write('broker/password', 'the-old-password\n', { secret: true });
    await dataDir.write('secrets/old.sealed', box().seal('the-old-secret', 'old-context'));
    const shared = new SharedSecrets(db, box(), dataDir);
    expect(await shared.loadOrCreate('takeover', () => 'new', { file: 'broker/password' })).toBe(
      'the-old-password',
    );
    expect(
      await shared.read('sealed-takeover', { file: 'secrets/old.sealed', fileSealedAs: 'old-context' }),
    ).toBe('the-old-secret');
    // Afterwards the database is what counts: another machine gets the same without the file.
    expect(await new SharedSecrets(db, box(), await machine()).read('takeover')).toBe('the-old-password');
    expect(await shared.read('never-created')).toBeUndefined();
  });
});
