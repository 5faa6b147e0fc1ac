import { InputError, UnauthenticatedError } from '@openpks/domain';
import { SignJWT, generateKeyPair, type JWTPayload } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeUaa, newSigningKey, serverTls, type SigningKey } from './test-support/fakeUaa.js';
import { RevocationList } from './revocations.js';
import {
  KEY_REFETCH_INTERVAL_MS,
  KEY_SET_MAX_AGE_MS,
  UaaTokenVerifier,
  type UaaTokenVerifierOptions,
} from './uaaTokenVerifier.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const IAT = NOW.getTime() / 1000;

let tls: { cert: string; key: string; ca: string };
let key1: SigningKey;
let key2: SigningKey;
let uaa: FakeUaa;
let clock: Date;

beforeAll(async () => {
  [tls, key1, key2] = await Promise.all([serverTls(), newSigningKey('key-1'), newSigningKey('key-2')]);
});

beforeEach(async () => {
  uaa = await FakeUaa.start({ tls });
  uaa.published = [key1];
  clock = NOW;
});

afterEach(() => uaa.close());

function verifier(options: Partial<UaaTokenVerifierOptions> = {}): UaaTokenVerifier {
  return new UaaTokenVerifier({ issuer: uaa.issuer, ca: uaa.ca, now: () => clock, ...options });
}

/** A password-grant access token shaped like the ones PKS's UAA issues. */
function userClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    jti: '2f6a1c0e9b7d4e5f8a3b1c2d3e4f5a6b',
    sub: 'c0ffee00-1111-2222-3333-444455556666',
    scope: ['pks.clusters.admin', 'openid'],
    client_id: 'pks_cli',
    cid: 'pks_cli',
    azp: 'pks_cli',
    grant_type: 'password',
    user_id: 'c0ffee00-1111-2222-3333-444455556666',
    origin: 'uaa',
    user_name: 'alana',
    email: 'alana@example.com',
    auth_time: IAT,
    rev_sig: '5e1b7c2a',
    iat: IAT,
    exp: IAT + 600,
    iss: uaa.issuer,
    zid: 'uaa',
    aud: ['pks_cli', 'pks.clusters', 'openid'],
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<UnauthenticatedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  return error as UnauthenticatedError;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('UaaTokenVerifier: valid tokens', () => {
  it('verifies a UAA user token and maps its claims', async () => {
    const token = await uaa.sign(userClaims());
    const verified = await verifier().verify(token);
    expect(verified).toMatchObject({
      raw: token,
      subject: 'c0ffee00-1111-2222-3333-444455556666',
      clientId: 'pks_cli',
      scopes: ['pks.clusters.admin', 'openid'],
      audience: ['pks_cli', 'pks.clusters', 'openid'],
      userId: 'c0ffee00-1111-2222-3333-444455556666',
      userName: 'alana',
      email: 'alana@example.com',
      origin: 'uaa',
      grantType: 'password',
      issuedAt: NOW,
      expiresAt: new Date(NOW.getTime() + 600_000),
    });
    expect(verified.claims).toMatchObject({ zid: 'uaa', rev_sig: '5e1b7c2a' });
  });

  it('accepts the scope claim as a space-separated string', async () => {
    const token = await uaa.sign(userClaims({ scope: 'pks.clusters.manage  openid' }));
    expect((await verifier().verify(token)).scopes).toEqual(['pks.clusters.manage', 'openid']);
  });

  it('maps a client-credentials token, whose subject is the client and which has no user claims', async () => {
    const token = await uaa.sign({
      jti: 'a1',
      sub: 'pks_director',
      authorities: ['bosh.admin'],
      scope: ['bosh.admin'],
      client_id: 'pks_director',
      cid: 'pks_director',
      azp: 'pks_director',
      grant_type: 'client_credentials',
      iat: IAT,
      exp: IAT + 43_200,
      iss: uaa.issuer,
      zid: 'uaa',
      aud: ['bosh', 'pks_director'],
    });
    const verified = await verifier().verify(token);
    expect(verified).toMatchObject({
      subject: 'pks_director',
      clientId: 'pks_director',
      scopes: ['bosh.admin'],
    });
    expect(verified.userId).toBeUndefined();
    expect(verified.userName).toBeUndefined();
    expect(verified.grantType).toBe('client_credentials');
  });

  it('accepts a token whose audience holds one of the configured audiences', async () => {
    const token = await uaa.sign(userClaims());
    await expect(verifier({ audience: ['bosh', 'pks.clusters'] }).verify(token)).resolves.toBeDefined();
  });

  it('accepts a token expired less than the clock tolerance ago', async () => {
    const token = await uaa.sign(userClaims({ exp: IAT + 600 }));
    clock = new Date(NOW.getTime() + 620_000);
    await expect(verifier().verify(token)).resolves.toBeDefined();
  });

  it('fetches the keys once and verifies later tokens from the cache', async () => {
    const v = verifier();
    for (let i = 0; i < 5; i += 1) await v.verify(await uaa.sign(userClaims({ jti: `t${i}` })));
    expect(uaa.keyRequests).toBe(1);
  });

  it('remembers a verified token until it expires, and no longer', async () => {
    const v = verifier();
    const token = await uaa.sign(userClaims({ exp: IAT + 600 }));
    const first = await v.verify(token);
    expect(await v.verify(token)).toBe(first); // not decoded and checked again
    clock = new Date(NOW.getTime() + 620_000); // past exp, within the 30 s tolerance
    expect(await v.verify(token)).toBe(first);
    clock = new Date(NOW.getTime() + 700_000);
    expect((await failure(v.verify(token))).message).toBe('token expired');
  });

  it('shares one key fetch between concurrent first verifications', async () => {
    const v = verifier();
    const token = await uaa.sign(userClaims());
    await Promise.all(Array.from({ length: 10 }, () => v.verify(token)));
    expect(uaa.keyRequests).toBe(1);
  });

  it('ignores MAC keys and keys for other algorithms in the key set', async () => {
    uaa.published = [
      { ...key2, published: { kty: 'MAC', kid: 'legacy', alg: 'HS256', value: 'shared secret' } },
      { ...key2, published: { ...key2.published, alg: 'RS512' } },
      key1,
    ];
    await expect(verifier().verify(await uaa.sign(userClaims(), key1))).resolves.toBeDefined();
  });

  it('reads the keys from <issuer without /oauth/token>/token_keys by default', () => {
    expect(verifier().jwksUrl).toBe(`${uaa.url}/token_keys`);
    expect(new UaaTokenVerifier({ issuer: 'https://uaa.example.com/uaa/oauth/token' }).jwksUrl).toBe(
      'https://uaa.example.com/uaa/token_keys',
    );
  });
});

