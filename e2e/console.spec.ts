import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { addUser, startConsoleStack, type ConsoleStack } from './support/consoleStack.js';

// The web console end to end: a person signs in on UAA's own login page, creates a cluster and watches
// it come up live, resizes it, downloads a kubeconfig and deletes it; a manage-scope user sees only
// their own clusters and is not offered admin actions. One stack (every role, port 0, its own data
// directory) serves the whole file, in order.

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

const SHOTS = process.env.PKS_UPDATE_SCREENSHOTS
  ? resolve(import.meta.dirname, '../docs/console')
  : resolve(import.meta.dirname, '../test-results/console-screenshots');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let stack: ConsoleStack;
let browser: Browser;
let admin: Page;

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${stack.consoleUrl}/clusters`);
  await expect(page).toHaveURL(/\/signin/);
  await page.getByRole('button', { name: 'Sign in with UAA' }).click();
  // UAA's own login page, on the UAA's origin.
  const uaa = new URL(stack.urls.uaa!).origin;
  await page.waitForURL((url) => url.origin === uaa);
  await expect(page).toHaveTitle(/Sign in/);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${stack.consoleUrl}/clusters`);
  await expect(page.getByRole('heading', { name: 'Clusters', exact: true })).toBeVisible();
}

/** The cluster page's last action description, for a failure message. */
async function lastActionOf(page: Page): Promise<string> {
  const row = page.locator('.details > div', { hasText: 'Last Action Description' });
  return (await row.count()) > 0 ? `cluster: ${await row.innerText()}` : 'no cluster details';
}

/** Screenshots of a page at desktop and phone width; the phone one also must not scroll sideways. */
async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways at phone width`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

test.beforeAll(async () => {
  // Every role plus Next's server: allow for a busy machine.
  test.setTimeout(180_000);
  stack = await startConsoleStack();
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    // Trust exactly this stack's certificates (the UAA login page) instead of switching checks off.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${stack.spkiPins.join(',')}`,
    ],
  });
  admin = await (await browser.newContext({ viewport: DESKTOP, acceptDownloads: true })).newPage();
});

