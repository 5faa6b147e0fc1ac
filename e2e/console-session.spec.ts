import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { chromium, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { postForm } from './support/pksServer.js';
import { startConsoleStack, type ConsoleStack } from './support/consoleStack.js';

// Security issue 16 item 6, end to end: the console never hands the page a UAA token. The session the
// page can read holds none, the live WebSocket carries none (the console's server adds it from the
// session cookie), a WebSocket without the cookie is refused, and signing out revokes the console's
// refresh token at UAA. One stack (every role, port 0, its own data directory) serves the file, in order.

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

/** A JWT as it would appear in text: three base64url parts, the first a JSON header (`{"`, eyJ). */
const JWT_LIKE = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/;
/** UAA's opaque refresh tokens: a 32-hex id ending in -r, then more hex. */
const REFRESH_LIKE = /[0-9a-f]{32}-r[0-9a-f]+/;

let stack: ConsoleStack;
let caPem: string;
let browser: Browser;
let context: BrowserContext;
let admin: Page;
/** Every frame the signed-in page's GraphQL WebSocket sent and received. */
const sent: string[] = [];
const received: string[] = [];

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${stack.consoleUrl}/clusters`);
  await expect(page).toHaveURL(/\/signin/);
  await page.getByRole('button', { name: 'Sign in with UAA' }).click();
  const uaa = new URL(stack.urls.uaa!).origin;
  await page.waitForURL((url) => url.origin === uaa);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${stack.consoleUrl}/clusters`);
  await expect(page.getByRole('heading', { name: 'Clusters', exact: true })).toBeVisible();
}

/**
 * What the session cookie holds, opened the way next-auth seals it (JWE, dir + A256GCM, key by HKDF from
 * the installation's console session secret): the test looks inside to know which tokens must not leak.
 */
async function sessionCookieContents(): Promise<{ accessToken: string; refreshToken: string }> {
  const chunks = (await context.cookies(stack.consoleUrl))
    .filter((c) => c.name === 'next-auth.session-token' || c.name.startsWith('next-auth.session-token.'))
    .sort((a, b) => Number(a.name.split('.').pop()) - Number(b.name.split('.').pop()));
  if (chunks.length === 0) throw new Error('no next-auth session cookie');
  const secret = readFileSync(join(stack.dataDir, 'secrets/console-session-secret'), 'utf8').trim();
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'NextAuth.js Generated Encryption Key', 32));
  const [header, , iv, ciphertext, tag] = chunks
    .map((c) => c.value)
    .join('')
    .split('.') as string[];
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
  decipher.setAAD(Buffer.from(header!, 'ascii'));
  decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext!, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as { accessToken: string; refreshToken: string };
}

/** Every key and string in a JSON value, for looking for tokens wherever they may hide. */
function keysAndStrings(value: unknown): { keys: string[]; strings: string[] } {
  const keys: string[] = [];
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, inner] of Object.entries(v)) {
        keys.push(k);
        walk(inner);
      }
  };
  walk(value);
  return { keys, strings };
}

