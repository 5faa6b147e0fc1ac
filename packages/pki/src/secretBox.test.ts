import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirectory } from './dataDirectory.js';
import { generatePassword } from './passwords.js';
import { SecretBox } from './secretBox.js';

async function box(): Promise<{ box: SecretBox; dataDir: DataDirectory }> {
  const dataDir = await DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-box-')));
  return { box: await SecretBox.fromDataDirectory(dataDir), dataDir };
}

describe('SecretBox', () => {
  it('round-trips a secret and never stores it in clear', async () => {
    const { box: secrets } = await box();
    const sealed = secrets.seal('-----BEGIN PRIVATE KEY----- cluster CA', 'cluster.ca');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(secrets.openString(sealed, 'cluster.ca')).toBe('-----BEGIN PRIVATE KEY----- cluster CA');
    expect(secrets.seal('same', 'x')).not.toBe(secrets.seal('same', 'x'));
  });

  it('refuses a tampered value, a value sealed for another context, or another key', async () => {
    const { box: secrets } = await box();
    const { box: other } = await box();
    const sealed = secrets.seal('client-secret', 'uaa.client');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    parts[3] = flipped.toString('base64url');
    expect(() => secrets.open(parts.join('.'), 'uaa.client')).toThrow(/failed authentication/);
    expect(() => secrets.open(sealed, 'broker.binding')).toThrow(/failed authentication/);
    expect(() => other.open(sealed, 'uaa.client')).toThrow(/failed authentication/);
    expect(() => secrets.open('garbage')).toThrow(/malformed/);
  });

  it('refuses a value whose GCM tag was truncated (a short tag is forgeable), and still opens whole ones', async () => {
    const { box: secrets } = await box();
    const sealed = secrets.seal('binding-password', 'broker.binding');
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[2]!, 'base64url');
    expect(tag.length).toBe(16);
    for (const length of [4, 8, 12, 15]) {
      const truncated = [parts[0], parts[1], tag.subarray(0, length).toString('base64url'), parts[3]].join(
        '.',
      );
      expect(() => secrets.open(truncated, 'broker.binding')).toThrow(/tag must be 16 bytes/);
    }
    const padded = [
      parts[0],
      parts[1],
      Buffer.concat([tag, Buffer.alloc(1)]).toString('base64url'),
      parts[3],
    ];
    expect(() => secrets.open(padded.join('.'), 'broker.binding')).toThrow(/tag must be 16 bytes/);
    expect(secrets.openString(sealed, 'broker.binding')).toBe('binding-password');
  });

  it('keeps its key in the data directory, 0600, and reuses it on the next start', async () => {
    const { box: first, dataDir } = await box();
    const sealed = first.seal('persisted');
    const again = await SecretBox.fromDataDirectory(dataDir);
    expect(again.openString(sealed)).toBe('persisted');
    expect(statSync(dataDir.path('secrets/encryption.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(dataDir.path('secrets/encryption.key'), 'utf8')).toHaveLength(44);
  });
});

describe('DataDirectory', () => {
  it('creates a secret once and returns the same value afterwards', async () => {
    const dataDir = await DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-dd-')));
    const first = await dataDir.loadOrCreateSecret('secrets/admin-password', () => generatePassword());
    const second = await dataDir.loadOrCreateSecret('secrets/admin-password', () => 'different');
    expect(second.toString()).toBe(first.toString());
    expect(first.toString()).toMatch(/^[A-HJ-NP-Za-km-z2-9]{24}$/);
  });

  it('names the path when the data directory cannot be used', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pks-dd-')), 'file');
    await DataDirectory.open(file).then((d) => d.write('x', 'y'));
    await expect(DataDirectory.open(join(file, 'x'))).rejects.toThrow(/cannot use .*x as the data directory/);
  });
});

describe('DataDirectory.lock', () => {
  it('lets one holder at a time use the directory and frees it on release', async () => {
    const dataDir = await DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-lock-')));
    const release = await dataDir.lock('pks-server');
    await expect(dataDir.lock('pks-server')).rejects.toThrow(/another pks-server in this process/);
    await release();
    const again = await dataDir.lock('pks-server');
    await again();
  });

  it('refuses a lock held by another running process and takes over a stale one', async () => {
    const dataDir = await DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-lock-')));
    await dataDir.write('run/pks-server.pid', `${process.ppid}\n`);
    await expect(dataDir.lock('pks-server')).rejects.toThrow(`another pks-server (pid ${process.ppid})`);
    await dataDir.write('run/pks-server.pid', '999999999\n');
    const release = await dataDir.lock('pks-server');
    expect(readFileSync(dataDir.path('run/pks-server.pid'), 'utf8').trim()).toBe(String(process.pid));
    await release();
  });
});
