import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirectory, TlsAuthority, type ServerCredentials } from '@openpks/pki';
import { listenHttps, type HttpsListener, type HttpsListenerOptions } from './httpsListener.js';
import { createLogger } from './logger.js';

let credentials: ServerCredentials;
const logger = createLogger({ level: 'silent', pretty: false });
const open: HttpsListener[] = [];

beforeAll(async () => {
  const tls = await TlsAuthority.load(await DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-role-'))));
  credentials = await tls.serverCredentials('test');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function listen(options: Partial<HttpsListenerOptions> = {}): Promise<HttpsListener> {
  const listener = await listenHttps({
    role: 'test',
    host: '127.0.0.1',
    port: 0,
    credentials,
    logger,
    handler: (_req, res) => res.end('hello'),
    ...options,
  });
  open.push(listener);
  return listener;
}

function get(url: string, path: string, { fresh = false } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { ca: credentials.ca, ...(fresh ? { agent: false } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('listenHttps', () => {
  it('binds port 0 to a free port and reports the bound URL', async () => {
    const listener = await listen();
    expect(listener.port).toBeGreaterThan(0);
    expect(listener.url).toBe(`https://127.0.0.1:${listener.port}`);
    expect(await get(listener.url, '/anything')).toEqual({ status: 200, body: 'hello' });
  });

  it('answers /healthz with the role and its checks', async () => {
    const listener = await listen({ healthChecks: { database: async () => undefined } });
    const { status, body } = await get(listener.url, '/healthz');
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ role: 'test', status: 'ok', checks: { database: 'ok' } });
  });

  it('answers 503 naming the failing check', async () => {
    const listener = await listen({
      healthChecks: {
        database: async () => {
          throw new Error('connection refused');
        },
      },
    });
    const { status, body } = await get(listener.url, '/healthz');
    expect(status).toBe(503);
    expect(JSON.parse(body)).toMatchObject({
      status: 'failing',
      checks: { database: 'failing: connection refused' },
    });
  });

  it('turns an escaped exception into a 500 without its message', async () => {
    const listener = await listen({
      handler: () => {
        throw new Error('secret internals');
      },
    });
    const { status, body } = await get(listener.url, '/');
    expect(status).toBe(500);
    expect(body).not.toContain('secret internals');
  });

  it('says which port is taken and how to choose another', async () => {
    const first = await listen();
    await expect(listen({ port: first.port })).rejects.toThrow(
      `test cannot listen: port ${first.port} on 127.0.0.1 is already in use (set roles.test in pks.yaml or PKS_TEST_PORT)`,
    );
  });

  it('lets an in-flight request finish when it drains, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const listener = await listen({
      handler: async (_req, res) => {
        await gate;
        res.end('finished');
      },
    });
    const inFlight = get(listener.url, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = listener.close();
    release();
    expect(await inFlight).toEqual({ status: 200, body: 'finished' });
    await closed;
    await expect(get(listener.url, '/', { fresh: true })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with secrets redacted', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ level: 'info', pretty: false, destination });
    log.info({ user: 'admin', password: 'hunter2', client: { client_secret: 's3' } }, 'token issued');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      msg: 'token issued',
      user: 'admin',
      password: '[redacted]',
      client: { client_secret: '[redacted]' },
    });
    expect(lines[0]).not.toContain('hunter2');
  });
});
