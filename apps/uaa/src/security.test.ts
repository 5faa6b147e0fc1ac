import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, TestClock, type TestUaa } from './testing/index.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('token endpoint errors, lockout and revocation', () => {
  let uaa: TestUaa;
  const clock = new TestClock();

  beforeAll(async () => {
    uaa = await startTestUaa({ clock });
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  async function token(form: Record<string, string>, authorization?: string) {
    const response = await uaa.fetch(`${uaa.url}/oauth/token`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
      body: new URLSearchParams(form),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  async function checkToken(value: string) {
    const response = await uaa.fetch(`${uaa.url}/check_token`, {
      method: 'POST',
      headers: { authorization: basic('admin', uaa.adminClientSecret) },
      body: new URLSearchParams({ token: value }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('answers a wrong client secret with 401 invalid_client "Bad credentials"', async () => {
    const result = await token({ grant_type: 'client_credentials' }, basic('pks_director', 'wrong'));
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ error: 'invalid_client', error_description: 'Bad credentials' });
    expect(result.headers.get('www-authenticate')).toContain('realm="UAA/client"');
  });

  it('answers an unknown client the same way as a wrong secret', async () => {
    const result = await token({ grant_type: 'client_credentials' }, basic('nobody', 'secret'));
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ error: 'invalid_client', error_description: 'Bad credentials' });
    const form = await token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' });
    expect(form.status).toBe(401);
  });

  it('refuses an unsupported grant type and one the client may not use', async () => {
    const unsupported = await token(
      { grant_type: 'urn:example:magic' },
      basic('pks_director', uaa.directorClientSecret),
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'Unsupported grant type: urn:example:magic',
    });
    const unauthorized = await token(
      { grant_type: 'password', username: 'admin', password: uaa.adminPassword },
      basic('pks_director', uaa.directorClientSecret),
    );
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body).toEqual({
      error: 'invalid_client',
      error_description: 'Unauthorized grant type: password',
    });
    const missing = await token({}, basic('pks_director', uaa.directorClientSecret));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('refuses a scope the client does not allow', async () => {
    const result = await token(
      { grant_type: 'password', username: 'admin', password: uaa.adminPassword, scope: 'scim.write' },
      basic('pks_cli', ''),
    );
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('invalid_scope');
    expect(result.body.error_description).toMatch(/^Invalid scope: scim\.write\./);
  });

  it('rejects a tampered token and an expired one at check_token', async () => {
    const { access_token } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    expect((await checkToken(access_token)).body).toMatchObject({
      user_name: 'admin',
      scope: ['pks.clusters.admin'],
    });

    const [header, payload, signature] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    claims.scope = ['pks.clusters.admin', 'uaa.admin'];
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const bad = await checkToken(tampered);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: 'invalid_token',
      error_description: 'Could not verify token signature.',
    });

    clock.advance(601);
    try {
      const expired = await checkToken(access_token);
      expect(expired.status).toBe(400);
      expect(expired.body).toEqual({ error: 'invalid_token', error_description: 'Token has expired' });
      const scim = await uaa.fetch(`${uaa.url}/Users`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(scim.status).toBe(401);
      expect(((await scim.json()) as { error: string }).error).toBe('invalid_token');
    } finally {
      clock.advance(-601);
    }
  });

  it('locks an account after 5 failed logins within 300 s, says so, and unlocks after 300 s', async () => {
    await uaa.createUser('mallory', 'correct-horse-1', ['pks.clusters.manage']);
    const attempt = (password: string) =>
      token({ grant_type: 'password', username: 'mallory', password }, basic('pks_cli', ''));
    for (let i = 0; i < 4; i++) {
      const failed = await attempt('wrong-password');
      expect(failed.status).toBe(401);
      expect(failed.body).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    }
    const fifth = await attempt('wrong-password');
    expect(fifth.status).toBe(401);
    expect(fifth.body.error_description).toMatch(/locked/);
    const lockedOut = await attempt('correct-horse-1');
    expect(lockedOut.status).toBe(401);
    expect(lockedOut.body).toEqual({
      error: 'unauthorized',
      error_description: 'Your account has been locked because of too many failed attempts to login.',
    });

    clock.advance(301);
    const unlocked = await attempt('correct-horse-1');
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.scope).toBe('pks.clusters.manage');
  });

  it('lets an administrator unlock an account before the period ends', async () => {
    const id = await uaa.createUser('trudy', 'correct-horse-2', ['pks.clusters.manage']);
    for (let i = 0; i < 5; i++)
      await token({ grant_type: 'password', username: 'trudy', password: 'nope' }, basic('pks_cli', ''));
    expect(
      (
        await token(
          { grant_type: 'password', username: 'trudy', password: 'correct-horse-2' },
          basic('pks_cli', ''),
        )
      ).status,
    ).toBe(401);
    const unlock = await uaa.fetch(`${uaa.url}/Users/${id}/status`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${await uaa.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ locked: false }),
    });
    expect(unlock.status).toBe(200);
    expect(
      (
        await token(
          { grant_type: 'password', username: 'trudy', password: 'correct-horse-2' },
          basic('pks_cli', ''),
        )
      ).status,
    ).toBe(200);
  });

  it('refuses tokens to a user who must change the password until it is changed', async () => {
    const id = await uaa.createUser('peggy', 'first-password-1', ['pks.clusters.manage']);
    const admin = { authorization: `Bearer ${await uaa.adminToken()}`, 'content-type': 'application/json' };
    const flag = await uaa.fetch(`${uaa.url}/Users/${id}/status`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ passwordChangeRequired: true }),
    });
    expect(flag.status).toBe(200);
    const refused = await token(
      { grant_type: 'password', username: 'peggy', password: 'first-password-1' },
      basic('pks_cli', ''),
    );
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      error: 'unauthorized',
      error_description: 'User password change is required',
    });
    const reset = await uaa.fetch(`${uaa.url}/Users/${id}/password`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ password: 'second-password-2' }),
    });
    expect(reset.status).toBe(200);
    expect(
      (
        await token(
          { grant_type: 'password', username: 'peggy', password: 'second-password-2' },
          basic('pks_cli', ''),
        )
      ).status,
    ).toBe(200);
  });

  it('revokes an access token by jti', async () => {
    const { access_token, jti } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    const revoke = await uaa.fetch(`${uaa.url}/oauth/token/revoke/${jti}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    expect(revoke.status).toBe(200);
    const check = await checkToken(access_token);
    expect(check.status).toBe(400);
    expect(check.body).toEqual({ error: 'invalid_token', error_description: 'Token has been revoked' });
    const introspect = await uaa.fetch(`${uaa.url}/introspect`, {
      method: 'POST',
      headers: { authorization: basic('admin', uaa.adminClientSecret) },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(await introspect.json()).toEqual({ active: false });
  });

  it('ends refresh tokens when the password changes (rev_sig) and when all tokens of a user are revoked', async () => {
    const id = await uaa.createUser('victor', 'first-password', ['pks.clusters.manage']);
    const first = await uaa.tokenFor({ username: 'victor', password: 'first-password' });
    const refresh = (value: string) =>
      token({ grant_type: 'refresh_token', refresh_token: value }, basic('pks_cli', ''));
    expect((await refresh(first.refresh_token!)).status).toBe(200);

    const change = await uaa.fetch(`${uaa.url}/Users/${id}/password`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${first.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ oldPassword: 'first-password', password: 'second-password' }),
    });
    expect(change.status).toBe(200);
    const stale = await refresh(first.refresh_token!);
    expect(stale.status).toBe(401);
    expect(stale.body.error).toBe('invalid_token');
    expect((await checkToken(first.access_token)).status).toBe(400);

    const second = await uaa.tokenFor({ username: 'victor', password: 'second-password' });
    const revokeAll = await uaa.fetch(`${uaa.url}/oauth/token/revoke/user/${id}`, {
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    expect(revokeAll.status).toBe(200);
    expect((await refresh(second.refresh_token!)).status).toBe(401);
    expect((await checkToken(second.access_token)).status).toBe(400);
  });

  it("lists a user's refresh tokens and revokes one by its id", async () => {
    const id = await uaa.createUser('wendy', 'wendy-password', ['pks.clusters.manage']);
    const issued = await uaa.tokenFor({ username: 'wendy', password: 'wendy-password' });
    const list = await uaa.fetch(`${uaa.url}/oauth/token/list/user/${id}`, {
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    const tokens = (await list.json()) as { tokenId: string; clientId: string; responseType: string }[];
    expect(tokens).toEqual([expect.objectContaining({ clientId: 'pks_cli', responseType: 'REFRESH_TOKEN' })]);
    expect(issued.refresh_token).not.toBe(tokens[0]!.tokenId);
    // The user may revoke its own refresh token with its own access token.
    const revoke = await uaa.fetch(`${uaa.url}/oauth/token/revoke/${tokens[0]!.tokenId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${issued.access_token}` },
    });
    expect(revoke.status).toBe(200);
    const refreshed = await token(
      { grant_type: 'refresh_token', refresh_token: issued.refresh_token! },
      basic('pks_cli', ''),
    );
    expect(refreshed.status).toBe(401);
    const stranger = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    const forbidden = await uaa.fetch(`${uaa.url}/oauth/token/list/user/${id}`, {
      headers: { authorization: `Bearer ${stranger.access_token}` },
    });
    expect(forbidden.status).toBe(403);
  });

  it('refuses a refresh token after it expires', async () => {
    const { refresh_token } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    clock.advance(21601);
    try {
      const result = await token(
        { grant_type: 'refresh_token', refresh_token: refresh_token! },
        basic('pks_cli', ''),
      );
      expect(result.status).toBe(401);
      expect(result.body).toEqual({
        error: 'invalid_token',
        error_description: 'Invalid refresh token (expired)',
      });
    } finally {
      clock.advance(-21601);
    }
  });

  it('rejects a weak password under the password policy', async () => {
    const response = await uaa.fetch(`${uaa.url}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await uaa.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'weak', password: 'short', emails: [{ value: 'weak@example.com' }] }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: 'invalid_password' });
    const list = await uaa.fetch(`${uaa.url}/Users?filter=${encodeURIComponent('userName eq "weak"')}`, {
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    expect(((await list.json()) as { totalResults: number }).totalResults).toBe(0);
  });

  it('keeps a rotated signing key published, so tokens it signed still verify', async () => {
    const before = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    const kid = await uaa.rotateSigningKey();
    const keys = (await (await uaa.fetch(`${uaa.url}/token_keys`)).json()) as {
      keys: { kid: string; value: string; n: string }[];
    };
    expect(keys.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kid]));
    expect(keys.keys.length).toBe(2);
    expect(keys.keys[0]!.value).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect((await checkToken(before.access_token)).status).toBe(200);
    const after = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    expect(JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    const single = (await (await uaa.fetch(`${uaa.url}/token_key`)).json()) as { kid: string };
    expect(single.kid).toBe(kid);
  });
});
