import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerCredentials } from '@openpks/pki';
import type { Logger } from './logger.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** One named check of a role's health (database reachable, upstream reachable, …). */
export type HealthCheck = () => Promise<void>;

export interface HttpsListenerOptions {
  /** The role's name, shown in `/healthz` and logs. */
  role: string;
  host: string;
  port: number;
  credentials: ServerCredentials;
  handler: RequestHandler;
  logger: Logger;
  /** Checks `/healthz` runs; any failure answers 503 naming it. */
  healthChecks?: Record<string, HealthCheck>;
  /** How long a stop waits for in-flight requests before closing their connections (default 10 s). */
  drainTimeoutMs?: number;
}

export interface HttpsListener {
  server: Server;
  /** `https://host:port` with the bound port; a wildcard bind host is shown as 127.0.0.1. */
  url: string;
  port: number;
  /** Stops accepting connections and waits for in-flight requests (up to the drain timeout). */
  close(): Promise<void>;
}

const HEALTH_CHECK_TIMEOUT_MS = 5_000;

/**
 * The HTTPS server every role listens with: binds the configured address (port 0 picks a free one and
 * the bound port is reported), answers `GET /healthz` for the role, hands every other request to the
 * role's handler, turns an escaped exception into a 500 without leaking it, and drains on close.
 */
export async function listenHttps(options: HttpsListenerOptions): Promise<HttpsListener> {
  const { role, logger, healthChecks = {}, drainTimeoutMs = 10_000 } = options;
  const sockets = new Set<Duplex>();
  let draining = false;

  const server = createServer(
    { cert: options.credentials.cert, key: options.credentials.key },
    (req, res) => {
      if (draining) res.setHeader('Connection', 'close');
      // A keep-alive connection whose request was in flight when the drain began becomes idle here;
      // closing it now lets the drain finish without waiting for the keep-alive timeout.
      res.on('finish', () => {
        if (draining) server.closeIdleConnections();
      });
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        void health(role, healthChecks, draining).then(({ status, body }) => {
          res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
        });
        return;
      }
      Promise.resolve()
        .then(() => options.handler(req, res))
        .catch((error: unknown) => {
          logger.error(
            { err: error, method: req.method, url: req.url },
            'unhandled error in request handler',
          );
          if (!res.headersSent) {
            res.writeHead(500, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ error: 'internal_error', error_description: 'internal server error' }));
          } else {
            res.destroy();
          }
        });
    },
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error) => logger.debug({ err: error }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${options.port} on ${options.host} is already in use`
          : error.code === 'EACCES'
            ? `no permission to bind ${options.host}:${options.port}`
            : error.code === 'EADDRNOTAVAIL'
              ? `${options.host} is not an address of this machine`
              : error.message;
      reject(
        Object.assign(
          new Error(
            `${role} cannot listen: ${why} (set roles.${role} in pks.yaml or PKS_${role.toUpperCase()}_PORT)`,
          ),
          {
            cause: error,
          },
        ),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port, options.host);
  });

  const port = (server.address() as AddressInfo).port;
  const shownHost = ['0.0.0.0', '::', ''].includes(options.host) ? '127.0.0.1' : options.host;
  const url = `https://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      draining = true;
      server.close(() => resolve());
      server.closeIdleConnections();
      const deadline = setTimeout(() => {
        logger.warn(
          { role, connections: sockets.size },
          'drain deadline passed; closing remaining connections',
        );
        for (const socket of sockets) socket.destroy();
      }, drainTimeoutMs);
      deadline.unref();
    });
    return closed;
  };

  return { server, url, port, close };
}

async function health(
  role: string,
  checks: Record<string, HealthCheck>,
  draining: boolean,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const results: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('timed out')), HEALTH_CHECK_TIMEOUT_MS).unref(),
          ),
        ]);
        results[name] = 'ok';
      } catch (error) {
        results[name] = `failing: ${(error as Error).message}`;
      }
    }),
  );
  const healthy = !draining && Object.values(results).every((r) => r === 'ok');
  return {
    status: healthy ? 200 : 503,
    body: { role, status: draining ? 'draining' : healthy ? 'ok' : 'failing', checks: results },
  };
}
