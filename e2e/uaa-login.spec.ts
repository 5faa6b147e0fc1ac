import { createHash, randomBytes } from 'node:crypto';
import { chromium, expect, test, type Browser } from '@playwright/test';
import { postForm, startPksServer, type RunningPksServer } from './support/pksServer.js';

// A person signs in to openpks through UAA's own login page, as the console will send them there:
// authorization code with PKCE, client pks_console.

const CALLBACK = 'http://localhost:3000/api/auth/callback/uaa';
let server: RunningPksServer;
let browser: Browser;

test.beforeAll(async () => {
  server = await startPksServer('uaa');
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    // Trust exactly this server's certificates instead of switching certificate checks off.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${server.spkiPins.join(',')}`,
    ],
  });
});

test.afterAll(async () => {
  await browser?.close();
  expect(await server?.stop()).toBe(0);
});

function authorizeUrl(state: string, verifier: string): string {
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'pks_console',
    redirect_uri: CALLBACK,
    scope: 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${server.urls.uaa}/oauth/authorize?${params}`;
}

test('signs in with the keyboard on the login page and receives tokens for the console', async () => {
  const page = await browser.newPage();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  let callback: URL | undefined;
  await page.route(`${CALLBACK}**`, async (route) => {
    callback = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'console callback reached' });
  });

  await page.goto(authorizeUrl(state, verifier));
  await expect(page).toHaveTitle(/Sign in/);
  await expect(page.getByLabel('Username')).toBeFocused();
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(server.adminPassword);
  await page.keyboard.press('Enter');
  await expect(page.getByText('console callback reached')).toBeVisible();

  expect(callback?.searchParams.get('state')).toBe(state);
  const code = callback?.searchParams.get('code');
  expect(code).toBeTruthy();

  const { status, json } = await postForm(
    `${server.urls.uaa}/oauth/token`,
    {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: CALLBACK,
      client_id: 'pks_console',
      code_verifier: verifier,
    },
    server.caPem,
  );
  expect(status).toBe(200);
  expect(json.token_type).toBe('bearer');
  const idToken = JSON.parse(
    Buffer.from(String(json.id_token).split('.')[1]!, 'base64url').toString(),
  ) as Record<string, unknown>;
  expect(idToken.user_name).toBe('admin');
  expect(idToken.aud).toContain('pks_console');
  await page.close();
});

test('shows a wrong password as an alert on the form and does not leave the login page', async () => {
  const page = await browser.newPage();
  await page.goto(authorizeUrl('s', randomBytes(32).toString('base64url')));
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('alert')).not.toBeEmpty();
  await expect(page.getByLabel('Password')).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue('admin');
  await page.close();
});

test('at phone width the form fits the screen without horizontal scrolling', async () => {
  const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(authorizeUrl('s', randomBytes(32).toString('base64url')));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.close();
});
