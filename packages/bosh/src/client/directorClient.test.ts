import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '@openpks/pki';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DirectorInfo } from '../protocol/types.js';
import { DirectorClient } from './directorClient.js';

// The client against a Director on loopback HTTPS whose answers each test writes: what a real one would
// not do on purpose (hold a stream's headers back) is what these tests need.

const INFO: DirectorInfo = {
  name: 'test-director',
  uuid: 'test',
  version: '280.0.0',
  user: null,
  cpi: 'sim',
  user_authentication: { type: 'basic', options: {} },
  features: { openpks_task_event_stream: { status: true } },
};

let ca: string;
let serving: { cert: string; key: string };
let server: Server | undefined;
/** The Director's side of every connection still open. */
const connections = new Set<Socket>();
/** The paths asked for, in order. */
const asked: string[] = [];
const clients: DirectorClient[] = [];

beforeAll(async () => {
  const authority = await createCertificateAuthority({ commonName: 'director client test CA' });
  const leaf = await issueCertificate(authority, {
    commonName: 'director',
    hostnames: ['127.0.0.1'],
    usage: 'server',
  });
  ca = authority.certificatePem;
  serving = { cert: leaf.certificatePem, key: leaf.privateKeyPem };
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  asked.length = 0;
});

/** A Director whose task 1 is forever `processing` and whose event stream never sends its headers. */
async function directorHoldingTheStream(): Promise<DirectorClient> {
  server = createServer(serving, (req: IncomingMessage, res: ServerResponse) => {
    asked.push(req.url ?? '');
    if (req.url?.endsWith('/event_stream')) return; // the headers never come
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url === '/info') res.end(JSON.stringify(INFO));
    else if (req.url?.startsWith('/tasks/1/output')) res.end('');
    else res.end(JSON.stringify({ id: 1, state: 'processing', description: 'create deployment' }));
  });
  server.on('secureConnection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = new DirectorClient({
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca,
    poll: { initialMs: 20, maxMs: 20 },
  });
  clients.push(client);
  return client;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The error a follow ended with; one that ended with a task instead fails the expectation on its message. */
const failureOf = (follow: Promise<unknown>): Promise<Error> =>
  follow.then(
    () => new Error('the follow ended with a task, not an error'),
    (e: unknown) => e as Error,
  );

describe('DirectorClient following a task over the event stream', () => {
  it('ends at an abort that comes while the stream is still opening, and leaves no connection open', async () => {
    const client = await directorHoldingTheStream();
    const abort = new AbortController();
    const following = failureOf(client.followTask(1, { signal: abort.signal }));
    await until(() => asked.includes('/tasks/1/event_stream'), 'the stream to be asked for');
    const abortedAt = Date.now();
    abort.abort();
    const error = await following;
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(error.message).toBe('following task 1 was aborted');
    // Neither the stream nor a poll after it: the abort ends the follow where it is.
    expect(asked).toEqual(['/info', '/tasks/1/event_stream']);
    // The held request's connection is closed (the client's kept-alive sockets are not closed here).
    await until(() => connections.size === 0, 'the stream’s connection to close');
  });

  it('does not open the stream for a follow aborted before it starts', async () => {
    const client = await directorHoldingTheStream();
    const error = await failureOf(client.followTask(1, { signal: AbortSignal.abort() }));
    expect(error.message).toBe('following task 1 was aborted');
    expect(asked.filter((path) => path !== '/info')).toEqual([]);
  });

  it('gives up at its deadline while the stream is still opening', async () => {
    const client = await directorHoldingTheStream();
    const startedAt = Date.now();
    const error = await failureOf(client.followTask(1, { timeoutMs: 300 }));
    // The deadline, not the 60 s a single call may take.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(error.message).toBe('task 1 is still processing after 300 ms');
    await until(() => connections.size <= 1, 'the stream’s connection to close');
  });
});
