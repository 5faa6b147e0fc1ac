import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, expect, test, type Browser, type Page, type WebSocketRoute } from '@playwright/test';
import { addUser, startConsoleStack, type ConsoleStack } from './support/consoleStack.js';
import { postForm } from './support/pksServer.js';

// Issue 17, the console's part: the cluster list runs on the fleet feed. Clusters created and deleted
// elsewhere (the pks CLI itself, or the API as the CLI calls it) appear, progress and disappear without a reload; a
// manage user's page never receives another user's cluster; the page holds one subscription whatever
// the fleet size; and after its socket drops it says so, reconnects and catches up from its last cursor.
// One stack (every role, port 0, its own data directory) serves the file, in order.

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

let stack: ConsoleStack;
let caPem: string;
let browser: Browser;
let admin: Page;
let adminToken: string;
/** The pks CLI's home (creds.yml) for this file: logged in as admin in beforeAll. */
let pksHome: string;
const PKS_BIN = resolve(import.meta.dirname, '../apps/cli/bin/pks.js');

/** Runs the built `pks` CLI as a user types it; resolves with its output, rejects with it on a non-zero exit. */
async function pks(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [PKS_BIN, ...args], {
    env: { ...process.env, PKS_HOME: pksHome },
    timeout: 60_000,
  });
  return stdout;
}
/** Every frame the admin page's GraphQL WebSocket sent and received. */
const adminSent: string[] = [];

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${stack.consoleUrl}/clusters`);
  await expect(page).toHaveURL(/\/signin/);
  await page.getByRole('button', { name: 'Sign in with UAA' }).click();
  await page.waitForURL((url) => url.origin === new URL(stack.urls.uaa!).origin);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${stack.consoleUrl}/clusters`);
  await expect(page.getByRole('heading', { name: 'Clusters', exact: true })).toBeVisible();
}

async function tokenFor(username: string, password: string): Promise<string> {
  const tokens = await postForm(
    `${stack.urls.uaa}/oauth/token`,
    { grant_type: 'password', client_id: 'pks_cli', username, password },
    caPem,
  );
  expect(tokens.status).toBe(200);
  return tokens.json.access_token as string;
}

/** A GraphQL call to the API over HTTPS, as the pks CLI makes it (not through the console). */
function graphql(token: string, query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${stack.urls.api}/graphql`,
      {
        method: 'POST',
        ca: caPem,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
}

async function createCluster(token: string, name: string): Promise<void> {
  expect(
    await graphql(token, 'mutation ($input: CreateClusterInput!) { createCluster(input: $input) { name } }', {
      input: { name, planName: 'small', externalHostname: `${name}.pks.local`, numNodes: 1 },
    }),
  ).toEqual({ data: { createCluster: { name } } });
}

async function deleteCluster(token: string, name: string): Promise<void> {
  expect(
    await graphql(token, 'mutation ($name: String!) { deleteCluster(name: $name) { name } }', { name }),
  ).toEqual({ data: { deleteCluster: { name } } });
}

const subscribesOf = (frames: string[]) =>
  frames
    .map((f) => JSON.parse(f) as { type: string; payload?: { variables?: unknown } })
    .filter((m) => m.type === 'subscribe');

/** A marker in the page's window: still there means no reload happened since it was set. */
const markDocument = (page: Page) =>
  page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
const sameDocument = (page: Page) =>
  page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);

test.beforeAll(async () => {
  test.setTimeout(180_000);
  // Slow VM creation keeps a create "in progress" for a few seconds, so progress and a mid-create drop
  // can be seen.
  stack = await startConsoleStack({ simLatencyMs: { create_vm: 2_500 } });
  caPem = readFileSync(join(stack.dataDir, 'tls/ca.crt'), 'utf8');
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${stack.spkiPins.join(',')}`,
    ],
  });
  admin = await (await browser.newContext()).newPage();
  admin.on('websocket', (ws) => {
    if (ws.url().endsWith('/api/graphql/ws'))
      ws.on('framesent', (frame) => adminSent.push(String(frame.payload)));
  });
  await signIn(admin, 'admin', stack.adminPassword);
  adminToken = await tokenFor('admin', stack.adminPassword);
  pksHome = mkdtempSync(join(tmpdir(), 'pks-home-'));
  await pks(
    'login',
    '-a',
    stack.urls.api!,
    '-u',
    'admin',
    '-p',
    stack.adminPassword,
    '--ca-cert',
    join(stack.dataDir, 'tls/ca.crt'),
  );
});