describe('UaaTokenVerifier: rejected tokens', () => {
  it('rejects an expired token as "token expired"', async () => {
    const token = await uaa.sign(userClaims());
    clock = new Date(NOW.getTime() + 700_000);
    expect((await failure(verifier().verify(token))).message).toBe('token expired');
  });

  it('rejects a token issued in the future beyond the clock tolerance', async () => {
    const token = await uaa.sign(userClaims({ iat: IAT + 120, exp: IAT + 720 }));
    expect((await failure(verifier().verify(token))).message).toBe('token issued in the future');
  });

  it('accepts a token issued in the future within the clock tolerance', async () => {
    const token = await uaa.sign(userClaims({ iat: IAT + 20, exp: IAT + 620 }));
    await expect(verifier().verify(token)).resolves.toBeDefined();
  });

  it('rejects a token from another issuer as "token issuer mismatch"', async () => {
    const token = await uaa.sign(userClaims({ iss: 'https://evil.example.com/oauth/token' }));
    expect((await failure(verifier().verify(token))).message).toBe('token issuer mismatch');
  });

  it('rejects an issuer that differs only by a trailing slash', async () => {
    const token = await uaa.sign(userClaims({ iss: `${uaa.issuer}/` }));
    expect((await failure(verifier().verify(token))).message).toBe('token issuer mismatch');
  });

  it('rejects a token whose audience holds none of the configured audiences', async () => {
    const token = await uaa.sign(userClaims());
    const error = await failure(verifier({ audience: 'bosh' }).verify(token));
    expect(error.message).toBe('token audience mismatch');
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const token = await uaa.sign(userClaims({ scope: ['pks.clusters.manage'] }));
    const [header, , signature] = token.split('.');
    const forged = `${header}.${base64url(userClaims({ scope: ['pks.clusters.admin'] }))}.${signature}`;
    expect((await failure(verifier().verify(forged))).message).toBe('token signature invalid');
  });

  it('rejects a token signed by another key under a published key id', async () => {
    const impostor = { ...key2, kid: 'key-1' };
    const token = await uaa.sign(userClaims(), impostor);
    expect((await failure(verifier().verify(token))).message).toBe('token signature invalid');
  });

  it('rejects an unsigned token (alg none) without fetching keys', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT', kid: 'key-1' })}.${base64url(userClaims())}.`;
    expect((await failure(verifier().verify(token))).message).toBe('unsupported algorithm none');
    expect(uaa.keyRequests).toBe(0);
  });

  it('rejects HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const v = verifier();
    await v.verify(await uaa.sign(userClaims())); // the key set is loaded and holds key-1
    const token = await new SignJWT(userClaims())
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1', typ: 'JWT' })
      .sign(new TextEncoder().encode(key1.publicKeyPem));
    expect((await failure(v.verify(token))).message).toBe('unsupported algorithm HS256');
  });

  it('rejects an ES256 token', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(userClaims())
      .setProtectedHeader({ alg: 'ES256', kid: 'key-1', typ: 'JWT' })
      .sign(privateKey);
    expect((await failure(verifier().verify(token))).message).toBe('unsupported algorithm ES256');
  });

  it('rejects a token without a key id', async () => {
    const token = await new SignJWT(userClaims())
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(key1.privateKey);
    expect((await failure(verifier().verify(token))).message).toBe('token has no key id');
  });

  it('rejects a token without exp', async () => {
    const { exp: _exp, ...claims } = userClaims();
    const token = await uaa.sign(claims);
    expect((await failure(verifier().verify(token))).message).toBe('token has no exp claim');
  });

  it('rejects something that is not a JWT as "token malformed", without echoing it', async () => {
    const error = await failure(verifier().verify('not-a-jwt-secret-stuff'));
    expect(error.message).toBe('token malformed');
  });
});

