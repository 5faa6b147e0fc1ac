import { ForbiddenError, InputError, InternalError, UnauthenticatedError } from '@openpks/domain';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ClientCredentialsTokenSource,
  type ClientCredentialsOptions,
} from './clientCredentialsTokenSource.js';
import { FakeUaa, serverTls } from './test-support/fakeUaa.js';

let tls: { cert: string; key: string; ca: string };
let uaa: FakeUaa;
let now: number;

beforeAll(async () => {
  tls = await serverTls();
});

beforeEach(async () => {
  uaa = await FakeUaa.start({ tls, clientId: 'pks_director', clientSecret: 'director secret' });
  now = Date.parse('2025-06-01T12:00:00Z');
});

afterEach(() => uaa.close());

function source(options: Partial<ClientCredentialsOptions> = {}): ClientCredentialsTokenSource {
  return new ClientCredentialsTokenSource({
    tokenUrl: `${uaa.url}/oauth/token`,
    clientId: 'pks_director',
    clientSecret: 'director secret',
    ca: uaa.ca,
    now: () => now,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

describe('ClientCredentialsTokenSource', () => {
  it('asks UAA for a client_credentials token with URL-encoded HTTP Basic credentials', async () => {
    expect(await source({ scope: 'bosh.admin' }).token()).toBe('token-1');
    const [request] = uaa.tokenRequests;
    expect(request!.form.get('grant_type')).toBe('client_credentials');
    expect(request!.form.get('scope')).toBe('bosh.admin');
    expect(request!.form.has('client_secret')).toBe(false);
    expect(request!.encodedCredentials).toBe('true');
    expect(Buffer.from(request!.authorization!.slice(6), 'base64').toString()).toBe(
      'pks_director:director%20secret',
    );
  });

  it('authenticates a client whose secret holds colons, plus signs and percent signs', async () => {
    await uaa.close();
    uaa = await FakeUaa.start({ tls, clientId: 'admin', clientSecret: 'a:b+c%20 d' });
    const tokens = source({ clientId: 'admin', clientSecret: 'a:b+c%20 d' });
    await expect(tokens.token()).resolves.toBe('token-1');
  });

  it('reuses the cached token until shortly before it expires, then fetches a new one', async () => {
    uaa.expiresIn = 600;
    const tokens = source({ refreshBeforeSeconds: 60 });
    expect(await tokens.token()).toBe('token-1');
    now += 539_000;
    expect(await tokens.token()).toBe('token-1');
    expect(uaa.tokenRequests).toHaveLength(1);
    now += 1_000; // 60 s before expiry
    expect(await tokens.token()).toBe('token-2');
    expect(uaa.tokenRequests).toHaveLength(2);
  });

  it('refreshes a short-lived token at half its life at the latest', async () => {
    uaa.expiresIn = 60;
    const tokens = source({ refreshBeforeSeconds: 300 });
    await tokens.token();
    now += 29_000;
    expect(await tokens.token()).toBe('token-1');
    now += 1_000;
    expect(await tokens.token()).toBe('token-2');
  });

  it('shares one request between concurrent callers', async () => {
    const tokens = source();
    const answers = await Promise.all(Array.from({ length: 10 }, () => tokens.token()));
    expect(new Set(answers)).toEqual(new Set(['token-1']));
    expect(uaa.tokenRequests).toHaveLength(1);
  });

  it('fetches a new token after invalidate()', async () => {
    const tokens = source();
    await tokens.token();
    tokens.invalidate();
    expect(await tokens.token()).toBe('token-2');
  });

  it("surfaces 401 invalid_client as UnauthenticatedError with UAA's description", async () => {
    const error = await failure(source({ clientSecret: 'wrong' }).token());
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toContain('invalid_client: Bad credentials');
    expect(error.message).toContain("'pks_director'");
    expect(error.message).not.toContain('wrong');
  });

  it("surfaces invalid_scope as ForbiddenError with UAA's description", async () => {
    uaa.tokenReply = {
      status: 400,
      body: { error: 'invalid_scope', error_description: 'Invalid scopes: uaa.admin' },
    };
    const error = await failure(source({ scope: 'uaa.admin' }).token());
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.message).toContain('invalid_scope: Invalid scopes: uaa.admin');
  });

  it('surfaces an unreachable UAA as InternalError naming the endpoint and the cause', async () => {
    await uaa.close();
    const error = await failure(source().token());
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toMatch(/cannot reach UAA .*\/oauth\/token: .*ECONNREFUSED/);
  });

  it('refuses a UAA whose certificate is not signed by the trusted CA', async () => {
    const error = await failure(source({ ca: (await serverTls()).ca }).token());
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toMatch(/certificate/);
    expect(uaa.tokenRequests).toHaveLength(0);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const tokens = source();
    uaa.tokenReply = { status: 503, body: { error: 'temporarily_unavailable' } };
    const error = await failure(tokens.token());
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toContain('HTTP 503 temporarily_unavailable');
    uaa.tokenReply = undefined;
    expect(await tokens.token()).toBe('token-2');
  });

  it('keeps handing out the cached token while an early refresh fails, until it expires', async () => {
    uaa.expiresIn = 600;
    const tokens = source({ refreshBeforeSeconds: 60 });
    await tokens.token();
    uaa.tokenReply = { status: 503, body: { error: 'temporarily_unavailable' } };
    now += 570_000;
    expect(await tokens.token()).toBe('token-1');
    now += 30_000;
    expect(await failure(tokens.token())).toBeInstanceOf(InternalError);
  });

  it('refuses a token endpoint that is not HTTPS', () => {
    expect(() => source({ tokenUrl: 'http://127.0.0.1:8080/oauth/token' })).toThrow(InputError);
  });
});