/** A POST of JSON over HTTPS trusting only the installation CA. */
function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', ca: caPem, headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A WebSocket handshake from Node, to see the console's HTTP answer (a browser does not show it). */
function upgrade(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${stack.consoleUrl}/api/graphql/ws`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': 'graphql-transport-ws',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the GraphQL WebSocket from a page's own script and says how far it got. */
function openSocketFrom(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/api/graphql/ws`, 'graphql-transport-ws');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
        ws.onmessage = (event) => {
          resolve(`message ${JSON.parse(String(event.data)).type}`);
          ws.close(1000);
        };
        ws.onclose = (event) => resolve(`closed ${event.code}`);
      }),
  );
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  // Slow VM creation keeps the cluster "in progress" long enough to watch it finish on a loaded page.
  stack = await startConsoleStack({ simLatencyMs: { create_vm: 4_000 } });
  caPem = readFileSync(join(stack.dataDir, 'tls/ca.crt'), 'utf8');
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${stack.spkiPins.join(',')}`,
    ],
  });
  context = await browser.newContext();
  admin = await context.newPage();
  admin.on('websocket', (ws) => {
    if (!ws.url().endsWith('/api/graphql/ws')) return;
    ws.on('framesent', (frame) => sent.push(String(frame.payload)));
    ws.on('framereceived', (frame) => received.push(String(frame.payload)));
  });
  await signIn(admin, 'admin', stack.adminPassword);
});

test.afterAll(async () => {
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('the session the page can read carries no access, refresh or ID token', async () => {
  const { accessToken, refreshToken } = await sessionCookieContents();
  expect(accessToken).toMatch(JWT_LIKE);
  expect(refreshToken).toMatch(REFRESH_LIKE);

  // Exactly what the page's script gets from next-auth (useSession reads the same endpoint).
  const session = await admin.evaluate(() => fetch('/api/auth/session').then((r) => r.json()));
  expect(session).toMatchObject({
    user: { name: 'admin' },
    scopes: expect.arrayContaining(['pks.clusters.admin']),
  });
  const { keys, strings } = keysAndStrings(session);
  expect(keys.filter((k) => /token/i.test(k))).toEqual([]);
  expect(strings.filter((s) => JWT_LIKE.test(s) || REFRESH_LIKE.test(s))).toEqual([]);
  const json = JSON.stringify(session);
  expect(json).not.toContain(accessToken);
  expect(json).not.toContain(refreshToken);

  // Nor is one rendered into the page (the server passes the session to the client components).
  const html = await admin.content();
  expect(html).not.toMatch(JWT_LIKE);
  expect(html).not.toContain(refreshToken);
});

test('a live page still follows a cluster over the WebSocket, which carries no token', async () => {
  const tokens = await postForm(
    `${stack.urls.uaa}/oauth/token`,
    { grant_type: 'password', client_id: 'pks_cli', username: 'admin', password: stack.adminPassword },
    caPem,
  );
  expect(tokens.status).toBe(200);
  // Created through the API, as the pks CLI would, not through the console.
  const created = await postJson(
    `${stack.urls.api}/graphql`,
    {
      query:
        'mutation ($input: CreateClusterInput!) { createCluster(input: $input) { name lastActionState } }',
      variables: {
        input: { name: 'live', planName: 'small', externalHostname: 'live.pks.local', numNodes: 1 },
      },
    },
    { Authorization: `Bearer ${tokens.json.access_token as string}` },
  );
  expect(created).toEqual({ data: { createCluster: { name: 'live', lastActionState: 'in progress' } } });

  await admin.goto(`${stack.consoleUrl}/clusters`);
  await admin.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const row = admin.getByRole('row', { name: /live/ });
  await expect(row.locator('.badge')).toHaveText('CREATE in progress');
  // The list loaded once; only the fleet feed's subscription can move the badge on.
  await expect(row.locator('.badge')).toHaveText('CREATE succeeded', { timeout: 90_000 });
  expect(await admin.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
    true,
  );

  const types = (frames: string[]) => frames.map((f) => (JSON.parse(f) as { type: string }).type);
  expect(types(sent)).toContain('connection_init');
  expect(types(received)).toEqual(expect.arrayContaining(['connection_ack', 'next']));
  const init = sent
    .map((f) => JSON.parse(f) as { type: string; payload?: unknown })
    .find((m) => m.type === 'connection_init');
  expect(init?.payload ?? {}).toEqual({});
  const { accessToken } = await sessionCookieContents();
  for (const frame of sent) {
    expect(frame).not.toMatch(JWT_LIKE);
    expect(frame).not.toContain(accessToken);
    expect(frame.toLowerCase()).not.toContain('bearer');
  }
  expect(received.some((f) => f.includes('"clusterFeed"') && f.includes('succeeded'))).toBe(true);
});

test('a WebSocket without the session cookie, or from another origin, is refused', async () => {
  // From the console's own origin, in a browser with no session: the handshake fails.
  const stranger = await browser.newContext();
  const page = await stranger.newPage();
  await page.goto(`${stack.consoleUrl}/signin`);
  expect(await openSocketFrom(page)).toBe('closed 1006');
  await stranger.close();
  // The signed-in page, same origin, same script: the cookie is what lets it in.
  expect(await openSocketFrom(admin)).toBe('message connection_ack');

  const origin = new URL(stack.consoleUrl).origin;
  const noCookie = await upgrade({ Origin: origin });
  expect(noCookie.status).toBe(401);
  expect(JSON.parse(noCookie.body)).toMatchObject({ error: 'unauthorized' });
  const cookie = (await context.cookies(stack.consoleUrl))
    .filter((c) => c.name.startsWith('next-auth.session-token'))
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
  expect((await upgrade({ Origin: origin, Cookie: cookie })).status).toBe(101);
  const crossSite = await upgrade({ Origin: 'https://evil.example', Cookie: cookie });
  expect(crossSite.status).toBe(403);
  expect(JSON.parse(crossSite.body)).toMatchObject({ error: 'forbidden' });
});

test('signing out revokes the console’s refresh token at UAA', async () => {
  const { refreshToken } = await sessionCookieContents();
  const refresh = () =>
    postForm(
      `${stack.urls.uaa}/oauth/token`,
      { grant_type: 'refresh_token', client_id: 'pks_console', refresh_token: refreshToken },
      caPem,
    );
  expect((await refresh()).status).toBe(200);

  await admin.getByRole('button', { name: /User menu for admin/ }).click();
  await admin.getByRole('button', { name: 'Sign out' }).click();
  await expect(admin).toHaveURL(`${stack.consoleUrl}/signin`);
  expect(
    (await context.cookies(stack.consoleUrl)).filter((c) => c.name.startsWith('next-auth.session-token')),
  ).toEqual([]);

  const after = await refresh();
  expect(after.status).toBe(401);
  expect(after.json).toMatchObject({ error: 'invalid_token' });
});
