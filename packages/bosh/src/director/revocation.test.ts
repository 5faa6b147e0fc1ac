import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestDirector, type TestDirector } from '../testing/index.js';

function status(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

// The Director shares the database with UAA, so UAA's revocation journal reaches it within two seconds.
describe.each(testDatabaseBackends())('revoked tokens at the Director on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({ uaa, db, ipRange: '127.1.93.0/24' });
  }, 60_000);
  afterAll(async () => {
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('refuses a token it had accepted once UAA revokes the client’s tokens, and accepts a new one', async () => {
    const token = () =>
      uaa
        .tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret })
        .then((t) => t.access_token);
    const old = await token();
    expect(await status(`${bosh.url}/deployments`, bosh.caPem, old)).toBe(200);
    const revoke = await uaa.fetch(`${uaa.url}/oauth/token/revoke/client/pks_director`, {
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    expect(revoke.status).toBe(200);
    const start = Date.now();
    while ((await status(`${bosh.url}/deployments`, bosh.caPem, old)) !== 401) {
      expect(Date.now() - start, 'still accepted 2 s after the revocation').toBeLessThan(2_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await status(`${bosh.url}/deployments`, bosh.caPem, await token())).toBe(200);
  });
});
