import { request } from 'node:https';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNsx, type TestNsx } from '../testing/index.js';

describe.each(testDatabaseBackends())('the NSX simulator Basic auth on $name', (backend) => {
  let db: TestDatabase;
  let nsx: TestNsx;
  beforeAll(async () => {
    db = await backend.open();
    nsx = await startTestNsx({ db });
  });
  afterAll(async () => {
    await nsx?.stop();
    await db?.close();
  });

  // Raw requests, so headers the client would never send can be tried too.
  function status(authorization: string | undefined): Promise<number> {
    const url = new URL('/policy/api/v1/infra/tier-0s', nsx.url);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { ca: nsx.caPem, headers: authorization === undefined ? {} : { Authorization: authorization } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

  it('answers the right user and password, with the scheme in any case', async () => {
    const { username, password } = nsx.credentials;
    expect(await status(basic(username, password))).toBe(200);
    expect(await status(basic(username, password).replace('Basic', 'basic'))).toBe(200);
  });

  it('refuses (403, as NSX does) a wrong user, a wrong password, other lengths, empty or missing credentials', async () => {
    const { username, password } = nsx.credentials;
    for (const authorization of [
      basic('admim', password),
      basic(username, `${password.slice(0, -1)}x`),
      basic(username, `${password}x`),
      basic(username, password.slice(0, 3)),
      basic(`${username}:${password}`, ''),
      basic('', ''),
      basic('ädmin', password),
      `Basic ${Buffer.from(`${username}${password}`).toString('base64')}`,
      'Bearer token',
      undefined,
    ])
      expect(await status(authorization)).toBe(403);
  });
});
