import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The clients of the api-under-load figure, in a thread of their own so that their work is not the
 * stack's: a reader asking `{ me { name } }` over one keep-alive connection, one request at a time, and a
 * burst of clients that each open a new connection at the same moment and send one createCluster on it.
 */
export interface BurstRequest {
  graphqlUrl: string;
  ca: string;
  token: string;
  names: string[];
  /** The reader alone first, for this long (the baseline: the same probe with the stack idle). */
  idleMs: number;
  /** Pause between the reader's requests (it is a client asking now and then, not a load generator). */
  probeGapMs: number;
  /** A create's answer not back after this long counts as failed. */
  createTimeoutMs: number;
}

export interface CreateOutcome {
  name: string;
  /** ms from the burst's start to the TCP connection being established, and to the TLS handshake's end. */
  connectMs: number | null;
  acceptedMs: number | null;
  /** ms from the burst's start to the mutation's answer. */
  answeredMs: number | null;
  error: string | null;
}

/** Worker → parent: `burst-answered` when every create has its answer, then `done` after the parent's `stop`. */
export type BurstMessage =
  | { kind: 'burst-answered'; burstStartedAt: number; creates: CreateOutcome[] }
  | { kind: 'done'; idleLatenciesMs: number[]; loadLatenciesMs: number[]; probeErrors: string[] };

const job = workerData as BurstRequest;
const url = new URL(job.graphqlUrl);
const CREATE = `mutation($input: CreateClusterInput!) { createCluster(input: $input) { name lastActionState } }`;
const ME = JSON.stringify({ query: '{ me { name } }' });
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${job.token}` };

function post(
  body: string,
  agent: https.Agent | false,
  onSocket?: (socket: TLSSocket) => void,
  timeoutMs = 30_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        agent,
        ca: job.ca,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    if (onSocket) req.once('socket', (s) => onSocket(s as TLSSocket));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Set from message handlers and the burst below, read by the reader's loop.
const state: { phase: 'idle' | 'load' | 'stopped' } = { phase: 'idle' };
const idleLatenciesMs: number[] = [];
const loadLatenciesMs: number[] = [];
const probeErrors: string[] = [];
const stopped = new Promise<void>((resolve) =>
  parentPort!.on('message', (m: string) => {
    if (m === 'stop') {
      state.phase = 'stopped';
      resolve();
    }
  }),
);

const reader = (async () => {
  const agent = new https.Agent({ ca: job.ca, keepAlive: true, maxSockets: 1 });
  while (state.phase !== 'stopped') {
    const samples = state.phase === 'idle' ? idleLatenciesMs : loadLatenciesMs;
    const started = performance.now();
    try {
      const { status, text } = await post(ME, agent);
      const answer = JSON.parse(text) as { data?: { me?: { name?: string } } };
      if (status !== 200 || !answer.data?.me?.name) throw new Error(`${status} ${text.slice(0, 200)}`);
      samples.push(performance.now() - started);
    } catch (error) {
      if (probeErrors.length < 5) probeErrors.push(String(error));
      samples.push(performance.now() - started);
    }
    await new Promise((r) => setTimeout(r, job.probeGapMs));
  }
  agent.destroy();
})();

await new Promise((r) => setTimeout(r, job.idleMs));
state.phase = 'load';
const burstStartedAt = Date.now();
const t0 = performance.now();
const creates = await Promise.all(
  job.names.map(async (name): Promise<CreateOutcome> => {
    const outcome: CreateOutcome = { name, connectMs: null, acceptedMs: null, answeredMs: null, error: null };
    const body = JSON.stringify({
      query: CREATE,
      variables: { input: { name, planName: 'small', externalHostname: `${name}.bench.example.com` } },
    });
    try {
      // `agent: false`: a connection of its own, opened now, as 200 separate clients would.
      const { status, text } = await post(
        body,
        false,
        (socket) => {
          socket.once('connect', () => (outcome.connectMs = performance.now() - t0));
          socket.once('secureConnect', () => (outcome.acceptedMs = performance.now() - t0));
        },
        job.createTimeoutMs,
      );
      outcome.answeredMs = performance.now() - t0;
      const answer = JSON.parse(text) as { data?: { createCluster?: { name: string } }; errors?: unknown[] };
      if (status !== 200 || answer.errors || answer.data?.createCluster?.name !== name) {
        outcome.error = `${status} ${text.slice(0, 200)}`;
      }
    } catch (error) {
      outcome.error = String(error);
    }
    return outcome;
  }),
);
parentPort!.postMessage({ kind: 'burst-answered', burstStartedAt, creates } satisfies BurstMessage);
await stopped;
await reader;
parentPort!.postMessage({
  kind: 'done',
  idleLatenciesMs,
  loadLatenciesMs,
  probeErrors,
} satisfies BurstMessage);
