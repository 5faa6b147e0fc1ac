import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CALLBACK_PATH, ConsoleRegistrationError, ensureConsoleRedirect } from './uaaRegistration.js';

// The console role registers its callback with the bundled UAA's pks_console client at start.

describe.each(testDatabaseBackends())('ensureConsoleRedirect on $name', (backend) => {
  let uaa: TestUaa;
  beforeAll(async () => {
    uaa = await startTestUaa({ backend, consoleRedirectUris: ['https://console.example.com/cb'] });
  }, 60_000);
  afterAll(async () => {
    await uaa?.stop();
  });

  const redirects = async () => {
    const res = await uaa.fetch(`${uaa.url}/oauth/clients/pks_console`, {
      headers: { Authorization: `Bearer ${await uaa.adminToken()}` },
    });
    return ((await res.json()) as { redirect_uri: string[] }).redirect_uri;
  };

  it('adds the console’s callback once, keeping the URIs registered before', async () => {
    const target = { uaaUrl: uaa.url, caPem: uaa.caPem, adminClientSecret: uaa.adminClientSecret };
    expect(await ensureConsoleRedirect(target, 'http://127.0.0.1:4000')).toBe('registered');
    expect(await ensureConsoleRedirect(target, 'http://127.0.0.1:4000')).toBe('present');
    expect(await redirects()).toEqual([
      'https://console.example.com/cb',
      `http://127.0.0.1:4000${CONSOLE_CALLBACK_PATH}`,
    ]);
  });

  it('says the UAA refused the admin client, with the status', async () => {
    const refused = await ensureConsoleRedirect(
      { uaaUrl: uaa.url, caPem: uaa.caPem, adminClientSecret: 'wrong' },
      'http://127.0.0.1:4001',
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConsoleRegistrationError);
    expect(refused).toMatchObject({
      status: 401,
      message: 'the UAA refused the admin client: Bad credentials',
    });
    expect(await redirects()).not.toContain(`http://127.0.0.1:4001${CONSOLE_CALLBACK_PATH}`);
  });
});
