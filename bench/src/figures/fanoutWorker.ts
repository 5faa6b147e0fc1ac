import { parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';

/** graphql-ws subscribers in a thread of their own: `subscribers` subscriptions over `sockets` sockets. */
export interface FanoutJob {
  url: string;
  ca: string;
  token: string;
  clusters: string[];
  subscribers: number;
  sockets: number;
}

/** What the main thread asks: `stop` ends the job and gets the receipts back. */
export type FanoutCommand = { type: 'stop' };

export type FanoutMessage =
  | { type: 'subscribed' }
  /** A subscriber saw its first event (the readiness probe). */
  | { type: 'ready'; count: number }
  | { type: 'receipts'; receipts: [string, number][]; errors: string[] };

const job = workerData as FanoutJob;
const clients: Client[] = [];
for (let i = 0; i < job.sockets; i++) {
  clients.push(
    createClient({
      url: job.url,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { ca: job.ca });
        }
      },
      connectionParams: { authorization: `Bearer ${job.token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    }),
  );
}

// Receipts: description (which names round and cluster) → when this thread saw it, per subscriber.
const receipts: [string, number][] = [];
const errors: string[] = [];
const ready = new Set<number>();
for (let s = 0; s < job.subscribers; s++) {
  const cluster = job.clusters[s % job.clusters.length]!;
  clients[s % job.sockets]!.subscribe<{ clusterEvents: { description: string } }>(
    {
      query: 'subscription($n: String!) { clusterEvents(name: $n) { description } }',
      variables: { n: cluster },
    },
    {
      next: (value) => {
        const at = performance.timeOrigin + performance.now();
        const description = value.data?.clusterEvents.description;
        if (description === undefined) return;
        if (description.startsWith('probe')) {
          if (!ready.has(s)) {
            ready.add(s);
            parentPort!.postMessage({ type: 'ready', count: ready.size } satisfies FanoutMessage);
          }
        } else receipts.push([description, at]);
      },
      error: (e) => errors.push(String((e as Error).message ?? e)),
      complete: () => undefined,
    },
  );
}
parentPort!.postMessage({ type: 'subscribed' } satisfies FanoutMessage);
parentPort!.on('message', async (command: FanoutCommand) => {
  if (command.type !== 'stop') return;
  await Promise.all(clients.map((c) => c.dispose()));
  parentPort!.postMessage({ type: 'receipts', receipts, errors } satisfies FanoutMessage);
});
