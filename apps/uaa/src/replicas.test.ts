import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UaaClientId } from './constants.js';
import { startTestUaa, type TestUaa } from './testing/index.js';

/**
 * Two UAA replicas on one database, as behind a load balancer (issue #20): each on its own connection
 * pool (on PostgreSQL; PGlite has one), sharing only the database and the prepared files (one data
 * directory here stands for the key and CA every machine is given). What one replica was told (wrong
 * passwords, a revocation, a new password) the other knows at once, and a token either issued is the
 * other's as well. `apps/server/src/scaleOut.test.ts` does the same with `pks-server --roles uaa`
 * processes behind haproxy, and the API.
 */
const SHARED_URL = 'https://uaa.pks.example.com:8443';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe.each(testDatabaseBackends())('two UAA replicas on $name', (backend) => {
  let db: TestDatabase;
  let other: Database;
  let a: TestUaa;
  let b: TestUaa;

  beforeAll(async () => {
    db = await backend.open();
    a = await startTestUaa({ db, sharedUrl: SHARED_URL });
    other = await db.replica();
    b = await startTestUaa({
      db: other,
      sharedUrl: SHARED_URL,
      dataDir: a.dataDir,
      adminPassword: a.adminPassword,
    });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    if (other !== undefined && other !== db) await other.close();
    await db?.close();
  });

  const password = (uaa: TestUaa, username: string, secret: string) =>
    uaa
      .fetch(`${uaa.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic('pks_cli', '') },
        body: new URLSearchParams({ grant_type: 'password', username, password: secret }),
      })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  const checkToken = (uaa: TestUaa, token: string) =>
    uaa
      .fetch(`${uaa.url}/check_token`, {
        method: 'POST',
        headers: { authorization: basic('admin', uaa.adminClientSecret) },
        body: new URLSearchParams({ token }),
      })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  const introspect = async (uaa: TestUaa, token: string) => {
    const r = await uaa.fetch(`${uaa.url}/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
      body: new URLSearchParams({ token }),
    });
    expect(r.status).toBe(200);
    return (await r.json()) as { active: boolean };
  };

  it('names one issuer, the shared URL, so a token either replica issued is valid at the other', async () => {
    expect(a.url).not.toBe(b.url);
    expect(a.issuer).toBe(`${SHARED_URL}/oauth/token`);
    expect(b.issuer).toBe(a.issuer);
    const fromB = await password(b, 'admin', a.adminPassword);
    expect(fromB.status, JSON.stringify(fromB.body)).toBe(200);
    const checked = await checkToken(a, fromB.body.access_token as string);
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    expect(checked.body).toMatchObject({ user_name: 'admin', iss: `${SHARED_URL}/oauth/token` });
  });

  it('locks a user out on B after wrong passwords through A', async () => {
    await a.createUser('lou', 'lou-password', ['pks.clusters.manage']);
    expect((await password(b, 'lou', 'lou-password')).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const wrong = await password(a, 'lou', `wrong-${i}`);
      expect(wrong.status).toBe(401);
    }
    // The right password, at the other replica.
    const locked = await password(b, 'lou', 'lou-password');
    expect(locked).toEqual({
      status: 401,
      body: {
        error: 'unauthorized',
        error_description: 'Your account has been locked because of too many failed attempts to login.',
      },
    });
  });

  it('refuses at B a token revoked through A, by its id and by a new password', async () => {
    const userId = await a.createUser('rev', 'rev-password', ['pks.clusters.manage']);
    const issued = await Promise.all([
      password(b, 'rev', 'rev-password'),
      password(b, 'rev', 'rev-password'),
    ]);
    const [one, two] = issued.map((r) => r.body.access_token as string) as [string, string];
    expect((await checkToken(b, one)).status).toBe(200);
    expect(await introspect(b, two)).toMatchObject({ active: true });

    const jti = (await checkToken(b, one)).body.jti as string;
    const revoked = await a.fetch(`${a.url}/oauth/token/revoke/${jti}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await a.adminToken()}` },
    });
    expect(revoked.status).toBe(200);
    expect(await checkToken(b, one)).toEqual({
      status: 400,
      body: { error: 'invalid_token', error_description: 'Token has been revoked' },
    });
    expect(await introspect(b, one)).toEqual({ active: false });
    // Only that one.
    expect(await introspect(b, two)).toMatchObject({ active: true });

    const changed = await a.fetch(`${a.url}/Users/${userId}/password`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await a.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'rev-password-2' }),
    });
    expect(changed.status, await changed.clone().text()).toBe(200);
    expect(await introspect(b, two)).toEqual({ active: false });
    expect((await checkToken(b, two)).body).toEqual({
      error: 'invalid_token',
      error_description: 'revocable signature mismatch',
    });
    expect((await password(b, 'rev', 'rev-password-2')).status).toBe(200);
  });
});

// Without the seed's lock the second replica failed to start on PostgreSQL in about two runs of three
// (`duplicate key value violates unique constraint "groups_display_name"`); on PGlite, with its one
// connection, the two seeds never overlap.
describe.each(testDatabaseBackends())(
  'two UAA replicas starting together on an empty $name database',
  (backend) => {
    it('both start, and seed one admin user and one set of clients', async () => {
      const db = await backend.open();
      const other = await db.replica();
      const root = await mkdtemp(join(tmpdir(), 'openpks-uaa-pair-'));
      // The prepared files (key, CA) exist before either starts, as `pks-admin init` leaves them.
      const dataDir = await DataDirectory.open(root);
      await SecretBox.fromDataDirectory(dataDir);
      await TlsAuthority.load(dataDir);
      const started = await Promise.allSettled(
        [db, other].map((q) =>
          startTestUaa({ db: q, sharedUrl: SHARED_URL, dataDir: root, adminPassword: 'pair-password' }),
        ),
      );
      try {
        expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual([
          'started',
          'started',
        ]);
        const { rows } = await db.query<{ users: number; clients: number }>(
          `SELECT (SELECT count(*)::int FROM uaa.users WHERE username = 'admin') AS users,
                (SELECT count(*)::int FROM uaa.clients) AS clients`,
        );
        expect(rows[0]).toEqual({ users: 1, clients: Object.values(UaaClientId).length });
      } finally {
        for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
        if (other !== db) await other.close();
        await db.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  },
);
