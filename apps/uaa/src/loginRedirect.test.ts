import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRedirect } from './http/localRedirect.js';
import { hiddenInput, startTestUaa, TestBrowser, type TestUaa } from './testing/index.js';

const ORIGIN = 'https://uaa.example:8443';

describe('localRedirect: where a browser may go after sign-in', () => {
  const refused = [
    '//x',
    '/\\x',
    '/%09/x',
    '/\t/x',
    '/\n/x',
    '/\r/x',
    '\\/x',
    '\\\\x',
    '/x\\y',
    'https:x',
    'https:/x',
    'https://evil.example',
    'HTTPS://evil.example/',
    '/%2F/x',
    '/%2f/x',
    '/%5C/x',
    '%2F%2Fx',
    '/%0d%0a//x',
    '/%0D%0ALocation:%20https://evil.example',
    '/\r\nSet-Cookie: a=b',
    'javascript:alert(1)',
    ' //x',
    'x',
    '',
    '/%E0%A4%A',
  ];
  it.each(refused)('refuses %j', (value) => {
    expect(localRedirect(value, ORIGIN)).toBeUndefined();
  });

  it('refuses nothing at all', () => {
    expect(localRedirect(null, ORIGIN)).toBeUndefined();
    expect(localRedirect(undefined, ORIGIN)).toBeUndefined();
  });

  const authorize =
    '/oauth/authorize?client_id=pks_console&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&response_type=code&state=abc';
  it.each([
    ['/', '/'],
    [authorize, authorize],
    ['/Users?filter=userName%20eq%20%22a%22#top', '/Users?filter=userName%20eq%20%22a%22#top'],
    ['/a/../b', '/b'],
  ])('accepts %j as %j', (value, expected) => {
    expect(localRedirect(value, ORIGIN)).toBe(expected);
  });
});

describe('sign-in redirect through a real UAA', () => {
  let uaa: TestUaa;

  beforeAll(async () => {
    uaa = await startTestUaa();
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  /** Opens `/login?redirect=<raw>` as a browser would, signs in through the form, returns the Location. */
  async function signInWith(rawRedirectQuery: string, postedRedirect?: string): Promise<string> {
    const browser = new TestBrowser(uaa.fetch);
    const page = await browser.request(`${uaa.url}/login?redirect=${rawRedirectQuery}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const form = new URLSearchParams({
      'X-Uaa-Csrf': hiddenInput(html, 'X-Uaa-Csrf')!,
      username: 'admin',
      password: uaa.adminPassword,
    });
    const fromPage = postedRedirect ?? hiddenInput(html, 'form_redirect_uri');
    if (fromPage !== undefined) form.set('form_redirect_uri', fromPage);
    const response = await browser.request(`${uaa.url}/login.do`, { method: 'POST', body: form });
    expect(response.status).toBe(302);
    expect(browser.cookies.has('uaa_session')).toBe(true);
    return response.headers.get('location')!;
  }

  it('sends /login?redirect=/%09/evil.example to the landing page, not to evil.example', async () => {
    const location = await signInWith('/%09/evil.example');
    expect(location).toBe('/');
    expect(new URL(location, uaa.url).origin).toBe(uaa.url);
  });

  it('ignores a foreign target posted straight to /login.do', async () => {
    for (const target of ['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example']) {
      const location = await signInWith('/', target);
      expect(location).toBe('/');
    }
  });

  it('follows a local path such as the authorize request that sent the browser to sign in', async () => {
    const back =
      '/oauth/authorize?client_id=pks_console&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb';
    const location = await signInWith(encodeURIComponent(back));
    expect(location).toBe(back);
  });
});
