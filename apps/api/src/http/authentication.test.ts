import { createPrivateKey, createPublicKey, generateKeyPairSync, createHmac, createSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, TestClock, type TestUaa } from '@openpks/uaa/testing';
import { collect, startTestApi, type TestApi } from '../testing/index.js';

// Every token the API cannot trust is the caller's problem, never the server's: 401 UNAUTHENTICATED on
// HTTP with a reason, and a 4401 close on a graphql-ws socket; never a 500, never a 4403.

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const segment = (value: unknown) => b64url(JSON.stringify(value));
const partsOf = (jwt: string) => {
  const [header, payload] = jwt.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
};

describe.each(testDatabaseBackends())('authentication of callers on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let otherUaa: TestUaa;
  let api: TestApi;
  const clock = new TestClock();
  let valid: string;
  const bad: Record<string, string> = {};

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db, clock });
    // Another installation's UAA: a well-formed, signed token from an issuer this API does not trust.
    otherUaa = await startTestUaa();
    api = await startTestApi({
      uaa,
      db,
      broker: { url: 'https://127.0.0.1:1', username: 'u', password: 'p' },
    });
    await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    valid = (await uaa.tokenFor({ username: 'alice', password: 'alice-password-1' })).access_token;
    const { header, payload } = partsOf(valid);

    clock.advance(-7200);
    bad['expired'] = (await uaa.tokenFor({ username: 'alice', password: 'alice-password-1' })).access_token;
    clock.advance(7200);

    await otherUaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    bad['issued by another UAA'] = (
      await otherUaa.tokenFor({ username: 'alice', password: 'alice-password-1' })
    ).access_token;
    // UAA's own admin client: correctly signed, but meant for UAA (aud admin, scim, clients, uaa), not PKS.
    bad['meant for another audience'] = await uaa.adminToken();

    bad['not a JWT'] = 'garbage';
    bad['three empty-looking segments'] = 'a.b.c';
    bad['an empty JSON header'] = `${segment({})}.${segment(payload)}.`;
    bad['unsigned (alg none)'] = `${segment({ alg: 'none', typ: 'JWT' })}.${segment(payload)}.`;
    const hsHeader = segment({ ...header, alg: 'HS256' });
    // HS256 keyed with the RSA public key: the classic algorithm confusion.
    const publicPem = createPublicKey(
      createPrivateKey(
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }),
      ),
    ).export({ type: 'spki', format: 'pem' });
    bad['HMAC-signed (alg HS256)'] = `${hsHeader}.${segment(payload)}.${createHmac('sha256', publicPem)
      .update(`${hsHeader}.${segment(payload)}`)
      .digest('base64url')}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signed = `${segment(header)}.${segment({ ...payload, scope: ['pks.clusters.admin'] })}`;
    bad['signed by a key UAA never published'] =
      `${signed}.${createSign('RSA-SHA256').update(signed).sign(privateKey).toString('base64url')}`;
    const [h, , s] = valid.split('.');
    bad['tampered after signing'] = `${h}.${segment({ ...payload, scope: ['pks.clusters.admin'] })}.${s}`;
    bad['with an unknown key id'] =
      `${segment({ ...header, kid: 'no-such-key' })}.${valid.split('.')[1]}.${s}`;
    bad['truncated'] = valid.slice(0, valid.length - 20);
    bad['not base64url'] = `${h}.%%%%.${s}`;
  });

  afterAll(async () => {
    await api?.stop();
    await otherUaa?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('serves a valid token (the control for the matrix below)', async () => {
    const result = await api.query(valid, '{ me { name } }');
    expect(result.status).toBe(200);
    expect(result.data).toEqual({ me: { name: 'alice' } });
  });

  it.each([
    'expired',
    'issued by another UAA',
    'meant for another audience',
    'not a JWT',
    'three empty-looking segments',
    'an empty JSON header',
    'unsigned (alg none)',
    'HMAC-signed (alg HS256)',
    'signed by a key UAA never published',
    'tampered after signing',
    'with an unknown key id',
    'truncated',
    'not base64url',
  ])('answers HTTP 401 UNAUTHENTICATED, with a reason, to a token %s', async (kind) => {
    const result = await api.query(bad[kind], '{ me { name } }');
    expect(result.status).toBe(401);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.errors![0]!.message).toMatch(/^(token|unsupported|malformed)/i);
  });

  it.each([
    ['Basic YWRtaW46YWRtaW4=', 'a Basic credential'],
    ['Bearer', 'a Bearer scheme with no token'],
    ['Bearer  ', 'a Bearer scheme with blanks'],
    ['Bearer a b', 'a token with a space in it'],
  ])('answers HTTP 401 to the Authorization header %j (%s)', async (authorization) => {
    const res = await api.raw('POST', '/graphql', {
      headers: { 'Content-Type': 'application/json', Authorization: authorization },
      body: JSON.stringify({ query: '{ me { name } }' }),
    });
    expect(res.status).toBe(401);
    const body = JSON.parse(res.body) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    'expired',
    'issued by another UAA',
    'meant for another audience',
    'not a JWT',
    'unsigned (alg none)',
  ])('closes a graphql-ws socket with 4401 when its token is %s', async (kind) => {
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = api.wsClient(bad[kind], resolve);
      collect(ws, '{ me { name } }', {}, () => true);
    });
    const { code, reason } = await closed;
    expect(code).toBe(4401);
    expect(reason).toMatch(/^Unauthorized: /);
  });

  it('closes a graphql-ws socket that brings no token with 4401', async () => {
    const closed = new Promise<{ code: number }>((resolve) => {
      const ws = api.wsClient(undefined, resolve);
      collect(ws, '{ me { name } }', {}, () => true);
    });
    expect((await closed).code).toBe(4401);
  });
});
