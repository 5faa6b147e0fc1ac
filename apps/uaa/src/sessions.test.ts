import { randomBytes } from 'node:crypto';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64Url } from './crypto.js';
import { hiddenInput, startTestUaa, TestBrowser, type TestUaa } from './testing/index.js';

const CALLBACK = 'http://localhost:3000/api/auth/callback/uaa';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe.each(testDatabaseBackends())('browser sessions end when they should, on $name', (backend) => {
  let db: Database;
  let uaa: TestUaa;
  let userCount = 0;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db, consoleRedirectUris: [CALLBACK] });
  });
  afterAll(async () => {
    await uaa?.stop();
    await db?.close();
  });

  async function newUser(): Promise<{ id: string; username: string; password: string }> {
    const username = `session-user-${++userCount}`;
    const password = `first-${randomBytes(6).toString('hex')}`;
    return { id: await uaa.createUser(username, password, ['pks.clusters.manage']), username, password };
  }

  /** The console's authorize request: pks_console, PKCE S256, a state of its own. */
  function authorizePath(): string {
    const query = new URLSearchParams({
      client_id: 'pks_console',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      state: `st-${randomBytes(4).toString('hex')}`,
      code_challenge: sha256Base64Url(randomBytes(32).toString('base64url')),
      code_challenge_method: 'S256',
    });
    return `/oauth/authorize?${query}`;
  }

  function codeOf(response: Response, base: string = uaa.url): string | null {
    if (response.status !== 302) return null;
    const location = new URL(response.headers.get('location')!, base);
    if (`${location.origin}${location.pathname}` !== CALLBACK) return null;
    return location.searchParams.get('code');
  }

  /**
   * Signs in as a person would: the console's authorize request sends the browser to the login page, the
   * form is posted, and the browser comes back to the same authorize request, which answers with a code.
   */
  async function signInThroughForm(
    browser: TestBrowser,
    username: string,
    password: string,
    base: string = uaa.url,
  ): Promise<string> {
    const path = authorizePath();
    const toLogin = await browser.request(`${base}${path}`);
    expect(toLogin.status).toBe(302);
    const loginUrl = new URL(toLogin.headers.get('location')!, base);
    expect(loginUrl.pathname).toBe('/login');
    const page = await browser.request(loginUrl);
    const html = await page.text();
    expect(hiddenInput(html, 'form_redirect_uri')).toBe(path);
    const posted = await browser.request(`${base}/login.do`, {
      method: 'POST',
      body: new URLSearchParams({
        'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
        form_redirect_uri: hiddenInput(html, 'form_redirect_uri')!,
        username,
        password,
      }),
    });
    expect(posted.status).toBe(302);
    expect(posted.headers.get('location')).toBe(path);
    const code = codeOf(await browser.request(`${base}${path}`), base);
    expect(code).toMatch(/\S+/);
    return code!;
  }

  /** A silent authorize with the session alone (what the console does when its own session lapses). */
  async function silentCode(browser: TestBrowser, base: string = uaa.url): Promise<string | null> {
    return codeOf(await browser.request(`${base}${authorizePath()}`), base);
  }

  async function codesOf(userId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM uaa.authorization_codes WHERE user_id = $1`,
      [userId],
    );
    return rows[0]!.n;
  }

  async function sessionsOf(userId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM uaa.sessions WHERE user_id = $1`,
      [userId],
    );
    return rows[0]!.n;
  }

  /**
   * After a trigger: the old session gets the login page for the same authorize request (so signing in
   * again continues it), the browser is told to forget the cookie, and no code is minted.
   */
  async function expectSignedOut(browser: TestBrowser, userId: string, base: string = uaa.url) {
    const codesBefore = await codesOf(userId);
    const path = authorizePath();
    const response = await browser.request(`${base}${path}`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!, base);
    expect(location.origin).toBe(base);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('redirect')).toBe(path);
    expect(response.headers.getSetCookie().some((c) => /^uaa_session=;.*Max-Age=0/.test(c))).toBe(true);
    expect(browser.cookies.has('uaa_session')).toBe(false);
    expect(await codesOf(userId)).toBe(codesBefore);
    expect(await sessionsOf(userId)).toBe(0);
    const page = await browser.request(location);
    expect(page.status).toBe(200);
    expect(hiddenInput(await page.text(), 'form_redirect_uri')).toBe(path);
  }

  async function adminCall(method: string, path: string, body?: unknown, server: TestUaa = uaa) {
    const response = await server.fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await server.adminToken()}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBe(200);
  }

  async function version(userId: string): Promise<number> {
    const { rows } = await db.query<{ version: number }>(`SELECT version FROM uaa.users WHERE id = $1`, [
      userId,
    ]);
    return rows[0]!.version;
  }

  it('ends the session when the user changes their own password', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    const { access_token } = await uaa.tokenFor({ username: user.username, password: user.password });
    const changed = await uaa.fetch(`${uaa.url}/Users/${user.id}/password`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ oldPassword: user.password, password: 'second-password-1' }),
    });
    expect(changed.status).toBe(200);
    expect(await sessionsOf(user.id)).toBe(0);

    await expectSignedOut(browser, user.id);
  });

  it('ends the session when an administrator resets the password, and signing in again continues the request', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    await adminCall('PUT', `/Users/${user.id}/password`, { password: 'reset-by-admin-1' });
    expect(await sessionsOf(user.id)).toBe(0);

    await expectSignedOut(browser, user.id);
    // The old password is gone; the new one signs in and the authorize request goes on to a code.
    await signInThroughForm(browser, user.username, 'reset-by-admin-1');
    expect(await silentCode(browser)).toMatch(/\S+/);
  });

  it('ends the session on revoke-all for the user (a renewed token salt)', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    await adminCall('GET', `/oauth/token/revoke/user/${user.id}`);
    expect(await sessionsOf(user.id)).toBe(0);

    await expectSignedOut(browser, user.id);
  });

  it('ends the session when the user is deleted', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    const response = await uaa.fetch(`${uaa.url}/Users/${user.id}`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${await uaa.adminToken()}`,
        'if-match': String(await version(user.id)),
      },
    });
    expect(response.status).toBe(200);

    await expectSignedOut(browser, user.id);
  });

  it('ends the session when an administrator requires a new password, and signing in again yields no code', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    await adminCall('PATCH', `/Users/${user.id}/status`, { passwordChangeRequired: true });
    expect(await sessionsOf(user.id)).toBe(0);

    await expectSignedOut(browser, user.id);
    // The right password no longer signs in: the page says a new password is needed and who sets it.
    const html = await (await browser.request(`${uaa.url}/login`)).text();
    const posted = await browser.request(`${uaa.url}/login.do`, {
      method: 'POST',
      body: new URLSearchParams({
        'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
        form_redirect_uri: authorizePath(),
        username: user.username,
        password: user.password,
      }),
    });
    expect(posted.status).toBe(401);
    const page = await posted.text();
    expect(page).toContain('Your password must be changed before you can sign in');
    expect(page).toContain('Ask an administrator to set a new password');
    expect(browser.cookies.has('uaa_session')).toBe(false);
    expect(await silentCode(browser)).toBeNull();
    expect(await codesOf(user.id)).toBe(0);
    expect(await sessionsOf(user.id)).toBe(0);
  });

  it('drops a code minted before the password reset that no client has redeemed yet', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: 'pks_console',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: sha256Base64Url(verifier),
      code_challenge_method: 'S256',
    });
    const code = codeOf(await browser.request(`${uaa.url}/oauth/authorize?${query}`));
    expect(code).toMatch(/\S+/);

    await adminCall('PUT', `/Users/${user.id}/password`, { password: 'reset-by-admin-2' });

    const exchange = await uaa.fetch(`${uaa.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'pks_console',
        code: code!,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }),
    });
    expect(exchange.status).toBe(400);
    expect(((await exchange.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('checks the session against the user on every use, not only by deleting rows', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    expect(await silentCode(browser)).toMatch(/\S+/);

    // As an older replica (or one that crashed mid-way) would leave it: the salt renewed, the session row kept.
    await db.query(`UPDATE uaa.users SET token_salt = 'renewed-elsewhere' WHERE id = $1`, [user.id]);
    expect(await sessionsOf(user.id)).toBe(1);

    await expectSignedOut(browser, user.id);
  });

  it('ends the session on every replica when another replica resets the password', async () => {
    const replica = await startTestUaa({ db, dataDir: uaa.dataDir, consoleRedirectUris: [CALLBACK] });
    try {
      const user = await newUser();
      const browser = new TestBrowser(uaa.fetch);
      await signInThroughForm(browser, user.username, user.password);
      // The session is the database's, so the other replica honours it too.
      expect(await silentCode(browser, replica.url)).toMatch(/\S+/);

      await adminCall('PUT', `/Users/${user.id}/password`, { password: 'reset-on-replica' }, replica);

      await expectSignedOut(browser, user.id);
    } finally {
      await replica.stop();
    }
  });

  it('keeps the session through an unrelated profile change', async () => {
    const user = await newUser();
    const browser = new TestBrowser(uaa.fetch);
    await signInThroughForm(browser, user.username, user.password);
    const response = await uaa.fetch(`${uaa.url}/Users/${user.id}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${await uaa.adminToken()}`,
        'content-type': 'application/json',
        'if-match': String(await version(user.id)),
      },
      body: JSON.stringify({ name: { givenName: 'Renamed' } }),
    });
    expect(response.status).toBe(200);
    expect(await silentCode(browser)).toMatch(/\S+/);
  });

  describe('the refresh grant', () => {
    async function refresh(refreshToken: string) {
      const response = await uaa.fetch(`${uaa.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic('pks_cli', '') },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    }

    async function refreshTokenOf(user: { username: string; password: string }): Promise<string> {
      const tokens = await uaa.tokenFor({ username: user.username, password: user.password });
      expect((await refresh(tokens.refresh_token!)).status).toBe(200);
      return tokens.refresh_token!;
    }

    it('is refused once an administrator requires a new password', async () => {
      const user = await newUser();
      const refreshToken = await refreshTokenOf(user);

      await adminCall('PATCH', `/Users/${user.id}/status`, { passwordChangeRequired: true });

      const result = await refresh(refreshToken);
      expect(result.status).toBe(400);
      expect(result.body.error).toBe('invalid_grant');
      expect(result.body.error_description).toMatch(/^User password change is required/);
      // Lifting the requirement lets the same token refresh again: the refusal was the flag, not a revocation.
      await adminCall('PATCH', `/Users/${user.id}/status`, { passwordChangeRequired: false });
      expect((await refresh(refreshToken)).status).toBe(200);
    });

    it('is refused while the account is locked by failed sign-ins', async () => {
      const user = await newUser();
      const refreshToken = await refreshTokenOf(user);

      for (let i = 0; i < 5; i++) {
        await expect(uaa.tokenFor({ username: user.username, password: 'wrong-password' })).rejects.toThrow(
          /401/,
        );
      }

      const result = await refresh(refreshToken);
      expect(result.status).toBe(400);
      expect(result.body).toEqual({
        error: 'invalid_grant',
        error_description: 'Your account has been locked because of too many failed attempts to login.',
      });
    });

    it('is refused once the user is deleted', async () => {
      const user = await newUser();
      const refreshToken = await refreshTokenOf(user);
      const response = await uaa.fetch(`${uaa.url}/Users/${user.id}`, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${await uaa.adminToken()}`,
          'if-match': String(await version(user.id)),
        },
      });
      expect(response.status).toBe(200);

      const result = await refresh(refreshToken);
      expect(result.status).toBe(401);
      expect(result.body.error).toBe('invalid_token');
    });

    it('is refused when rev_sig no longer matches (the email, part of it, changed)', async () => {
      const user = await newUser();
      const refreshToken = await refreshTokenOf(user);
      const response = await uaa.fetch(`${uaa.url}/Users/${user.id}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${await uaa.adminToken()}`,
          'content-type': 'application/json',
          'if-match': String(await version(user.id)),
        },
        body: JSON.stringify({ emails: [{ value: `moved-${user.username}@example.com`, primary: true }] }),
      });
      expect(response.status).toBe(200);

      const result = await refresh(refreshToken);
      expect(result.status).toBe(401);
      expect(result.body).toEqual({
        error: 'invalid_token',
        error_description: 'Invalid refresh token: revocable signature mismatch',
      });
    });
  });
});
