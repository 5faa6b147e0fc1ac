import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOtherHost, externalHostCheck, type HostDecision } from './externalHost.js';

const atLocalhost = externalHostCheck('http://localhost:3000');
const get = (host: string | undefined, url = '/clusters', method = 'GET') =>
  atLocalhost({ method, url, headers: host === undefined ? {} : { host } });

describe('externalHostCheck: which host names are the console’s', () => {
  it('serves the external URL’s host and port, in any letter case', () => {
    expect(get('localhost:3000')).toEqual({ action: 'serve' });
    expect(get('LocalHost:3000')).toEqual({ action: 'serve' });
  });

  it('sends another name, address or port of the same server to the external URL', () => {
    for (const host of [
      '127.0.0.1:3000',
      'pks-vm.internal:3000',
      'localhost:3001',
      'localhost',
      '[::1]:3000',
    ])
      expect(get(host), host).toEqual({ action: 'redirect', location: 'http://localhost:3000/clusters' });
  });

  it('takes a trailing dot for another name (browsers keep separate cookies for it)', () => {
    expect(get('localhost.:3000')).toMatchObject({ action: 'redirect' });
  });

  it('sends a request with no Host, or a malformed one, to the external URL, never to what it named', () => {
    for (const host of [
      undefined,
      '',
      'evil.example@localhost:3000',
      'localhost:3000@evil.example',
      'localhost:3000/evil',
      'localhost:3000 ',
      'localhost:99999',
      '[::1',
    ])
      expect(get(host), String(host)).toEqual({
        action: 'redirect',
        location: 'http://localhost:3000/clusters',
      });
  });

  it('ignores X-Forwarded-Host and X-Forwarded-Proto: no trusted proxy is configured', () => {
    const headers: IncomingHttpHeaders = {
      host: '127.0.0.1:3000',
      'x-forwarded-host': 'localhost:3000',
      'x-forwarded-proto': 'http',
    };
    expect(atLocalhost({ method: 'GET', url: '/', headers })).toMatchObject({ action: 'redirect' });
  });

  it('compares an https external URL by host with its default port written or not, whatever the scheme', () => {
    // Behind a TLS proxy the console sees plain HTTP with the browser's Host.
    const check = externalHostCheck('https://pks.example.com');
    const at = (host: string) => check({ method: 'GET', url: '/plans', headers: { host } });
    expect(at('pks.example.com')).toEqual({ action: 'serve' });
    expect(at('pks.example.com:443')).toEqual({ action: 'serve' });
    expect(at('pks.example.com:80')).toEqual({
      action: 'redirect',
      location: 'https://pks.example.com/plans',
    });
    expect(at('10.0.0.5:3000')).toEqual({ action: 'redirect', location: 'https://pks.example.com/plans' });
  });

  it('matches an IPv6 literal external URL in any spelling of the same address', () => {
    const check = externalHostCheck('http://[::1]:3000');
    const at = (host: string) => check({ method: 'GET', url: '/', headers: { host } });
    expect(at('[::1]:3000')).toEqual({ action: 'serve' });
    expect(at('[0:0:0:0:0:0:0:1]:3000')).toEqual({ action: 'serve' });
    expect(at('[::2]:3000')).toEqual({ action: 'redirect', location: 'http://[::1]:3000/' });
    expect(at('127.0.0.1:3000')).toEqual({ action: 'redirect', location: 'http://[::1]:3000/' });
    expect(at('::1:3000')).toMatchObject({ action: 'redirect' });
  });

  it('takes the authority of an absolute-form request target over Host, as HTTP requires', () => {
    expect(
      atLocalhost({
        method: 'GET',
        url: 'http://127.0.0.1:3000/clusters?a=1',
        headers: { host: 'localhost:3000' },
      }),
    ).toEqual({ action: 'redirect', location: 'http://localhost:3000/clusters?a=1' });
    expect(
      atLocalhost({
        method: 'GET',
        url: 'http://localhost:3000/clusters',
        headers: { host: '127.0.0.1:3000' },
      }),
    ).toEqual({ action: 'serve' });
  });
});

