// The console's own HTTP server: Next.js (built with `next build`) behind a small node:http server that
// pks-server's console role starts as a child process. A custom server, rather than `next start`, because
// it (1) binds first, so port 0 works and NEXTAUTH_URL names the bound port, (2) answers /healthz like
// every role, (3) sets the security headers with the UAA origin and a per-request script nonce, known
// only at run time, (4) carries the GraphQL WebSocket on to the API, adding the session's access token
// (graphqlSocket.ts): route handlers cannot upgrade, the page holds no token, the browser needs no trust
// in the API's certificate and CSP stays 'self', and (5) sends browsers that reach it by another host
// name to the external URL, where sign-in can complete.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nextModule from 'next';
import type { NextServerOptions } from 'next/dist/server/next.js';
import { readConsoleEnv } from './env.js';
import { answerOtherHost, externalHostCheck } from './externalHost.js';
import { createGraphQLSocketProxy } from './graphqlSocket.js';
import { securityHeaders } from './headers.js';
import { sessionAccessToken } from './sessionCookie.js';

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

  const secret = process.env.NEXTAUTH_SECRET!;
  const graphQLSocket = createGraphQLSocketProxy({
    origin: publicUrl,
    apiUrl: env.apiUrl,
    ...(env.caFile ? { ca: readFileSync(env.caFile) } : {}),
    credential: (req) =>
      sessionAccessToken(req.headers, {
        secret,
        secureCookie: secure,
        // The same refresh as next-auth's jwt callback; the server's fetch trusts NODE_EXTRA_CA_CERTS.
        refresh: { uaaUrl: env.uaaUrl, fetch: (url, init) => fetch(url, init) },
      }),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (hostCheck(req).action !== 'serve') {
      // A WebSocket client does not follow redirects; the page that opens it is on the external URL.
      socket.end('HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\n\r\n');
      return;
    }
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    graphQLSocket.handleUpgrade(req, socket, head);
  });

  const stop = () => {
    graphQLSocket.close();
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

main().catch((error: unknown) => {
  console.error('the console could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
