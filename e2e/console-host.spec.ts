import { chromium, expect, request, test, type APIRequestContext, type Browser } from '@playwright/test';
import { startConsoleStack, type ConsoleStack } from './support/consoleStack.js';

// The console on another host name of the same server: its sign-in can only complete on the configured
// external URL (next-auth's cookies and the callback UAA redirects to exactly are for that origin), so the
// console sends browsers there first. The stack's external URL is http://localhost:<port> and the console
// listens on 127.0.0.1:<port>, so http://127.0.0.1:<port> reaches the same server under another name.

test.describe.configure({ mode: 'serial' });

let stack: ConsoleStack;
let browser: Browser;
let http: APIRequestContext;
/** The same console as stack.consoleUrl, by its IP address. */
let otherUrl: string;

test.beforeAll(async () => {
  // Every role plus Next's server: allow for a busy machine.
  test.setTimeout(180_000);
  stack = await startConsoleStack();
  const external = new URL(stack.consoleUrl);
  expect(external.hostname).toBe('localhost');
  otherUrl = `http://127.0.0.1:${external.port}`;
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    // Trust exactly this stack's certificates (the UAA login page) instead of switching checks off.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${stack.spkiPins.join(',')}`,
    ],
  });
  http = await request.newContext({ maxRedirects: 0 });
});

test.afterAll(async () => {
  await http?.dispose();
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('a sign-in begun at http://127.0.0.1 completes and lands signed in on the clusters page at the external URL', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${otherUrl}/clusters`);
  await expect(page).toHaveURL(new RegExp(`^${stack.consoleUrl}/signin`));
  await page.getByRole('button', { name: 'Sign in with UAA' }).click();
  const uaa = new URL(stack.urls.uaa!).origin;
  await page.waitForURL((url) => url.origin === uaa);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(stack.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${stack.consoleUrl}/clusters`);
  await expect(page.getByRole('heading', { name: 'Clusters', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: /User menu for admin/ })).toBeVisible();
  // The session belongs to the external origin only.
  const sessionCookies = (await context.cookies()).filter((c) => c.name.includes('next-auth.session-token'));
  expect(sessionCookies.map((c) => c.domain)).toEqual(['localhost']);

  // Signed in, the IP address still leads to the external URL, where the session is.
  await page.goto(`${otherUrl}/clusters`);
  await expect(page).toHaveURL(`${stack.consoleUrl}/clusters`);
  await expect(page.getByRole('heading', { name: 'Clusters', exact: true })).toBeVisible();
  await context.close();
});

test('redirects a GET on another host to the same path and query at the external URL, never elsewhere', async () => {
  const response = await http.get(`${otherUrl}/clusters/demo?tab=nodes&x=%2F%2Fevil`);
  expect(response.status()).toBe(307);
  expect(response.headers()['location']).toBe(`${stack.consoleUrl}/clusters/demo?tab=nodes&x=%2F%2Fevil`);

  // A path that a browser could read as another origin stays a path on the console.
  const sneaky = await http.get(`${otherUrl}//evil.example/x`);
  expect(sneaky.status()).toBe(307);
  expect(sneaky.headers()['location']).toBe(`${stack.consoleUrl}/evil.example/x`);

  // The console's own name is served, not redirected.
  const own = await http.get(`${stack.consoleUrl}/signin`);
  expect(own.status()).toBe(200);
});

test('ignores X-Forwarded-Host, which only a trusted proxy could set', async () => {
  const forged = await http.get(`${otherUrl}/signin`, {
    headers: { 'X-Forwarded-Host': new URL(stack.consoleUrl).host, 'X-Forwarded-Proto': 'http' },
  });
  expect(forged.status()).toBe(307);
});

test('answers a POST on another host with 421 and the URL to use, without redirecting it', async () => {
  const response = await http.post(`${otherUrl}/api/auth/signin/uaa`, { form: { csrfToken: 'x' } });
  expect(response.status()).toBe(421);
  expect(response.headers()['location']).toBeUndefined();
  expect(await response.json()).toMatchObject({
    error: 'misdirected_request',
    error_description: expect.stringContaining(stack.consoleUrl) as unknown,
  });
});

test('answers /healthz on any host name, as load balancers probe it by address', async () => {
  const response = await http.get(`${otherUrl}/healthz`);
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ role: 'console', status: 'ok' });
});
