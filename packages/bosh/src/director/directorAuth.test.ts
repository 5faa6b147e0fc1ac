import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { request } from 'node:https';
import { TestClock, startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestDirector, type TestDirector } from '../testing/index.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(url: string, ca: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      url,
      { ca, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decoded(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims!, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** An RS256 JWT signed by a key UAA never published. */
function signedByAnotherKey(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64({ ...header, alg: 'RS256' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

let uaa: TestUaa;
const clock = new TestClock();
beforeAll(async () => {
  uaa = await startTestUaa({ clock, accessTokenValidity: 600 });
});
afterAll(async () => {
  await uaa?.stop();
});

describe("the Director's door", () => {
  let bosh: TestDirector;
  let good: string;
  beforeAll(async () => {
    bosh = await startTestDirector({ uaa, ipRange: '127.1.91.0/24' });
    good = (await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret }))
      .access_token;
  });
  afterAll(async () => bosh?.stop());

  it('answers bosh env with the authenticated client in /info user, and null when anonymous', async () => {
    const named = await call(`${bosh.url}/info`, bosh.caPem, {
      headers: { Authorization: `Bearer ${good}` },
    });
    expect(named.status).toBe(200);
    expect(JSON.parse(named.body)).toMatchObject({ user: 'pks_director' });

    // The bosh CLI decides "logged in" by a non-empty `user`: anonymous and bad tokens get null, not 401.
    for (const headers of [{}, { Authorization: 'Bearer garbage' }] as Record<string, string>[]) {
      const anonymous = await call(`${bosh.url}/info`, bosh.caPem, { headers });
      expect(anonymous.status).toBe(200);
      expect(JSON.parse(anonymous.body)).toMatchObject({ user: null });
    }
  });

  it('names the user, not the client, in /info for a user token', async () => {
    await uaa.createUser('operator-info', 'Operator-Pa55!', ['pks.clusters.admin']);
    const { access_token } = await uaa.tokenFor({
      username: 'operator-info',
      password: 'Operator-Pa55!',
    });
    const answer = await call(`${bosh.url}/info`, bosh.caPem, {
      headers: { Authorization: `Bearer ${access_token}` },
    });
    expect(JSON.parse(answer.body)).toMatchObject({ user: 'operator-info' });
  });

  it('answers every unusable credential with 401, BOSH body and challenge, never a 500', async () => {
    const { header, claims } = decoded(good);
    const now = Math.floor(Date.now() / 1000);
    const credentials: Record<string, string | undefined> = {
      'no header': undefined,
      'empty bearer': 'Bearer ',
      'garbage bearer': 'Bearer garbage',
      'three garbage segments': 'Bearer a.b.c',
      'a header that is not JSON': `Bearer ${Buffer.from('{not json').toString('base64url')}.${b64(claims)}.sig`,
      'claims that are not JSON': `Bearer ${b64(header)}.${Buffer.from('[1,').toString('base64url')}.sig`,
      'alg none': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, scope: ['bosh.admin'] })}.`,
      'alg HS256 keyed with the public key id': `Bearer ${b64({ ...header, alg: 'HS256' })}.${b64(claims)}.${Buffer.from('x').toString('base64url')}`,
      'signed by another key under UAA key id': `Bearer ${signedByAnotherKey(header, claims)}`,
      'signed by another key with an unknown key id': `Bearer ${signedByAnotherKey({ ...header, kid: 'nobody' }, claims)}`,
      'a real token with its claims changed': `Bearer ${good.split('.')[0]}.${b64({ ...claims, exp: now + 9_999 })}.${good.split('.')[2]}`,
      'a real token without its signature': `Bearer ${good.split('.').slice(0, 2).join('.')}.`,
      'basic credentials': `Basic ${Buffer.from(`pks_director:${uaa.directorClientSecret}`).toString('base64')}`,
      'a token under another scheme': `Token ${good}`,
    };
    for (const [name, authorization] of Object.entries(credentials)) {
      for (const path of ['/deployments', '/tasks?verbose=2', '/tasks/1/output?type=debug', '/events']) {
        const answer = await call(`${bosh.url}${path}`, bosh.caPem, {
          headers: authorization === undefined ? {} : { Authorization: authorization },
        });
        expect({ name, path, status: answer.status }).toEqual({ name, path, status: 401 });
        expect(answer.body).toBe(`Not authorized: '${path.split('?')[0]}'\n`);
        expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="BOSH Director", Bearer /);
      }
    }
  });

  it('answers an expired UAA token with 401 and says why in the Bearer challenge', async () => {
    // Issued two hours ago with a ten-minute lifetime: long past the verifier's clock tolerance.
    clock.advance(-7_200);
    let expired: string;
    try {
      expired = (await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret }))
        .access_token;
    } finally {
      clock.advance(7_200);
    }
    const answer = await call(`${bosh.url}/deployments`, bosh.caPem, {
      headers: { Authorization: `Bearer ${expired}` },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/Bearer .*error="invalid_token".*expired/);
  });

  it('answers a token from another issuer with 401', async () => {
    const elsewhere = await startTestDirector({
      uaa: { ...uaa, issuer: `${uaa.url}/another/oauth/token` },
      ipRange: '127.1.92.0/24',
    });
    try {
      const answer = await call(`${elsewhere.url}/deployments`, elsewhere.caPem, {
        headers: { Authorization: `Bearer ${good}` },
      });
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/error_description="token issuer mismatch"/);
    } finally {
      await elsewhere.stop();
    }
  });

  it("answers a good token without a bosh scope with 403 and BOSH's scope error", async () => {
    const admin = await uaa.adminToken();
    const answer = await call(`${bosh.url}/deployments`, bosh.caPem, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      code: 600000,
      description: `Require one of the scopes: bosh.admin, bosh.${bosh.director.uuid}.admin, bosh.read, bosh.${bosh.director.uuid}.read`,
    });
  });

  it('keeps the debug and CPI logs of tasks, and every change, from bosh.read', async () => {
    const created = await uaa.fetch(`${uaa.url}/oauth/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await uaa.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'bosh_reader_auth',
        client_secret: 'reader-secret',
        authorized_grant_types: ['client_credentials'],
        authorities: ['bosh.read'],
        scope: [],
      }),
    });
    expect(created.status).toBe(201);
    const { access_token: reader } = await uaa.tokenFor({
      clientId: 'bosh_reader_auth',
      clientSecret: 'reader-secret',
    });
    const headers = { Authorization: `Bearer ${reader}` };
    expect((await call(`${bosh.url}/tasks?verbose=2`, bosh.caPem, { headers })).status).toBe(200);
    for (const type of ['debug', 'cpi']) {
      const answer = await call(`${bosh.url}/tasks/1/output?type=${type}`, bosh.caPem, { headers });
      expect({ type, status: answer.status }).toEqual({ type, status: 403 });
    }
    const change = await call(`${bosh.url}/configs?type=cloud&name=default`, bosh.caPem, {
      method: 'DELETE',
      headers,
    });
    expect(change.status).toBe(403);
    expect(JSON.parse(change.body)).toMatchObject({ code: 600000 });
  });
});
