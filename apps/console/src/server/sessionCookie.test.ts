import { encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { CONSOLE_CALLBACK, consoleSignIn } from '../testing/consoleSignIn';
import { parseCookies, sessionAccessToken, SessionRefusal, sessionOfRequest } from './sessionCookie.js';
import { REFRESH_ERROR, type RefreshOptions } from './sessionTokens.js';

// The console's server reads the session cookie next-auth wrote (the WebSocket upgrade never reaches
// Next): the same encryption, the same cookie names, the same refresh.

const SECRET = 'a-test-session-secret-of-forty-eight-characters!';
const COOKIE = 'next-auth.session-token';

describe('parseCookies', () => {
  it('splits a Cookie header into names and decoded values', () => {
    expect(parseCookies('a=1; b=x%3Dy;c=; =nameless; junk')).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(parseCookies(undefined)).toEqual({});
  });
});

describe('the session of a WebSocket upgrade (real UAA)', () => {
  let uaa: TestUaa;
  let refresh: RefreshOptions;
  const alice = { username: 'alice', password: 'alice-password-1' };

  beforeAll(async () => {
    uaa = await startTestUaa({ consoleRedirectUris: [CONSOLE_CALLBACK] });
    await uaa.createUser('alice', alice.password, ['pks.clusters.manage']);
    refresh = { uaaUrl: uaa.url, fetch: (url, init) => uaa.fetch(url, init) };
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  const sealed = async (token: Record<string, unknown>) => encode({ token, secret: SECRET });

  it('decrypts the session next-auth sealed, whole or in chunks, by the secure name on https', async () => {
    const token = await consoleSignIn(uaa, alice);
    const value = await sealed(token);
    const read = await sessionOfRequest(
      { cookie: `other=1; ${COOKIE}=${value}` },
      { secret: SECRET, secureCookie: false },
    );
    expect(read).toMatchObject({ userName: 'alice', accessToken: token.accessToken });

    const half = Math.floor(value.length / 2);
    const chunked = `${COOKIE}.1=${value.slice(half)}; ${COOKIE}.0=${value.slice(0, half)}`;
    expect(
      await sessionOfRequest({ cookie: chunked }, { secret: SECRET, secureCookie: false }),
    ).toMatchObject({
      accessToken: token.accessToken,
    });

    const secure = { cookie: `__Secure-${COOKIE}=${value}` };
    expect(await sessionOfRequest(secure, { secret: SECRET, secureCookie: true })).toMatchObject({
      userName: 'alice',
    });
    expect(await sessionOfRequest(secure, { secret: SECRET, secureCookie: false })).toBeNull();
  });

  it('finds no session without the cookie, under another secret, or from an Authorization header', async () => {
    const value = await sealed(await consoleSignIn(uaa, alice));
    const options = { secret: SECRET, secureCookie: false };
    expect(await sessionOfRequest({}, options)).toBeNull();
    expect(
      await sessionOfRequest({ cookie: `${COOKIE}=${value}` }, { ...options, secret: 'another-secret' }),
    ).toBeNull();
    expect(await sessionOfRequest({ cookie: `${COOKIE}=${value.slice(0, -4)}` }, options)).toBeNull();
    // next-auth's getToken would take a session from `Authorization: Bearer`; the socket reads cookies only.
    const headers = { authorization: `Bearer ${value}` } as { cookie?: string };
    expect(await sessionOfRequest(headers, options)).toBeNull();
  });

  it('gives the access token, refreshed at UAA when it is expired', async () => {
    const token = await consoleSignIn(uaa, alice);
    const options = { secret: SECRET, secureCookie: false, refresh };
    expect(await sessionAccessToken({ cookie: `${COOKIE}=${await sealed(token)}` }, options)).toEqual({
      accessToken: token.accessToken,
    });

    const expired = { ...token, expiresAt: Math.floor(Date.now() / 1000) - 5 };
    const renewed = await sessionAccessToken({ cookie: `${COOKIE}=${await sealed(expired)}` }, options);
    expect(renewed).toEqual({ accessToken: expect.any(String) });
    expect((renewed as { accessToken: string }).accessToken).not.toBe(token.accessToken);
    const claims = JSON.parse(
      Buffer.from((renewed as { accessToken: string }).accessToken.split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      user_name: 'alice',
      client_id: 'pks_console',
      grant_type: 'refresh_token',
    });
  });

  it('refuses a session whose refresh failed, or whose refresh token UAA no longer honours', async () => {
    const token = await consoleSignIn(uaa, alice);
    const options = { secret: SECRET, secureCookie: false, refresh };
    const failed = { ...token, error: REFRESH_ERROR };
    expect(await sessionAccessToken({ cookie: `${COOKIE}=${await sealed(failed)}` }, options)).toEqual({
      refused: SessionRefusal.SESSION_ENDED,
    });
    const unknown = {
      ...token,
      refreshToken: 'not-a-refresh-token',
      expiresAt: Math.floor(Date.now() / 1000) - 5,
    };
    expect(await sessionAccessToken({ cookie: `${COOKIE}=${await sealed(unknown)}` }, options)).toEqual({
      refused: SessionRefusal.SESSION_ENDED,
    });
    expect(await sessionAccessToken({}, options)).toEqual({ refused: SessionRefusal.NO_SESSION });
  });
});
