import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { addUser, startConsoleStack, type ConsoleStack } from './support/consoleStack.js';

// Quotas in the console: an admin sets one on the Quotas page (a bad value is named beside its field),
// a manage-scope user sees their usage against it on the clusters page, and their create over the limit
// shows the API's QUOTA_EXCEEDED message; the admin's edit (a limit emptied is no limit) and delete
// follow. One stack for the file.

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

let stack: ConsoleStack;
let browser: Browser;
let admin: Page;
let alice: Page;

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

test.beforeAll(async () => {
  test.setTimeout(180_000);
  stack = await startConsoleStack();
  browser = await chromium.launch({
    executablePath: process.env.PKS_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${stack.spkiPins.join(',')}`,
    ],
  });
  admin = await (await browser.newContext()).newPage();
  await addUser(stack, { name: 'alice', password: 'alice-pass-1', scope: 'pks.clusters.manage' });
});

test.afterAll(async () => {
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('an admin sets a quota on the Quotas page; a bad value is named beside its field', async () => {
  await signIn(admin, 'admin', stack.adminPassword);
  await admin.getByRole('link', { name: 'Quotas' }).click();
  await expect(admin.getByRole('heading', { name: 'Quotas', level: 1 })).toBeVisible();
  await expect(admin.getByText('No user has limits.')).toBeVisible();

  // Every limit left empty is a quota limiting nothing: the API's answer names the limit as a whole.
  await admin.getByLabel('Owner').fill('alice');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(admin.getByRole('alert').filter({ hasText: 'sets no limit' })).toContainText(
    'at least one of cluster, cpu, memory',
  );

  await admin.getByLabel('Clusters').fill('0');
  await admin.getByLabel('CPU').fill('8');
  await admin.getByLabel('Memory (GB)').fill('16');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(admin.getByLabel('Clusters')).toHaveAttribute('aria-invalid', 'true');
  await expect(admin.locator('#quota-cluster-error')).toContainText('Clusters: 0 is not allowed');
  await expect(admin.getByText('No user has limits.')).toBeVisible();

  await admin.getByLabel('Clusters').fill('1');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Quota of alice saved.' })).toBeVisible();
  const row = admin.getByRole('row', { name: /alice/ });
  await expect(row.getByRole('cell')).toHaveText(['alice', '0 / 1', '0 / 8', '0 / 16', /Edit/]);
});

test('a manage user sees their usage against it, and a create over it shows QUOTA_EXCEEDED', async () => {
  alice = await (await browser.newContext()).newPage();
  await signIn(alice, 'alice', 'alice-pass-1');
  await expect(alice.getByRole('link', { name: 'Quotas' })).toHaveCount(0);
  const usage = alice.getByLabel('Your usage');
  await expect(usage).toHaveText('Your usage: Clusters 0 / 1 · CPU 0 / 8 · Memory 0 / 16 GB');

  // The small plan: 1 master and 1 worker on medium VMs (2 CPU, 4 GB each) fill the quota's CPU.
  await alice.getByRole('link', { name: 'Create cluster' }).click();
  // The plan first: choosing one resets the worker count to its default.
  await expect(alice.getByRole('radio', { name: /small/ })).toBeChecked();
  await alice.getByLabel('Cluster name').fill('q1');
  await alice.getByLabel('External hostname').fill('q1.pks.local');
  await alice.getByLabel('Worker nodes').fill('1');
  await alice.getByRole('button', { name: 'Create cluster' }).click();
  await expect(alice).toHaveURL(`${stack.consoleUrl}/clusters/q1`);
  await alice.getByRole('link', { name: 'Clusters', exact: true }).click();
  await expect(usage).toHaveText('Your usage: Clusters 1 / 1 · CPU 4 / 8 · Memory 8 / 16 GB');

  await alice.getByRole('link', { name: 'Create cluster' }).click();
  await expect(alice.getByRole('radio', { name: /small/ })).toBeChecked();
  await alice.getByLabel('Cluster name').fill('q2');
  await alice.getByLabel('External hostname').fill('q2.pks.local');
  await alice.getByLabel('Worker nodes').fill('1');
  await alice.getByRole('button', { name: 'Create cluster' }).click();
  await expect(alice.getByRole('alert').filter({ hasText: 'clusters: 1 of 1 used' })).toHaveText(
    'clusters: 1 of 1 used, creating one more exceeds the limit',
  );
  await expect(alice).toHaveURL(/\/clusters\/new$/);
});

test('the admin edits and deletes the quota; the user then has no quota', async () => {
  await admin.reload();
  const row = admin.getByRole('row', { name: /alice/ });
  await expect(row.getByRole('cell').nth(1)).toHaveText('1 / 1');
  await admin.getByRole('button', { name: 'Edit the quota of alice' }).click();
  await expect(admin.getByRole('heading', { name: 'Edit the quota of alice' })).toBeVisible();
  await expect(admin.getByLabel('CPU')).toHaveValue('8');
  await admin.getByLabel('Clusters').fill('2');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(row.getByRole('cell').nth(1)).toHaveText('1 / 2');

  // A limit emptied is no limit on that resource; the user's line says so.
  await admin.getByLabel('Clusters').fill('');
  await admin.getByRole('button', { name: 'Save quota' }).click();
  await expect(row.getByRole('cell')).toHaveText(['alice', '1 / no limit', '4 / 8', '8 / 16', /Edit/]);
  await alice.goto(`${stack.consoleUrl}/clusters`);
  await expect(alice.getByLabel('Your usage')).toHaveText(
    'Your usage: Clusters 1 / no limit · CPU 4 / 8 · Memory 8 / 16 GB',
  );
  // Edited afresh, the quota shows the unlimited resource as an empty field.
  await admin.getByRole('button', { name: 'Cancel' }).click();
  await admin.getByRole('button', { name: 'Edit the quota of alice' }).click();
  await expect(admin.getByLabel('CPU')).toHaveValue('8');
  await expect(admin.getByLabel('Clusters')).toHaveValue('');
  await admin.getByRole('button', { name: 'Cancel' }).click();

  admin.once('dialog', (dialog) => void dialog.accept());
  await admin.getByRole('button', { name: 'Delete the quota of alice' }).click();
  await expect(admin.getByText('No user has limits.')).toBeVisible();

  await alice.goto(`${stack.consoleUrl}/clusters`);
  await expect(alice.getByLabel('Your usage')).toHaveText(
    'Your usage: Clusters 1 · CPU 4 · Memory 8 GB · no quota',
  );
});
