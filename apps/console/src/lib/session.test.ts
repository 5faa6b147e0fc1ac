import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { CONSOLE_CALLBACK, consoleSignIn } from '../testing/consoleSignIn';
import { REFRESH_ERROR, refreshIfDue, sessionOf, type RefreshOptions } from './session';

// The console's session refresh (issue #9: "refreshed before expiry; an expired refresh sends the user to
// log in again") against a real UAA: tokens come from the authorization code + PKCE sign-in of
// `pks_console`, exactly what next-auth stores in the session after the UAA's login page.

describe('the console session’s token refresh (real UAA)', () => {
  let uaa: TestUaa;
  let options: RefreshOptions;

  beforeAll(async () => {
    uaa = await startTestUaa({ consoleRedirectUris: [CONSOLE_CALLBACK] });
    await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    // The server's fetch trusts the installation CA (NODE_EXTRA_CA_CERTS); the test's trusts the UAA's.
    options = { uaaUrl: uaa.url, fetch: (url, init) => uaa.fetch(url, init) };
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  /** Signs alice in as the console does and returns what the jwt callback stores after sign-in. */
  const signedIn = () => consoleSignIn(uaa, { username: 'alice', password: 'alice-password-1' });

  /** Checks an access token's RS256 signature with the UAA's published keys; returns its claims. */
  async function verified(token: string): Promise<Record<string, unknown>> {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid: string };
    const { keys } = (await (await uaa.fetch(`${uaa.url}/token_keys`)).json()) as {
      keys: (JsonWebKey & { kid: string })[];
    };
    const jwk = keys.find((k) => k.kid === kid);
    expect(jwk, `a published key ${kid}`).toBeDefined();
    const ok = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      createPublicKey({ key: jwk!, format: 'jwk' }),
      Buffer.from(signature, 'base64url'),
    );
    expect(ok).toBe(true);
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  it('refreshes a token past its expiry through UAA’s refresh_token grant for pks_console', async () => {
    const token = await signedIn();
    const expired = { ...token, expiresAt: Math.floor(Date.now() / 1000) - 10 };
    const refreshed = await refreshIfDue(expired, options);
    expect(refreshed.error).toBeUndefined();
    expect(refreshed.accessToken).toEqual(expect.any(String));
    expect(refreshed.accessToken).not.toBe(token.accessToken);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() / 1000 + 60);
    expect(refreshed).toMatchObject({ userName: 'alice', refreshToken: token.refreshToken });
    expect(refreshed.scopes).toEqual(expect.arrayContaining(['openid', 'pks.clusters.manage']));
    const claims = await verified(refreshed.accessToken!);
    expect(claims).toMatchObject({
      iss: uaa.issuer,
      client_id: 'pks_console',
      user_name: 'alice',
      grant_type: 'refresh_token',
    });
    // What the page gets: the user and no error; the new token stays in the cookie.
    const session = sessionOf({ expires: '2099-01-01T00:00:00.000Z' }, refreshed);
    expect(session).toMatchObject({ user: { name: 'alice' } });
    expect(session.error).toBeUndefined();
  });

  it('gives the page the user, scopes and session expiry only: no access, refresh or ID token', async () => {
    const token = { ...(await signedIn()), sub: 'alice-id', email: 'alice@example.com' };
    const session = sessionOf(
      { expires: '2099-01-01T00:00:00.000Z', user: { name: 'alice', email: 'alice@example.com' } },
      token,
    );
    expect(session).toEqual({
      expires: '2099-01-01T00:00:00.000Z',
      user: { name: 'alice', email: 'alice@example.com' },
      scopes: expect.arrayContaining(['openid', 'pks.clusters.manage']),
    });
    const json = JSON.stringify(session);
    expect(json).not.toMatch(/token/i);
    expect(json).not.toContain(token.accessToken);
    expect(json).not.toContain(token.refreshToken);
    expect(json).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('refreshes within two minutes of expiry, and leaves a token not near expiry unchanged', async () => {
    const token = await signedIn();
    const fresh = { ...token, expiresAt: Math.floor(Date.now() / 1000) + 600 };
    expect(await refreshIfDue(fresh, options)).toBe(fresh);
    const nearly = { ...token, expiresAt: Math.floor(Date.now() / 1000) + 60 };
    const refreshed = await refreshIfDue(nearly, options);
    expect(refreshed.error).toBeUndefined();
    expect(refreshed.accessToken).not.toBe(token.accessToken);
  });

  it('marks the session with RefreshAccessTokenError when UAA refuses the refresh token, for good', async () => {
    const token = await signedIn();
    // Revoked through UAA's own revocation endpoint (an admin ending the session).
    const revoke = await uaa.fetch(
      `${uaa.url}/oauth/token/revoke/${encodeURIComponent(token.refreshToken!)}`,
      { method: 'DELETE', headers: { authorization: `Bearer ${await uaa.adminToken()}` } },
    );
    expect(revoke.status).toBe(200);
    const expired = { ...token, expiresAt: Math.floor(Date.now() / 1000) - 10 };
    const failed = await refreshIfDue(expired, options);
    expect(failed.error).toBe(REFRESH_ERROR);
    expect(failed.error).toBe('RefreshAccessTokenError');
    // The layout reads this and sends the user to sign in again.
    expect(sessionOf({ expires: '2099-01-01T00:00:00.000Z' }, failed).error).toBe('RefreshAccessTokenError');
    // A failed refresh is not retried on the next read of the session.
    expect(await refreshIfDue(failed, options)).toBe(failed);

    const garbage = await refreshIfDue(
      { ...expired, error: undefined, refreshToken: 'not-a-refresh-token' },
      options,
    );
    expect(garbage.error).toBe(REFRESH_ERROR);
    expect(garbage.accessToken).toBe(token.accessToken);
  });

  it('marks the session with the error when there is no refresh token or UAA cannot be reached', async () => {
    const { refreshToken: _none, ...withoutRefresh } = await signedIn();
    const stale = { ...withoutRefresh, expiresAt: Math.floor(Date.now() / 1000) - 10 };
    expect((await refreshIfDue(stale, options)).error).toBe(REFRESH_ERROR);
    const unreachable = await refreshIfDue(
      { ...stale, refreshToken: 'anything' },
      { ...options, uaaUrl: 'https://127.0.0.1:9' },
    );
    expect(unreachable.error).toBe(REFRESH_ERROR);
  });
});
