import { describe, expect, it } from 'vitest';
import { describeCertificate, isIssuedBy, SecretBox } from '@openpks/pki';
import { randomBytes, type KeyObject } from 'node:crypto';
import { openDatabase } from '@openpks/db';
import { migrate } from '@openpks/db';
import { directorMigrations } from './migrations.js';
import { VariableStore } from './store/variableStore.js';
import { ensureVariables, interpolate, RsaKeyPool } from './variables.js';
import { diffManifests } from './diff.js';

describe('the config server', () => {
  it('generates certificates with SANs signed by their CA, keeps them sealed and stable', async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      await migrate(db, { schema: 'director', migrations: directorMigrations });
      const store = new VariableStore(db, new SecretBox(randomBytes(32)));
      const definitions = [
        {
          name: 'leaf',
          type: 'certificate' as const,
          options: { ca: 'ca', common_name: 'api', alternative_names: ['10.0.0.1', 'api.local'] },
        },
        { name: 'ca', type: 'certificate' as const, options: { is_ca: true, common_name: 'root' } },
        { name: 'pw', type: 'password' as const, options: {} },
        { name: 'key', type: 'ssh' as const, options: {} },
      ];
      const values = await ensureVariables(store, 'd', definitions);
      const leaf = values.get('leaf') as Record<string, string>;
      const ca = values.get('ca') as Record<string, string>;
      expect(isIssuedBy(leaf.certificate!, ca.certificate!)).toBe(true);
      expect(leaf.ca).toBe(ca.certificate);
      const summary = describeCertificate(leaf.certificate!);
      expect(summary.ipAddresses).toContain('10.0.0.1');
      expect(summary.dnsNames).toContain('api.local');
      expect((values.get('key') as Record<string, string>).public_key).toMatch(/^ssh-rsa AAAA/);
      const { rows } = await db.query<{ value: string }>('SELECT value FROM director.variables');
      expect(rows.every((row) => row.value.startsWith('v1.') && !row.value.includes('BEGIN'))).toBe(true);
      expect(await ensureVariables(store, 'd', definitions)).toEqual(values);
    } finally {
      await db.close();
    }
  });

  it('interpolates whole values, parts and placeholders inside strings, and names unknown variables', () => {
    const values = new Map<string, string | Record<string, string>>([
      ['pw', 'secret'],
      ['cert', { ca: 'CA', certificate: 'CERT', private_key: 'KEY' }],
    ]);
    expect(
      interpolate(
        { a: '((pw))', b: '((cert))', c: 'x-((cert.ca))-y', d: ['((/dir/dep/pw))'] },
        values,
        'dep',
      ),
    ).toEqual({
      a: 'secret',
      b: { ca: 'CA', certificate: 'CERT', private_key: 'KEY' },
      c: 'x-CA-y',
      d: ['secret'],
    });
    expect(() => interpolate('((nope))', values, 'dep')).toThrow(/Failed to find variable '\/dep\/nope'/);
  });

  it('diffs manifests line by line as the CLI shows them', () => {
    expect(diffManifests('a: 1\nb: 2\n', 'a: 1\nb: 3\n')).toEqual([
      ['a: 1', null],
      ['b: 2', 'removed'],
      ['b: 3', 'added'],
    ]);
    expect(diffManifests(undefined, 'a: 1\n')).toEqual([['a: 1', 'added']]);
  });
});

describe('RsaKeyPool', () => {
  const fakeKeys = () => {
    let made = 0;
    const make = async () => {
      made += 1;
      if (made === 3) throw new Error('no entropy');
      return { privateKey: { made } as unknown as KeyObject, publicKey: { made } as unknown as KeyObject };
    };
    return { make, made: () => made };
  };

  it('hands each key out once and keeps `size` more under way', async () => {
    const keys = fakeKeys();
    const pool = new RsaKeyPool(2, keys.make);
    expect(keys.made()).toBe(0); // nothing until first use
    const first = await pool.take();
    expect(keys.made()).toBe(3);
    expect(pool.ready).toBe(2);
    const second = await pool.take();
    expect(second).not.toBe(first);
    // The third key failed: its taker hears why, and the pool goes on.
    await expect(pool.take()).rejects.toThrow('no entropy');
    const fourth = await pool.take();
    expect(
      new Set([first, second, fourth].map((k) => (k.privateKey as unknown as { made: number }).made)).size,
    ).toBe(3);
    expect(pool.ready).toBe(2);
  });
});
