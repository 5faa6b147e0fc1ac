// The console's own HTTP server: Next.js (built with `next build`) behind a small node:http server that
// pks-server's console role starts as a child process. A custom server, rather than `next start`, because
// it (1) binds first, so port 0 works and NEXTAUTH_URL names the bound port, (2) answers /healthz like
// every role, (3) sets the security headers with the UAA origin and a per-request script nonce, known
// only at run time, and (4) passes the GraphQL WebSocket through to the API: route handlers cannot
// upgrade, and this way the browser needs no trust in the API's certificate and CSP stays 'self', and
// (5) sends browsers that reach it by another host name to the external URL, where sign-in can complete.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nextModule from 'next';
import type { NextServerOptions } from 'next/dist/server/next.js';
import { readConsoleEnv, type ConsoleEnv } from './env.js';
import { answerOtherHost, externalHostCheck } from './externalHost.js';
import { securityHeaders } from './headers.js';

const WS_PATH = '/api/graphql/ws';
// `next` is CommonJS whose module.exports is the factory; its typings describe the ESM namespace.
const next = nextModule as unknown as (options: NextServerOptions) => NextApp;
interface NextApp {
  prepare(): Promise<void>;
  close(): Promise<void>;
  getRequestHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

async function main(): Promise<void> {
  const env = readConsoleEnv(process.env);
  const dir = fileURLToPath(new URL('../../', import.meta.url));
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.port, env.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = env.externalHost.includes(':') ? `[${env.externalHost}]` : env.externalHost;
  const publicUrl = env.externalUrl ?? `http://${host}:${port}`;
  // next-auth reads these per request; they must name the URL browsers use (cookies, redirect URI).
  process.env.NEXTAUTH_URL = publicUrl;
  process.env.PKS_CONSOLE_URL = publicUrl;

  const app = next({ dev: false, dir, hostname: env.host, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const uaaOrigin = new URL(env.uaaUrl).origin;
  const secure = publicUrl.startsWith('https://');
  const hostCheck = externalHostCheck(publicUrl);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const decision = hostCheck(req);
    if (decision.action !== 'serve') {
      answerOtherHost(res, decision);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(
        req.method === 'HEAD' ? undefined : JSON.stringify({ role: 'console', status: 'ok', checks: {} }),
      );
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    const headers = securityHeaders({ nonce, uaaOrigin, secure });
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    // Next takes the script nonce from the request's CSP header and puts it on its own inline scripts.
    req.headers['content-security-policy'] = headers['Content-Security-Policy'];
    void handle(req, res).catch((error: unknown) => {
      console.error('console request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal server error');
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (hostCheck(req).action !== 'serve') {
      // A WebSocket client does not follow redirects; the page that opens it is on the external URL.
      socket.end('HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\n\r\n');
      return;
    }
    if (path !== WS_PATH || req.headers.origin !== new URL(publicUrl).origin) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    passWebSocket(req, socket, head, env);
  });

  const stop = () => {
    server.close();
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 3_000).unref();
    void app.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started by pks-server with an IPC channel: tell it where we are, and end when it goes away.
  process.once('disconnect', stop);
  process.send?.({ type: 'ready', url: publicUrl, port });
  if (!process.send) console.log(`console listening on ${publicUrl}`);
}

/**
 * A byte pipe from the browser's WebSocket to the API's `/graphql` over TLS: the upgrade request is
 * replayed with the API's path and host, then both sockets are joined. graphql-ws authenticates in its
 * `connection_init` payload (the access token from the session), which the API checks itself.
 */
function passWebSocket(req: IncomingMessage, socket: Socket, head: Buffer, env: ConsoleEnv): void {
  const api = new URL(env.apiUrl);
  const upstream = connect({
    host: api.hostname,
    port: Number(api.port || 443),
    servername: /^[\d.]+$|:/.test(api.hostname) ? undefined : api.hostname,
    ca: env.caFile ? readFileSync(env.caFile) : undefined,
  });
  const lines = [`GET /graphql HTTP/1.1`, `Host: ${api.host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (/^(host|cookie|origin)$/i.test(name)) continue; // the session cookie stays here
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  upstream.once('secureConnect', () => {
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', (error) => {
    console.error('GraphQL WebSocket to the API failed:', error.message);
    if (!socket.destroyed && socket.writable && upstream.bytesRead === 0)
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
    close();
  });
  socket.on('error', close);
  socket.on('close', close);
  upstream.on('close', close);
}

main().catch((error: unknown) => {
  console.error('the console could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
