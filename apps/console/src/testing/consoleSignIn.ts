import { createHash, randomBytes } from 'node:crypto';
import type { JWT } from 'next-auth/jwt';
import { hiddenInput, TestBrowser, type TestUaa } from '@openpks/uaa/testing';
import '../server/sessionTokens';

// Test helper: signs a user in at a real UAA exactly as the console does (authorization code + PKCE as
// the public client `pks_console`, through UAA's own login page) and returns what next-auth's jwt
// callback stores in the session cookie after sign-in.

/** The console's callback URL the test UAA must know (`startTestUaa({ consoleRedirectUris })`). */
export const CONSOLE_CALLBACK = 'http://localhost:3000/api/auth/callback/uaa';

const base64url = (bytes: Buffer) => bytes.toString('base64url');

export async function consoleSignIn(
  uaa: TestUaa,
  user: { username: string; password: string; scope?: string },
): Promise<JWT> {
  const verifier = base64url(randomBytes(32));
  const authorize = new URL(`${uaa.url}/oauth/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'pks_console',
    redirect_uri: CONSOLE_CALLBACK,
    scope: user.scope ?? 'openid pks.clusters.manage',
    state: base64url(randomBytes(16)),
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  const browser = new TestBrowser(uaa.fetch);
  const toLogin = await browser.request(authorize);
  const page = await browser.request(new URL(toLogin.headers.get('location')!, uaa.url));
  const html = await page.text();
  const back = await browser.request(`${uaa.url}/login.do`, {
    method: 'POST',
    body: new URLSearchParams({
      'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
      form_redirect_uri: hiddenInput(html, 'form_redirect_uri')!,
      username: user.username,
      password: user.password,
    }),
  });
  const callback = await browser.follow(new URL(back.headers.get('location')!, uaa.url), uaa.url);
  const code = new URL(callback.headers.get('location')!).searchParams.get('code');
  if (!code) throw new Error(`UAA gave no authorization code (${callback.status})`);
  const response = await uaa.fetch(`${uaa.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: 'pks_console',
      code,
      redirect_uri: CONSOLE_CALLBACK,
      code_verifier: verifier,
    }),
  });
  if (response.status !== 200)
    throw new Error(`the code exchange failed (${response.status}): ${await response.text()}`);
  const tokens = (await response.json()) as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    scope: string;
  };
  return {
    name: user.username,
    userName: user.username,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Math.floor(Date.now() / 1000) + tokens.expires_in,
    scopes: tokens.scope.split(' '),
  };
}

/** A refresh_token grant as pks_console; the HTTP status says whether UAA still honours the token. */
export async function refreshStatus(uaa: TestUaa, refreshToken: string): Promise<number> {
  const response = await uaa.fetch(`${uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'pks_console',
    }),
  });
  await response.arrayBuffer();
  return response.status;
}
