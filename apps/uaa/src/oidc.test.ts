import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiddenInput, startTestUaa, TestBrowser, type TestUaa } from './testing/index.js';

const CALLBACK = 'http://localhost:3000/api/auth/callback/uaa';

describe('OpenID Connect with openid-client as the relying party', () => {
  let uaa: TestUaa;
  let config: oidc.Configuration;

  beforeAll(async () => {
    uaa = await startTestUaa({ consoleRedirectUris: [CALLBACK] });
    config = await oidc.discovery(new URL(uaa.issuer), 'pks_console', undefined, oidc.None(), {
      [oidc.customFetch]: uaa.fetch as never,
    });
    config[oidc.customFetch] = uaa.fetch as never;
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  const verifyWithJwks = (token: string) =>
    jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${uaa.url}/token_keys`), { [customFetch]: uaa.fetch as never }),
      {
        issuer: uaa.issuer,
        algorithms: ['RS256'],
      },
    );

  /** Drives the browser part: authorize → login page → sign in → back to authorize → callback URL. */
  async function signIn(browser: TestBrowser, authorizeUrl: URL, password = uaa.adminPassword): Promise<URL> {
    const toLogin = await browser.request(authorizeUrl);
    expect(toLogin.status).toBe(302);
    const loginUrl = new URL(toLogin.headers.get('location')!, uaa.url);
    expect(loginUrl.pathname).toBe('/login');
    const page = await browser.request(loginUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).not.toMatch(/<script|https?:\/\/(?!localhost)/);
    const form = new URLSearchParams({
      'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
      form_redirect_uri: hiddenInput(html, 'form_redirect_uri')!,
      username: 'admin',
      password,
    });
    const back = await browser.request(`${uaa.url}/login.do`, { method: 'POST', body: form });
    expect(back.status).toBe(302);
    const callback = await browser.follow(new URL(back.headers.get('location')!, uaa.url), uaa.url);
    expect(callback.status).toBe(302);
    return new URL(callback.headers.get('location')!);
  }

  it('discovers the UAA at the issuer and at the root', async () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(uaa.issuer);
    expect(metadata.token_endpoint).toBe(`${uaa.url}/oauth/token`);
    expect(metadata.jwks_uri).toBe(`${uaa.url}/token_keys`);
    expect(metadata.code_challenge_methods_supported).toContain('S256');
    const root = await uaa.fetch(`${uaa.url}/.well-known/openid-configuration`);
    expect(((await root.json()) as { issuer: string }).issuer).toBe(uaa.issuer);
  });

  it('signs in with authorization code and PKCE, validates the ID token, refreshes and reads userinfo', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizeUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid pks.clusters.admin',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const callback = await signIn(new TestBrowser(uaa.fetch), authorizeUrl);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    expect(idClaims).toMatchObject({ iss: uaa.issuer, aud: ['pks_console'], user_name: 'admin', nonce });
    expect(tokens.scope).toBe('openid pks.clusters.admin');
    const access = await verifyWithJwks(tokens.access_token);
    expect(access.payload).toMatchObject({
      grant_type: 'authorization_code',
      scope: ['openid', 'pks.clusters.admin'],
    });
    await verifyWithJwks(tokens.id_token!);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()!.sub).toBe(idClaims.sub);
    await verifyWithJwks(refreshed.access_token);

    const info = await oidc.fetchUserInfo(config, refreshed.access_token, idClaims.sub);
    expect(info).toMatchObject({ sub: idClaims.sub, user_name: 'admin', user_id: idClaims.sub });
  });

  it('refuses a code redeemed with the wrong PKCE verifier, and the code is gone afterwards', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorizeUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await signIn(new TestBrowser(uaa.fetch), authorizeUrl);
    const redeem = (codeVerifier: string) =>
      uaa.fetch(`${uaa.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: 'pks_console',
          code: callback.searchParams.get('code')!,
          redirect_uri: CALLBACK,
          code_verifier: codeVerifier,
        }),
      });
    const wrong = await redeem(oidc.randomPKCECodeVerifier());
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier',
    });
    const again = await redeem(verifier);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('keeps the browser session, so a second authorization needs no password', async () => {
    const browser = new TestBrowser(uaa.fetch);
    const verifier = oidc.randomPKCECodeVerifier();
    const params = {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    };
    await signIn(browser, oidc.buildAuthorizationUrl(config, params));
    const direct = await browser.request(oidc.buildAuthorizationUrl(config, params));
    expect(direct.status).toBe(302);
    expect(direct.headers.get('location')).toMatch(
      /^http:\/\/localhost:3000\/api\/auth\/callback\/uaa\?code=/,
    );

    const logout = await browser.request(`${uaa.url}/logout.do`);
    expect(logout.status).toBe(302);
    const afterLogout = await browser.request(oidc.buildAuthorizationUrl(config, params));
    expect(new URL(afterLogout.headers.get('location')!, uaa.url).pathname).toBe('/login');
  });

  it('tells a locked-out user on the login page', async () => {
    await uaa.createUser('olga', 'olga-password', []);
    const browser = new TestBrowser(uaa.fetch);
    let html = await (await browser.request(`${uaa.url}/login`)).text();
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await browser.request(`${uaa.url}/login.do`, {
        method: 'POST',
        body: new URLSearchParams({
          'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
          username: 'olga',
          password: 'wrong',
        }),
      });
      html = await last.text();
      if (i < 4) expect(html).toContain('Unable to verify email or password. Please try again.');
    }
    expect(last!.status).toBe(401);
    expect(html).toContain('role="alert"');
    expect(html).toContain('Your account has been locked because of too many failed attempts to login.');
  });

  it('rejects a login form without the CSRF token', async () => {
    const browser = new TestBrowser(uaa.fetch);
    await browser.request(`${uaa.url}/login`);
    const response = await browser.request(`${uaa.url}/login.do`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'admin', password: uaa.adminPassword }),
    });
    expect(response.status).toBe(403);
    expect(browser.cookies.has('uaa_session')).toBe(false);
  });

  it('shows an error page, never a redirect, for an unregistered redirect URI', async () => {
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'https://evil.example/cb',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await uaa.fetch(url);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });
});
