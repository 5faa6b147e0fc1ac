import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { CONSOLE_CALLBACK, consoleSignIn, refreshStatus } from '../testing/consoleSignIn';
import { refreshTokenId, revokeRefreshToken, type RefreshOptions } from './sessionTokens.js';

// Sign-out gives the console's refresh token back to UAA (issue 16 item 6): revoked with the user's own
// access token, so a copy of the session cookie taken before sign-out cannot mint access tokens after it.

describe('revoking the session’s refresh token at sign-out (real UAA)', () => {
  let uaa: TestUaa;
  let options: RefreshOptions;
  const alice = { username: 'alice', password: 'alice-password-1' };

  beforeAll(async () => {
    uaa = await startTestUaa({ consoleRedirectUris: [CONSOLE_CALLBACK] });
    await uaa.createUser('alice', alice.password, ['pks.clusters.manage']);
    await uaa.createUser('bob', 'bob-password-1', ['pks.clusters.manage']);
    options = { uaaUrl: uaa.url, fetch: (url, init) => uaa.fetch(url, init) };
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  it('revokes the refresh token with the user’s own access token; other sessions keep theirs', async () => {
    const session = await consoleSignIn(uaa, alice);
    const other = await consoleSignIn(uaa, alice);
    expect(await refreshStatus(uaa, session.refreshToken!)).toBe(200);

    expect(await revokeRefreshToken(session, options)).toEqual({ revoked: true });

    expect(await refreshStatus(uaa, session.refreshToken!)).toBe(401);
    expect(await refreshStatus(uaa, other.refreshToken!)).toBe(200);
  });

  it('renews an expired access token first, then revokes the refresh token it came from', async () => {
    const session = await consoleSignIn(uaa, alice);
    const expired = { ...session, expiresAt: Math.floor(Date.now() / 1000) - 10 };
    expect(await revokeRefreshToken(expired, options)).toEqual({ revoked: true });
    expect(await refreshStatus(uaa, session.refreshToken!)).toBe(401);
  });

  it('reports, without throwing, what UAA refused and why', async () => {
    const mine = await consoleSignIn(uaa, alice);
    const bobs = await consoleSignIn(uaa, { username: 'bob', password: 'bob-password-1' });
    // Alice's access token may not revoke Bob's refresh token.
    const outcome = await revokeRefreshToken({ ...mine, refreshToken: bobs.refreshToken }, options);
    expect(outcome).toEqual({ revoked: false, reason: expect.stringMatching(/^UAA answered 403 \(/) });
    expect(await refreshStatus(uaa, bobs.refreshToken!)).toBe(200);

    const revoked = await consoleSignIn(uaa, alice);
    await revokeRefreshToken(revoked, options);
    const again = await revokeRefreshToken(
      { ...revoked, expiresAt: Math.floor(Date.now() / 1000) - 10 },
      options,
    );
    expect(again).toEqual({ revoked: false, reason: expect.stringContaining('already revoked or expired') });

    const { refreshToken: _none, ...withoutRefresh } = mine;
    expect(await revokeRefreshToken(withoutRefresh, options)).toEqual({
      revoked: false,
      reason: 'the session holds no refresh token',
    });
  });

  it('reports an unreachable UAA and leaves the token as it was', async () => {
    const session = await consoleSignIn(uaa, alice);
    const outcome = await revokeRefreshToken(session, { ...options, uaaUrl: 'https://127.0.0.1:9' });
    expect(outcome).toEqual({ revoked: false, reason: expect.stringContaining('UAA could not be reached') });
    expect(await refreshStatus(uaa, session.refreshToken!)).toBe(200);
  });
});

describe('refreshTokenId', () => {
  it('names a JWT refresh token by its jti and an opaque one by its value', () => {
    const claims = Buffer.from(JSON.stringify({ jti: 'abc123-r', sub: 'u' })).toString('base64url');
    expect(refreshTokenId(`eyJhbGciOiJSUzI1NiJ9.${claims}.c2ln`)).toBe('abc123-r');
    const opaque = '0123456789abcdef0123456789abcdef-rfedcba9876543210fedcba9876543210';
    expect(refreshTokenId(opaque)).toBe(opaque);
    expect(refreshTokenId('a.b.c')).toBe('a.b.c');
  });
});