describe('UaaTokenVerifier: key rotation', () => {
  it('refetches the keys on an unknown key id and verifies a token signed by the rotated key', async () => {
    const v = verifier();
    await v.verify(await uaa.sign(userClaims(), key1));
    uaa.published = [key2, key1];
    const verified = await v.verify(await uaa.sign(userClaims({ jti: 'rotated' }), key2));
    expect(verified.claims.jti).toBe('rotated');
    expect(uaa.keyRequests).toBe(2);
  });

  it('refetches at most once per 30 s for unknown key ids, and again after that', async () => {
    const v = verifier();
    await v.verify(await uaa.sign(userClaims(), key1));
    const unknown = await uaa.sign(userClaims(), key2); // key-2 is not published
    expect((await failure(v.verify(unknown))).message).toBe('token signing key unknown');
    expect((await failure(v.verify(unknown))).message).toBe('token signing key unknown');
    expect(uaa.keyRequests).toBe(2);

    uaa.published = [key2, key1];
    clock = new Date(NOW.getTime() + KEY_REFETCH_INTERVAL_MS - 1000);
    await failure(v.verify(unknown));
    expect(uaa.keyRequests).toBe(2);
    clock = new Date(NOW.getTime() + KEY_REFETCH_INTERVAL_MS);
    await expect(v.verify(unknown)).resolves.toBeDefined();
    expect(uaa.keyRequests).toBe(3);
  });

  it('stops trusting a key UAA no longer publishes once the key set has aged, without a restart', async () => {
    const v = verifier();
    const token = await uaa.sign(userClaims({ exp: IAT + 3_600 }), key1);
    await v.verify(token);
    uaa.published = [key2];
    clock = new Date(NOW.getTime() + KEY_SET_MAX_AGE_MS - 1000);
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(uaa.keyRequests).toBe(1);
    clock = new Date(NOW.getTime() + KEY_SET_MAX_AGE_MS);
    // The aged set is refreshed in the background: this answer may still come from the old set.
    await v.verify(token).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(uaa.keyRequests).toBe(2);
    expect((await failure(v.verify(token))).message).toBe('token signing key unknown');
  });

  it('refetches the keys before answering when UAA announces a key change', async () => {
    const revocations = new RevocationList({ now: () => clock });
    const v = verifier({ revocations });
    const token = await uaa.sign(userClaims(), key1);
    await v.verify(token);
    uaa.published = [key2];
    revocations.add({ keys: true, expiresAt: new Date(NOW.getTime() + 600_000) });
    expect((await failure(v.verify(token))).message).toBe('token signing key unknown');
    expect(uaa.keyRequests).toBe(2);
  });

  it('refuses a cached token once a revocation names it', async () => {
    const revocations = new RevocationList({ now: () => clock });
    const v = verifier({ revocations });
    const token = await uaa.sign(userClaims(), key1);
    await v.verify(token);
    revocations.add({ jti: userClaims().jti as string, expiresAt: new Date(NOW.getTime() + 600_000) });
    expect((await failure(v.verify(token))).message).toBe('token revoked');
    expect(uaa.keyRequests).toBe(1);
  });

  it('shares one refetch between concurrent verifications with an unknown key id', async () => {
    const v = verifier();
    await v.verify(await uaa.sign(userClaims(), key1));
    uaa.published = [key2, key1];
    const token = await uaa.sign(userClaims(), key2);
    await Promise.all(Array.from({ length: 10 }, () => v.verify(token)));
    expect(uaa.keyRequests).toBe(2);
  });

  it('drops keys UAA no longer publishes when it refetches', async () => {
    const v = verifier();
    const old = await uaa.sign(userClaims(), key1);
    await v.verify(old);
    uaa.published = [key2];
    await v.verify(await uaa.sign(userClaims(), key2));
    expect((await failure(v.verify(old))).message).toBe('token signing key unknown');
  });
});

