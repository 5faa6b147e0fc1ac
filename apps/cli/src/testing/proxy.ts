import { createServer, Socket, type Server } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 (port 0) in front of a real server, so a test can drop the CLI's connections
 * the way a network does: `cut()` destroys every open connection and refuses new ones until `mend()`.
 * TLS passes through untouched (the API's certificate names 127.0.0.1, whatever the port).
 */
export interface TcpProxy {
  url: string;
  /** Connections accepted so far (each reconnect is one more). */
  readonly accepted: number;
  cut(): void;
  mend(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (down) return client.destroy();
    accepted += 1;
    const upstream = new Socket();
    upstream.connect(Number(port), hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  const url = new URL(target);
  url.port = String(address.port);
  return {
    url: url.origin,
    get accepted() {
      return accepted;
    },
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
    },
    mend() {
      down = false;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