test.afterAll(async () => {
  if (pksHome) rmSync(pksHome, { recursive: true, force: true });
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('a cluster created through the pks CLI appears within 2 s, shows progress, settles, and goes when deleted', async () => {
  await expect(admin.getByText('No clusters yet')).toBeVisible();
  await markDocument(admin);
  const row = admin.getByRole('row', { name: /fleet-one/ });
  const started = Date.now();
  await pks('create-cluster', 'fleet-one', '-e', 'fleet-one.pks.local', '-p', 'small', '-n', '1');
  // Within 2 s of the CLI saying the create was accepted (the CLI's own start-up is not the feed's time).
  await expect(row).toBeVisible({ timeout: 2_000 });
  const appearedMs = Date.now() - started;
  test
    .info()
    .annotations.push({ type: 'pks create-cluster started → row visible', description: `${appearedMs} ms` });
  await expect(row.getByTestId('cluster-progress')).toHaveText(/\d+%/, { timeout: 30_000 });
  await expect(row.locator('.badge')).toHaveText('CREATE succeeded', { timeout: 90_000 });
  await expect(row.getByTestId('cluster-progress')).toHaveCount(0);

  await pks('delete-cluster', 'fleet-one', '--non-interactive');
  await expect(row.locator('.badge')).toHaveText('DELETE in progress', { timeout: 10_000 });
  await expect(row).toHaveCount(0, { timeout: 90_000 });
  await expect(admin.getByText('No clusters yet')).toBeVisible();
  expect(await sameDocument(admin)).toBe(true);
});

test('a manage user’s open list shows their own clusters live and never receives another user’s', async () => {
  await addUser(stack, { name: 'alice', password: 'alice-pass-1', scope: 'pks.clusters.manage' });
  const context = await browser.newContext();
  const alice = await context.newPage();
  const received: string[] = [];
  alice.on('websocket', (ws) => {
    if (ws.url().endsWith('/api/graphql/ws'))
      ws.on('framereceived', (frame) => received.push(String(frame.payload)));
  });
  await signIn(alice, 'alice', 'alice-pass-1');
  await expect(alice.getByText('No clusters yet')).toBeVisible();
  const aliceToken = await tokenFor('alice', 'alice-pass-1');

  await createCluster(adminToken, 'admins-own');
  await createCluster(aliceToken, 'alices-own');
  const mine = alice.getByRole('row', { name: /alices-own/ });
  await expect(mine).toBeVisible({ timeout: 2_000 });
  // Both run to the end; the admin's page sees both, alice's only hers.
  await expect(admin.getByRole('row', { name: /admins-own/ }).locator('.badge')).toHaveText(
    'CREATE succeeded',
    {
      timeout: 90_000,
    },
  );
  await expect(admin.getByRole('row', { name: /alices-own/ })).toBeVisible();
  await expect(mine.locator('.badge')).toHaveText('CREATE succeeded', { timeout: 90_000 });
  await expect(alice.getByRole('row', { name: /admins-own/ })).toHaveCount(0);
  expect(received.some((f) => f.includes('alices-own'))).toBe(true);
  expect(received.filter((f) => f.includes('admins-own'))).toEqual([]);
  await context.close();
});

test('the page holds one subscription, whether the fleet has two clusters or more, across pages', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sent: string[] = [];
  page.on('websocket', (ws) => {
    if (ws.url().endsWith('/api/graphql/ws')) ws.on('framesent', (frame) => sent.push(String(frame.payload)));
  });
  await signIn(page, 'admin', stack.adminPassword);
  await expect(page.getByTestId('cluster-row')).toHaveCount(2);
  const withTwo = subscribesOf(sent).length;

  for (const name of ['more-1', 'more-2', 'more-3']) await createCluster(adminToken, name);
  await expect(page.getByTestId('cluster-row')).toHaveCount(5, { timeout: 10_000 });
  await page.reload();
  await expect(page.getByTestId('cluster-row')).toHaveCount(5);
  const withFive = subscribesOf(sent).length - withTwo;
  expect([withTwo, withFive]).toEqual([1, 1]);

  // The cluster page and the upgrades board take the same feed, not one of their own.
  await page.getByRole('link', { name: 'more-1' }).click();
  await expect(page.getByRole('heading', { name: 'more-1', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Upgrades' }).click();
  await expect(page.getByRole('checkbox', { name: 'Upgrade more-2' })).toBeVisible();
  expect(subscribesOf(sent).map((m) => m.payload)).toHaveLength(2);
  expect(sent.filter((f) => f.includes('clusterEvents') || f.includes('taskEvents'))).toEqual([]);
  await context.close();
});

test('when the socket drops mid-create a banner says so, and after it is back the row is right', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The page's socket runs through this route to the console: closing it drops the page's socket and
  // the console's, and while `down` reconnects are refused, as by a lost network.
  let down = false;
  let live: { page: WebSocketRoute; server: WebSocketRoute } | undefined;
  const subscribes: { variables?: { after?: string } }[] = [];
  const received: string[] = [];
  await page.routeWebSocket(/\/api\/graphql\/ws$/, (ws) => {
    if (down) {
      ws.close({ code: 1013, reason: 'test: the network is down' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const parsed = JSON.parse(String(message)) as {
        type: string;
        payload?: { variables?: { after?: string } };
      };
      if (parsed.type === 'subscribe') subscribes.push(parsed.payload ?? {});
      server.send(message);
    });
    server.onMessage((message) => {
      received.push(String(message));
      ws.send(message);
    });
    live = { page: ws, server };
  });
  for (const name of ['more-1', 'more-2', 'more-3'])
    await expect(admin.getByRole('row', { name: new RegExp(name) }).locator('.badge')).toHaveText(
      'CREATE succeeded',
      { timeout: 90_000 },
    );
  await signIn(page, 'admin', stack.adminPassword);
  await expect(page.getByTestId('cluster-row')).toHaveCount(5);
  await markDocument(page);
  const banner = page.getByRole('status').filter({ hasText: 'Live updates paused' });
  await expect(banner).toHaveCount(0);

  await createCluster(adminToken, 'resumed');
  const row = page.getByRole('row', { name: /resumed/ });
  await expect(row.locator('.badge')).toHaveText('CREATE in progress', { timeout: 2_000 });
  const lastCursor = () => {
    const cursors = received
      .map(
        (f) => JSON.parse(f) as { type: string; payload?: { data?: { clusterFeed?: { cursor: string } } } },
      )
      .map((m) => m.payload?.data?.clusterFeed?.cursor)
      .filter((c): c is string => typeof c === 'string');
    return cursors.at(-1);
  };

  down = true;
  const cursorAtDrop = lastCursor();
  live!.server.close();
  live!.page.close({ code: 1001, reason: 'test: connection lost' });
  await expect(banner).toBeVisible();
  await expect(banner).toHaveText(/reconnecting/);

  // While the page is away, the create finishes and another cluster is deleted.
  await deleteCluster(adminToken, 'more-3');
  await expect(admin.getByRole('row', { name: /resumed/ }).locator('.badge')).toHaveText('CREATE succeeded', {
    timeout: 90_000,
  });
  await expect(admin.getByRole('row', { name: /more-3/ })).toHaveCount(0, { timeout: 90_000 });
  await expect(row.locator('.badge')).toHaveText('CREATE in progress');
  await expect(banner).toBeVisible();

  down = false;
  await expect(banner).toHaveCount(0, { timeout: 15_000 });
  await expect(row.locator('.badge')).toHaveText('CREATE succeeded', { timeout: 5_000 });
  await expect(page.getByRole('row', { name: /more-3/ })).toHaveCount(0);
  await expect(page.getByTestId('cluster-row')).toHaveCount(5);
  expect(await sameDocument(page)).toBe(true);
  // It resumed from where it was: the first subscription without a cursor, the next after the last one.
  expect(subscribes.map((s) => s.variables?.after)).toEqual([undefined, cursorAtDrop]);
  expect(received.some((f) => f.includes('"RESYNC"'))).toBe(false);
  await context.close();
});

// FIXME (not yet green, see the branch report): the API's depth limit (8) refuses GraphiQL's
// introspection query ("the query is 15 levels deep"), so the docs pane stays empty and the run button
// sometimes shows that error instead of the result; and the clusterFeed subscription GraphiQL sends was
// answered INTERNAL in 3 of 4 runs (the console's own feed, same socket, is not). Both are API-side.
test('the GraphQL explorer runs a query and a subscription on the console’s session, all bundled', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, 'admin', stack.adminPassword);
  const blocked: string[] = [];
  const elsewhere: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(stack.consoleUrl) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      elsewhere.push(r.url());
  });
  await page.getByRole('link', { name: 'GraphQL explorer' }).click();
  await expect(page).toHaveURL(`${stack.consoleUrl}/explorer`);
  const run = page.getByRole('button', { name: /Execute query/ });
  await expect(run).toBeVisible({ timeout: 30_000 });
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
  const response = page.locator('.graphiql-response');
  // Monaco renders spaces as U+00A0; compare the editor's text with them folded.
  const editorText = async () =>
    (await editor.locator('.view-lines').innerText()).replace(/\s+/g, ' ').trim();
  // With the default text still there (two operations), Run opens the operation picker instead of running:
  // type until the editor holds exactly the one operation.
  const setQuery = async (text: string) => {
    await expect(async () => {
      await editor.locator('.view-lines').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(text);
      expect(await editorText()).toBe(text);
    }).toPass({ timeout: 15_000 });
    // GraphiQL re-reads the operations a moment after typing; until then Run is still the picker's trigger
    // (it opens on pointer-down and is replaced under the pointer, so the click runs nothing).
    await expect(run).not.toHaveAttribute('aria-haspopup', 'menu');
  };

  // The default text holds a query and a subscription: Run offers both.
  await expect(run).toHaveAttribute('aria-haspopup', 'menu');
  // Its own cluster, so that the test stands alone (-g) as well as after the others.
  await createCluster(adminToken, 'listed');
  await setQuery('{ clusters { name } }');
  await run.click();
  await expect(response).toContainText('"clusters"', { timeout: 15_000 });
  await expect(response).toContainText('"listed"');

  await setQuery('subscription { clusterFeed { type clusterName } }');
  await run.click();
  await expect(response).toContainText('"SYNCED"', { timeout: 15_000 });
  await createCluster(adminToken, 'explored');
  await expect(response).toContainText('"explored"', { timeout: 10_000 });
  await page.getByRole('button', { name: /Stop/ }).click();

  expect(blocked).toEqual([]);
  expect(elsewhere).toEqual([]);
  await context.close();
});

test('the admin page the whole file long held exactly one subscription', () => {
  expect(subscribesOf(adminSent)).toHaveLength(1);
});