test.afterAll(async () => {
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('signs in through the UAA login page and shows the user and their PKS scopes', async () => {
  await signIn(admin, 'admin', stack.adminPassword);
  await expect(admin.getByText('No clusters yet')).toBeVisible();
  await admin.getByRole('button', { name: /User menu for admin/ }).click();
  await expect(admin.getByRole('list', { name: 'PKS scopes' })).toContainText('pks.clusters.admin');
  await admin.keyboard.press('Escape');
  await expect(admin.getByRole('link', { name: 'Audit log' })).toBeVisible();
  const csp = (await admin.request.get(`${stack.consoleUrl}/clusters`, { maxRedirects: 0 })).headers()[
    'content-security-policy'
  ];
  expect(csp).toContain("frame-ancestors 'none'");
});

test('a bad cluster name shows the field error, the way the API words it', async () => {
  await admin.getByRole('link', { name: 'Create cluster' }).click();
  await expect(admin.getByRole('heading', { name: 'Create cluster' })).toBeVisible();
  await expect(admin.getByRole('radio', { name: /small/ })).toBeChecked();
  await shoot(admin, 'create-cluster');
  await admin.getByLabel('Cluster name').fill('Demo_1');
  await admin.getByLabel('External hostname').fill('demo.pks.local');
  await admin.getByRole('button', { name: 'Create cluster' }).click();
  const name = admin.getByLabel('Cluster name');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(name).toBeFocused();
  await expect(admin.locator('#name-error')).toContainText(
    'cluster name "Demo_1" contains uppercase letters',
  );
  await expect(admin).toHaveURL(/\/clusters\/new$/);
});

test('creates a cluster and watches its progress reach succeeded without a reload', async () => {
  await admin.getByLabel('Cluster name').fill('demo');
  await admin.getByLabel('Worker nodes').fill('1');
  await admin.getByRole('button', { name: 'Create cluster' }).click();
  await expect(admin).toHaveURL(`${stack.consoleUrl}/clusters/demo`);
  await admin.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await expect(admin.getByRole('heading', { name: 'demo', level: 1 })).toBeVisible();
  await expect(admin.getByRole('progressbar')).toBeVisible();
  const badge = admin.locator('.page-head .badge');
  await expect(badge).toBeVisible();
  await expect(badge).not.toHaveText(/in progress|queued/, { timeout: 90_000 });
  expect(await badge.innerText(), await lastActionOf(admin)).toBe('CREATE succeeded');
  await expect(admin.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(admin.locator('.event-log li').first()).toBeVisible();
  expect(await admin.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
    true,
  );
  await expect(admin.getByTestId('worker-count')).toHaveText('1');
  // The nodes are the Director's VMs, not rows derived from the count: a running worker with its IP.
  const nodes = admin.getByRole('table', { name: 'VMs of cluster demo, as the BOSH Director reports them' });
  const worker = nodes.getByRole('row', { name: /worker\/0/ });
  await expect(worker.getByRole('cell').nth(0)).toHaveText(/^\d+\.\d+\.\d+\.\d+$/);
  await expect(worker.getByRole('cell').nth(1)).toHaveText('running');
  await expect(nodes.getByRole('row', { name: /master\/0/ })).toContainText('running');
  await expect(admin.getByText('pks get-credentials demo')).toBeVisible();
  await shoot(admin, 'cluster');
});

test('a second cluster with a taken name gets the API’s error on the name field', async () => {
  await admin.goto(`${stack.consoleUrl}/clusters/new`);
  await admin.getByLabel('Cluster name').fill('demo');
  await admin.getByLabel('External hostname').fill('demo2.pks.local');
  await admin.getByRole('button', { name: 'Create cluster' }).click();
  await expect(admin.getByLabel('Cluster name')).toHaveAttribute('aria-invalid', 'true');
  await expect(admin.locator('#name-error')).toContainText('demo');
  await admin.goto(`${stack.consoleUrl}/clusters/demo`);
});

test('resizes within the plan and the worker count follows', async () => {
  await admin.getByRole('button', { name: 'Resize' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Resize demo' });
  await expect(dialog.getByLabel('Worker nodes')).toBeFocused();
  await dialog.getByLabel('Worker nodes').fill('11');
  await dialog.getByRole('button', { name: 'Resize' }).click();
  await expect(dialog.locator('#resize-workers-error')).toContainText('from 1 to 10');
  await dialog.getByLabel('Worker nodes').fill('2');
  await dialog.getByRole('button', { name: 'Resize' }).click();
  await expect(dialog).toBeHidden();
  await expect(admin.getByTestId('worker-count')).toHaveText('2', { timeout: 90_000 });
  await expect(admin.locator('.page-head .badge')).toHaveText('UPDATE succeeded', { timeout: 90_000 });
  // The new VM shows up in the nodes table, running.
  await expect(admin.getByRole('row', { name: /worker\/1/ })).toContainText('running');
  await expect(admin.getByTestId('node-row')).toHaveCount(3);
});

test('downloads a kubeconfig for the cluster', async () => {
  await admin.getByRole('button', { name: 'Download kubeconfig' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Download kubeconfig' });
  await dialog.getByLabel('Your password').fill(stack.adminPassword);
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    dialog.getByRole('button', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('kubeconfig-demo.yaml');
  const kubeconfig = readFileSync((await download.path())!, 'utf8');
  expect(kubeconfig).toContain('kind: Config');
  expect(kubeconfig).toContain('demo');
  expect(kubeconfig).toContain('id-token');
});

test('shows the plans, network profiles, quotas and audit log to an admin', async () => {
  await admin.getByRole('link', { name: 'Plans' }).click();
  await expect(admin.getByRole('heading', { name: 'large' })).toBeVisible();
  await shoot(admin, 'plans');
  await admin.getByRole('link', { name: 'Network profiles' }).click();
  await expect(admin.getByRole('heading', { name: 'Create a network profile' })).toBeVisible();
  await admin.getByLabel('Name', { exact: true }).fill('lb-small');
  await admin.getByLabel('Parameters (JSON)').fill('{ "lb_size": ');
  await admin.getByRole('button', { name: 'Create network profile' }).click();
  await expect(admin.locator('#profile-parameters-error')).toContainText('not valid JSON');
  await admin.getByLabel('Parameters (JSON)').fill('{ "lb_size": "small" }');
  await admin.getByRole('button', { name: 'Create network profile' }).click();
  await expect(admin.getByRole('link', { name: 'lb-small' })).toBeVisible();
  await shoot(admin, 'network-profiles');
  await admin.getByRole('link', { name: 'Quotas' }).click();
  await expect(admin.getByText('No user has limits.')).toBeVisible();
  // A quota on a user with no clusters yet (alice signs in later and creates none): a row with its usage.
  await admin.getByLabel('Owner').fill('alice');
  await admin.getByLabel('Clusters').fill('3');
  await admin.getByLabel('CPU').fill('16');
  await admin.getByLabel('Memory (GB)').fill('64');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(admin.getByRole('row', { name: /alice/ }).getByRole('cell')).toHaveText([
    'alice',
    '0 / 3',
    '0 / 16',
    '0 / 64',
    /Edit/,
  ]);
  await shoot(admin, 'quotas');
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await expect(admin.getByRole('cell', { name: 'createCluster' }).first()).toBeVisible();
  await shoot(admin, 'audit');
  await admin.goto(`${stack.consoleUrl}/clusters`);
  await expect(admin.getByRole('link', { name: 'demo' })).toBeVisible();
  await shoot(admin, 'clusters');
});

test('a manage-scope user does not see the admin’s cluster and is not offered admin actions', async () => {
  await addUser(stack, { name: 'alice', password: 'alice-pass-1', scope: 'pks.clusters.manage' });
  const context = await browser.newContext({ viewport: PHONE });
  const alice = await context.newPage();
  await signIn(alice, 'alice', 'alice-pass-1');
  await expect(alice.getByText('No clusters yet')).toBeVisible();
  await expect(alice.getByRole('link', { name: 'demo' })).toHaveCount(0);
  await expect(alice.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  await alice.getByRole('link', { name: 'Network profiles' }).click();
  await expect(alice.getByRole('link', { name: 'lb-small' })).toBeVisible();
  await expect(alice.getByRole('heading', { name: 'Create a network profile' })).toHaveCount(0);
  await expect(alice.getByRole('button', { name: /Delete network profile/ })).toHaveCount(0);
  await alice.goto(`${stack.consoleUrl}/clusters/demo`);
  await expect(alice.getByRole('heading', { name: 'Cluster demo does not exist' })).toBeVisible();
  await context.close();
});

test('an admin deletes a network profile once they confirm it', async () => {
  await admin.goto(`${stack.consoleUrl}/network-profiles`);
  let asked = '';
  admin.once('dialog', (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await admin.getByRole('button', { name: 'Delete network profile lb-small' }).click();
  await expect(admin.getByRole('heading', { name: 'No network profiles' })).toBeVisible();
  expect(asked).toBe('Delete network profile lb-small?');
  await expect(admin.getByRole('link', { name: 'lb-small' })).toHaveCount(0);
});

test('upgrades clusters as one run, canary first, on a live per-cluster board', async () => {
  await admin.goto(`${stack.consoleUrl}/upgrades`);
  await admin.getByRole('checkbox', { name: 'Upgrade demo' }).check();
  await admin.getByRole('checkbox', { name: 'demo is a canary' }).check();
  await admin.getByRole('button', { name: 'Start upgrade' }).click();
  await expect(admin).toHaveURL(/\/upgrades\?task=/);
  const card = admin.locator('.board li', { hasText: 'demo' });
  await expect(card).toContainText('canary');
  await expect(card.locator('.badge').last()).toHaveText('succeeded', { timeout: 90_000 });
  await expect(admin.getByTestId('task-status')).toHaveText('done', { timeout: 30_000 });
  await shoot(admin, 'upgrades');
});

test('deletes the cluster after its name is typed, and watches it go', async () => {
  await admin.goto(`${stack.consoleUrl}/clusters/demo`);
  await admin.getByRole('button', { name: 'Delete' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Delete demo' });
  const confirm = dialog.getByRole('button', { name: 'Delete cluster' });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel('Cluster name').fill('demo');
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(admin.getByText(/has been deleted|does not exist/)).toBeVisible({ timeout: 90_000 });
  await admin.goto(`${stack.consoleUrl}/clusters`);
  await expect(admin.getByText('No clusters yet')).toBeVisible();
});

test('signing out ends the UAA session too', async () => {
  await admin.getByRole('button', { name: /User menu for admin/ }).click();
  await admin.getByRole('button', { name: 'Sign out' }).click();
  await expect(admin).toHaveURL(`${stack.consoleUrl}/signin`);
  await admin.getByRole('button', { name: 'Sign in with UAA' }).click();
  // Without a UAA session, the login page asks again rather than signing straight back in.
  await expect(admin.getByLabel('Password')).toBeVisible();
});