describe('externalHostCheck: where a redirect goes', () => {
  const locationOf = (url: string): string => {
    const decision = get('127.0.0.1:3000', url);
    if (decision.action !== 'redirect') throw new Error(`not redirected: ${JSON.stringify(decision)}`);
    return decision.location;
  };

  it('keeps the path and query', () => {
    expect(locationOf('/clusters/demo?tab=nodes&sort=name')).toBe(
      'http://localhost:3000/clusters/demo?tab=nodes&sort=name',
    );
    expect(locationOf('/api/auth/signin?callbackUrl=%2Fclusters')).toBe(
      'http://localhost:3000/api/auth/signin?callbackUrl=%2Fclusters',
    );
  });

  it('never leaves the external origin, however the path is spelled', () => {
    const cases: [string, string][] = [
      ['//evil.example/x', '/evil.example/x'],
      ['///evil.example', '/evil.example'],
      ['/\\evil.example', '/evil.example'],
      ['\\\\evil.example', '/evil.example'],
      ['/\t/evil.example', '/evil.example'],
      ['/\n/evil.example?q=1', '/evil.example?q=1'],
      ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
      ['/@evil.example', '/@evil.example'],
      ['/clusters?next=//evil.example', '/clusters?next=//evil.example'],
      ['*', '/'],
      ['', '/'],
    ];
    for (const [url, path] of cases) {
      const location = locationOf(url);
      expect(location, JSON.stringify(url)).toBe(`http://localhost:3000${path}`);
      expect(new URL(location).origin).toBe('http://localhost:3000');
    }
  });

  it('goes to the external origin even when the external URL has a path', () => {
    const check = externalHostCheck('https://pks.example.com/ignored/');
    expect(check({ method: 'GET', url: '//evil.example', headers: { host: 'x' } })).toEqual({
      action: 'redirect',
      location: 'https://pks.example.com/evil.example',
    });
  });
});

describe('externalHostCheck: methods and health checks', () => {
  it('redirects GET and HEAD only; other methods on another host are refused, not re-sent elsewhere', () => {
    expect(get('127.0.0.1:3000', '/clusters', 'HEAD')).toMatchObject({ action: 'redirect' });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
      expect(get('127.0.0.1:3000', '/clusters/new', method), method).toEqual({
        action: 'refuse',
        externalOrigin: 'http://localhost:3000',
        api: false,
      });
    expect(get('127.0.0.1:3000', '/api/auth/signin/uaa', 'POST')).toMatchObject({
      action: 'refuse',
      api: true,
    });
    expect(atLocalhost({ url: '/', headers: { host: '127.0.0.1:3000' } })).toMatchObject({
      action: 'refuse',
    });
  });

  it('serves any method on the console’s own host', () => {
    expect(get('localhost:3000', '/api/auth/signin/uaa', 'POST')).toEqual({ action: 'serve' });
  });

  it('answers /healthz on every host name, as load balancers probe by address', () => {
    for (const host of ['10.0.0.5:3000', '127.0.0.1', undefined, 'garbage host'])
      expect(get(host, '/healthz'), String(host)).toEqual({ action: 'serve' });
    expect(get('10.0.0.5:3000', '/healthz?probe=lb', 'HEAD')).toEqual({ action: 'serve' });
    expect(get('10.0.0.5:3000', '/healthz/x')).toMatchObject({ action: 'redirect' });
    expect(get('10.0.0.5:3000', '//healthz')).toMatchObject({ action: 'redirect' });
  });
});

describe('answerOtherHost on a real server', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const check = externalHostCheck('http://localhost:3000');
    server = createServer((req, res) => {
      const decision: HostDecision = check(req);
      if (decision.action === 'serve') res.end('served');
      else answerOtherHost(res, decision);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (method: string, path: string, host: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(method === 'POST' ? 'a=1' : undefined);
    });

  it('answers a GET on another host with an uncached 307 to the external URL', async () => {
    const res = await send('GET', '/clusters?x=1', `127.0.0.1:${port}`);
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('http://localhost:3000/clusters?x=1');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('keeps a request target of `//other-host` on the external origin', async () => {
    const res = await send('GET', '//evil.example/x?y=1', `127.0.0.1:${port}`);
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('http://localhost:3000/evil.example/x?y=1');
  });

  it('answers a POST to /api/* on another host with a 421 JSON error naming the external URL', async () => {
    const res = await send('POST', '/api/graphql', `127.0.0.1:${port}`);
    expect(res.status).toBe(421);
    expect(res.headers.location).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({
      error: 'misdirected_request',
      error_description: expect.stringContaining('http://localhost:3000') as unknown,
    });
  });

  it('answers a POST to a page on another host with a 421 in plain text', async () => {
    const res = await send('POST', '/clusters/new', `127.0.0.1:${port}`);
    expect(res.status).toBe(421);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('the console answers at http://localhost:3000');
  });

  it('passes requests on the external host through', async () => {
    const res = await send('POST', '/clusters/new', 'localhost:3000');
    expect(res).toMatchObject({ status: 200, body: 'served' });
  });
});
