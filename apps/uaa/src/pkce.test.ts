import { randomBytes } from 'node:crypto';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64Url, sha256Hex } from './crypto.js';
import { insertAuthorizationCode } from './store/tokens.js';
import { hiddenInput, startTestUaa, TestBrowser, type TestUaa } from './testing/index.js';

const CALLBACK = 'http://localhost:3000/api/auth/callback/uaa';

describe('PKCE: S256 only', () => {
  let db: Database;
  let uaa: TestUaa;

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db, consoleRedirectUris: [CALLBACK] });
  });
  afterAll(async () => {
    await uaa?.stop();
    await db?.close();
  });

  const verifierPair = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: sha256Base64Url(verifier) };
  };

  function authorizeUrl(params: Record<string, string>): string {
    const query = new URLSearchParams({
      client_id: 'pks_console',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      state: 'st-1',
      ...params,
    });
    return `${uaa.url}/oauth/authorize?${query}`;
  }

  async function signedInBrowser(): Promise<TestBrowser> {
    const browser = new TestBrowser(uaa.fetch);
    const html = await (await browser.request(`${uaa.url}/login`)).text();
    const signIn = await browser.request(`${uaa.url}/login.do`, {
      method: 'POST',
      body: new URLSearchParams({
        'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
        username: 'admin',
        password: uaa.adminPassword,
      }),
    });
    expect(signIn.status).toBe(302);
    return browser;
  }

  async function authorizeError(browser: TestBrowser, params: Record<string, string>) {
    const response = await browser.request(authorizeUrl(params));
    expect(response.status).toBe(302);
    const callback = new URL(response.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('code')).toBeNull();
    return {
      error: callback.searchParams.get('error'),
      error_description: callback.searchParams.get('error_description'),
      state: callback.searchParams.get('state'),
    };
  }

  function redeem(code: string, verifier: string) {
    return uaa.fetch(`${uaa.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'pks_console',
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }),
    });
  }

  it('refuses code_challenge_method=plain with invalid_request naming the parameter and S256', async () => {
    const browser = await signedInBrowser();
    const { verifier } = verifierPair();
    expect(
      await authorizeError(browser, { code_challenge: verifier, code_challenge_method: 'plain' }),
    ).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method: plain is not allowed (allowed: S256)',
      state: 'st-1',
    });
  });

  it('refuses a code_challenge without a method, which RFC 7636 would read as plain', async () => {
    const browser = await signedInBrowser();
    const { challenge } = verifierPair();
    expect(await authorizeError(browser, { code_challenge: challenge })).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method must be S256 (allowed: S256)',
      state: 'st-1',
    });
  });

  it('refuses an unknown method without echoing it', async () => {
    const browser = await signedInBrowser();
    const { challenge } = verifierPair();
    const result = await authorizeError(browser, {
      code_challenge: challenge,
      code_challenge_method: 'S512<script>',
    });
    expect(result.error).toBe('invalid_request');
    expect(result.error_description).toBe(
      'code_challenge_method: this method is not allowed (allowed: S256)',
    );
  });

  it('advertises only S256 in discovery', async () => {
    const response = await uaa.fetch(`${uaa.url}/.well-known/openid-configuration`);
    const metadata = (await response.json()) as { code_challenge_methods_supported: string[] };
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('still signs in with S256, and the challenge itself is no verifier', async () => {
    const browser = await signedInBrowser();
    const { verifier, challenge } = verifierPair();
    const response = await browser.request(
      authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(response.status).toBe(302);
    const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
    expect(code).toBeTruthy();
    const withChallenge = await redeem(code, challenge);
    expect(withChallenge.status).toBe(400);

    const again = await browser.request(
      authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    const code2 = new URL(again.headers.get('location')!).searchParams.get('code')!;
    const ok = await redeem(code2, verifier);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { access_token?: string }).access_token).toBeTruthy();
  });

  it('does not honour a plain code stored before S256 became the only method', async () => {
    const { access_token } = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as {
      user_id: string;
    };
    const code = randomBytes(24).toString('base64url');
    const { verifier } = verifierPair();
    await insertAuthorizationCode(db, {
      code_hash: sha256Hex(code),
      client_id: 'pks_console',
      user_id: claims.user_id,
      redirect_uri: CALLBACK,
      scope: ['openid'],
      code_challenge: verifier,
      code_challenge_method: 'plain',
      nonce: null,
      auth_time: new Date(),
      expires_at: new Date(Date.now() + 300_000),
    });
    const response = await redeem(code, verifier);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier',
    });
  });
});