describe('UaaTokenVerifier: fetching the keys', () => {
  it('says the keys could not be fetched when the key server is down', async () => {
    const token = await uaa.sign(userClaims());
    await uaa.close();
    const error = await failure(verifier().verify(token));
    expect(error.message).toBe('token signing keys could not be fetched from UAA');
    expect(String((error.cause as Error).message)).toMatch(/token_keys: .*ECONNREFUSED/);
  });

  it('fetches again on the next verification once the key server is back', async () => {
    const v = verifier();
    uaa.published = [];
    const token = await uaa.sign(userClaims(), key1);
    expect((await failure(v.verify(token))).message).toBe('token signing keys could not be fetched from UAA');
    uaa.published = [key1];
    await expect(v.verify(token)).resolves.toBeDefined();
  });

  it('refuses a key server whose certificate is not signed by the trusted CA', async () => {
    const other = await FakeUaa.start({ tls: await serverTls() });
    other.published = [key1];
    try {
      const token = await other.sign(userClaims({ iss: other.issuer }));
      const v = new UaaTokenVerifier({ issuer: other.issuer, ca: tls.ca, now: () => clock });
      const error = await failure(v.verify(token));
      expect(error.message).toBe('token signing keys could not be fetched from UAA');
      expect(String((error.cause as Error).message)).toMatch(/certificate/);
      expect(other.keyRequests).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('refuses a key server with a private CA when no CA is configured', async () => {
    const token = await uaa.sign(userClaims());
    const v = new UaaTokenVerifier({ issuer: uaa.issuer, now: () => clock });
    expect((await failure(v.verify(token))).message).toBe('token signing keys could not be fetched from UAA');
  });

  it('refuses to fetch keys over plain HTTP', () => {
    expect(() => new UaaTokenVerifier({ issuer: 'http://localhost:8080/uaa/oauth/token' })).toThrow(
      InputError,
    );
  });
});
