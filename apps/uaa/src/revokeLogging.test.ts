import { Writable } from 'node:stream';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { createLogger } from '@openpks/role';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from './testing/index.js';

describe('revocation logs never carry a refresh token value', () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    pretty: false,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  let db: Database;
  let uaa: TestUaa;

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db, logger });
  });
  afterAll(async () => {
    await uaa?.stop();
    await db?.close();
  });

  const revoke = async (tokenId: string, bearer: string) =>
    (
      await uaa.fetch(`${uaa.url}/oauth/token/revoke/${tokenId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${bearer}` },
      })
    ).status;
  const revokedLines = () =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === 'token revoked');

  it('logs the refresh token id, not its value, when revoked by value (by its owner and by an admin)', async () => {
    await uaa.createUser('rita', 'rita-password', ['pks.clusters.manage']);
    const own = await uaa.tokenFor({ username: 'rita', password: 'rita-password' });
    const byAdmin = await uaa.tokenFor({ username: 'rita', password: 'rita-password' });
    const before = lines.length;

    expect(await revoke(own.refresh_token!, own.access_token)).toBe(200);
    expect(await revoke(byAdmin.refresh_token!, await uaa.adminToken())).toBe(200);
    // Revoked again: now unknown, so the UAA cannot name it by id and must not name it by value either.
    expect(await revoke(byAdmin.refresh_token!, await uaa.adminToken())).toBe(200);

    const written = lines.slice(before).join('');
    expect(written).not.toContain(own.refresh_token!);
    expect(written).not.toContain(byAdmin.refresh_token!);
    const revoked = revokedLines().slice(-3);
    expect(revoked).toHaveLength(3);
    expect(revoked[0]!.jti).toMatch(/^[0-9a-f]{32}-r$/);
    expect(own.refresh_token!.startsWith(revoked[0]!.jti as string)).toBe(true);
    expect(byAdmin.refresh_token!.startsWith(revoked[1]!.jti as string)).toBe(true);
    expect(revoked[2]).not.toHaveProperty('jti');
    expect(revoked[2]!.token_sha256_prefix).toMatch(/^[0-9a-f]{12}$/);
  });

  it('still logs an access token by its jti', async () => {
    const { jti } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    expect(await revoke(jti, await uaa.adminToken())).toBe(200);
    expect(revokedLines().at(-1)).toMatchObject({ jti });
  });

  it('keeps the value out of the log when the revocation itself fails', async () => {
    await uaa.createUser('sam', 'sam-password', ['pks.clusters.manage']);
    const issued = await uaa.tokenFor({ username: 'sam', password: 'sam-password' });
    const admin = await uaa.adminToken();
    const before = lines.length;
    await db.query(`ALTER TABLE uaa.refresh_tokens RENAME TO refresh_tokens_away`);
    try {
      expect(await revoke(issued.refresh_token!, admin)).toBe(500);
    } finally {
      await db.query(`ALTER TABLE uaa.refresh_tokens_away RENAME TO refresh_tokens`);
    }
    const written = lines.slice(before).join('');
    expect(written).toContain('uaa request failed');
    expect(written).not.toContain(issued.refresh_token!);
  });
});
