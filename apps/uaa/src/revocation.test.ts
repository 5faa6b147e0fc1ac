import { followRevocations, RevocationList, UaaTokenVerifier, type TokenVerifier } from '@openpks/auth';
import type { Database } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from './testing/index.js';

/**
 * Revocation reaches every verifier, not only UAA: a verifier in another role (here, on its own connection
 * to the database, as another replica would) refuses a token it had already verified and cached within
 * two seconds of any kind of revocation, and still accepts the tokens the revocation did not name.
 */
const WITHIN_MS = 2_000;

describe.each(testDatabaseBackends())('revocation everywhere on $name', (backend) => {
  let db: TestDatabase;
  let replica: Database;
  let uaa: TestUaa;
  let list: RevocationList;
  let verifier: UaaTokenVerifier;
  let stopFollowing: () => Promise<void>;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    replica = await db.replica();
    list = new RevocationList();
    // Polling slower than the bound: only the notification can make it in time.
    stopFollowing = await followRevocations(replica, list, { pollMs: 60_000 });
    verifier = new UaaTokenVerifier({ issuer: uaa.issuer, ca: uaa.caPem, revocations: list });
  });
  afterAll(async () => {
    await stopFollowing?.();
    if (replica !== db) await replica?.close();
    await uaa?.stop();
    await db?.close();
  });

  const admin = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await uaa.fetch(`${uaa.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${await uaa.adminToken()}`,
        'content-type': 'application/json',
        ...(init.method === 'DELETE' || init.method === 'PUT' ? { 'if-match': '*' } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    expect([200, 201], `${init.method ?? 'GET'} ${path}: ${await response.clone().text()}`).toContain(
      response.status,
    );
    return response;
  };

  /** Waits until `verifier` refuses `token`; returns how long that took. */
  async function refusedWithin(token: string, by: TokenVerifier = verifier): Promise<number> {
    const start = Date.now();
    for (;;) {
      try {
        await by.verify(token);
      } catch (error) {
        expect((error as Error).message).toMatch(/revoked|signing key unknown/);
        return Date.now() - start;
      }
      if (Date.now() - start > WITHIN_MS) throw new Error(`the token still verified after ${WITHIN_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const login = (username: string, password: string) =>
    uaa.tokenFor({ username, password }).then((t) => t.access_token);

  it('one token revoked by its id stops working; the same user’s other token does not', async () => {
    await uaa.createUser('tess', 'tess-password', ['pks.clusters.manage']);
    const [one, other] = [await login('tess', 'tess-password'), await login('tess', 'tess-password')];
    const jti = (await verifier.verify(one)).claims.jti as string;
    await verifier.verify(other);
    await admin(`/oauth/token/revoke/${jti}`, { method: 'DELETE' });
    expect(await refusedWithin(one)).toBeLessThan(WITHIN_MS);
    await expect(verifier.verify(other)).resolves.toBeDefined();
  });

  it('revoke-all for a user ends every token it had, and a new sign-in works at once', async () => {
    const id = await uaa.createUser('ulla', 'ulla-password', ['pks.clusters.manage']);
    await uaa.createUser('vic', 'vic-password', ['pks.clusters.manage']);
    const cli = await login('ulla', 'ulla-password');
    const bystander = await login('vic', 'vic-password');
    await verifier.verify(cli);
    await verifier.verify(bystander);
    await admin(`/oauth/token/revoke/user/${id}`);
    expect(await refusedWithin(cli)).toBeLessThan(WITHIN_MS);
    await expect(verifier.verify(await login('ulla', 'ulla-password'))).resolves.toBeDefined();
    await expect(verifier.verify(bystander)).resolves.toBeDefined();
  });

  it('a password changed by the user, or reset by an admin, ends the old tokens', async () => {
    const id = await uaa.createUser('walt', 'walt-password', ['pks.clusters.manage']);
    const before = await login('walt', 'walt-password');
    await verifier.verify(before);
    const changed = await uaa.fetch(`${uaa.url}/Users/${id}/password`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${before}`, 'content-type': 'application/json' },
      body: JSON.stringify({ oldPassword: 'walt-password', password: 'walt-password-2' }),
    });
    expect(changed.status).toBe(200);
    expect(await refusedWithin(before)).toBeLessThan(WITHIN_MS);

    const second = await login('walt', 'walt-password-2');
    await verifier.verify(second);
    await admin(`/Users/${id}/password`, { method: 'PUT', body: { password: 'walt-password-3' } });
    expect(await refusedWithin(second)).toBeLessThan(WITHIN_MS);
    await expect(verifier.verify(await login('walt', 'walt-password-3'))).resolves.toBeDefined();
  });

  it('a deleted user’s tokens stop working', async () => {
    const id = await uaa.createUser('xena', 'xena-password', ['pks.clusters.manage']);
    const token = await login('xena', 'xena-password');
    await verifier.verify(token);
    await admin(`/Users/${id}`, { method: 'DELETE' });
    expect(await refusedWithin(token)).toBeLessThan(WITHIN_MS);
  });

  it('revoke-all for a client, and a new client secret, end the client’s tokens and its users’', async () => {
    const secret = 'robot-secret-1';
    await admin('/oauth/clients', {
      method: 'POST',
      body: {
        client_id: 'robot',
        client_secret: secret,
        authorized_grant_types: ['client_credentials', 'password'],
        authorities: ['pks.clusters.admin'],
        scope: ['pks.clusters.manage'],
      },
    });
    await uaa.createUser('yuri', 'yuri-password', ['pks.clusters.manage']);
    const robot = () => uaa.tokenFor({ clientId: 'robot', clientSecret: secret }).then((t) => t.access_token);
    const first = await robot();
    const yuri = await uaa
      .tokenFor({ username: 'yuri', password: 'yuri-password', clientId: 'robot', clientSecret: secret })
      .then((t) => t.access_token);
    const yuriCli = await login('yuri', 'yuri-password');
    for (const token of [first, yuri, yuriCli]) await verifier.verify(token);
    await admin('/oauth/token/revoke/client/robot');
    expect(await refusedWithin(first)).toBeLessThan(WITHIN_MS);
    expect(await refusedWithin(yuri)).toBeLessThan(WITHIN_MS);
    await expect(verifier.verify(yuriCli)).resolves.toBeDefined();

    const second = await robot();
    await verifier.verify(second);
    await admin('/oauth/clients/robot/secret', { method: 'PUT', body: { secret: 'robot-secret-2' } });
    expect(await refusedWithin(second)).toBeLessThan(WITHIN_MS);
    const third = await uaa.tokenFor({ clientId: 'robot', clientSecret: 'robot-secret-2' });
    await verifier.verify(third.access_token);
    await admin('/oauth/clients/robot', { method: 'DELETE' });
    expect(await refusedWithin(third.access_token)).toBeLessThan(WITHIN_MS);
  });

  it('a verifier that starts after the revocation learns it from the journal', async () => {
    const id = await uaa.createUser('abe', 'abe-password', ['pks.clusters.manage']);
    const token = await login('abe', 'abe-password');
    await admin(`/oauth/token/revoke/user/${id}`);
    const lateList = new RevocationList();
    const stop = await followRevocations(replica, lateList, { pollMs: 60_000 });
    try {
      const late = new UaaTokenVerifier({ issuer: uaa.issuer, ca: uaa.caPem, revocations: lateList });
      await expect(late.verify(token)).rejects.toThrow(/user's tokens were revoked/);
    } finally {
      await stop();
    }
  });

  it('without the journal, asking UAA (/introspect) finds a revoked token within the cache time', async () => {
    const id = await uaa.createUser('bea', 'bea-password', ['pks.clusters.manage']);
    const token = await login('bea', 'bea-password');
    const asking = new UaaTokenVerifier({
      issuer: uaa.issuer,
      ca: uaa.caPem,
      introspection: { clientId: 'admin', clientSecret: uaa.adminClientSecret, cacheMs: 1_000 },
    });
    await asking.verify(token);
    await admin(`/oauth/token/revoke/user/${id}`);
    expect(await refusedWithin(token, asking)).toBeLessThan(WITHIN_MS);
    await expect(asking.verify(await login('bea', 'bea-password'))).resolves.toBeDefined();
  });

  // Last: the test UAA's cached admin token was signed by the key this retires.
  it('a signing key retired at once stops being trusted; tokens of the new key work', async () => {
    await uaa.createUser('zoe', 'zoe-password', ['pks.clusters.manage']);
    const old = await login('zoe', 'zoe-password');
    await verifier.verify(old);
    await uaa.rotateSigningKey({ retireNow: true });
    expect(await refusedWithin(old)).toBeLessThan(WITHIN_MS);
    await expect(verifier.verify(await login('zoe', 'zoe-password'))).resolves.toBeDefined();
  });
});
