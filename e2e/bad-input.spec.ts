import { chromium, expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { startConsoleStack, type ConsoleStack } from './support/consoleStack.js';

// Bad input in the console's forms reads as it does everywhere else (API messages, the CLI):
// `<field>: <reason> (allowed: …)` next to the field, the field named by its label, or by its path when
// it lies inside the field (a key of the parameters JSON), one line per bad value, all in one answer.

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

let stack: ConsoleStack;
let browser: Browser;
let admin: Page;

/** The text of a field's error as the person sees it, line breaks included. */
const linesOf = async (error: Locator) => (await error.innerText()).split('\n');

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
  admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await admin.goto(`${stack.consoleUrl}/clusters`);
  await admin.getByRole('button', { name: 'Sign in with UAA' }).click();
  const uaa = new URL(stack.urls.uaa!).origin;
  await admin.waitForURL((url) => url.origin === uaa);
  await admin.getByLabel('Username').fill('admin');
  await admin.getByLabel('Password').fill(stack.adminPassword);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await expect(admin).toHaveURL(`${stack.consoleUrl}/clusters`);
});

test.afterAll(async () => {
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

test('the network profile form shows the API’s message next to the field, each bad key on its own line', async () => {
  await admin.getByRole('link', { name: 'Network profiles' }).click();
  await expect(admin.getByRole('heading', { name: 'Create a network profile' })).toBeVisible();
  const name = admin.getByLabel('Name', { exact: true });
  const parameters = admin.getByLabel('Parameters (JSON)');
  const submit = admin.getByRole('button', { name: 'Create network profile' });

  await name.fill('np-one');
  await parameters.fill('{ "lb_size": "huge" }');
  await submit.click();
  await expect(parameters).toHaveAttribute('aria-invalid', 'true');
  expect(await linesOf(admin.locator('#profile-parameters-error'))).toEqual([
    'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)',
  ]);
  await expect(admin.locator('#profile-name-error')).toHaveText('');

  await name.fill('bad name');
  await parameters.fill('{ "lb_size": "huge", "nodes_dns": ["x"] }');
  await submit.click();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(admin.locator('#profile-name-error')).toHaveText(
    'Name: "bad name" is not a valid network profile name (allowed: letters, digits, _ . -, at most 63 characters)',
  );
  expect(await linesOf(admin.locator('#profile-parameters-error'))).toEqual([
    'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)',
    'parameters.nodes_dns[0]: "x" is not an IPv4 address (allowed: an IPv4 address such as 10.0.0.2)',
  ]);
  await expect(admin.getByRole('link', { name: 'bad name' })).toHaveCount(0);
});

test('the create cluster form names every bad field by its label, in the same rule', async () => {
  await admin.goto(`${stack.consoleUrl}/clusters/new`);
  await expect(admin.getByRole('radio', { name: /small/ })).toBeChecked();
  await admin.getByLabel('Cluster name').fill('Bad_Name');
  await admin.getByLabel('External hostname').fill('300.1.1.1');
  await admin.getByLabel('Worker nodes').fill('11');
  await admin.getByRole('button', { name: 'Create cluster' }).click();
  await expect(admin.getByLabel('Cluster name')).toHaveAttribute('aria-invalid', 'true');
  await expect(admin.locator('#name-error')).toHaveText(
    'Cluster name: cluster name "Bad_Name" contains uppercase letters (allowed: 1-40 lowercase letters, ' +
      "digits and '-', starting with a letter and ending with a letter or digit)",
  );
  await expect(admin.locator('#externalHostname-error')).toHaveText(
    'External hostname: "300.1.1.1" is not a valid IPv4 address (allowed: a DNS name (labels of letters, ' +
      'digits and -, at most 253 characters) or an IPv4 address)',
  );
  await expect(admin.locator('#numNodes-error')).toHaveText(
    "Worker nodes: 11 workers is outside plan small's limits (allowed: 1 to 10)",
  );
  await expect(admin).toHaveURL(/\/clusters\/new$/);
});
