import { createServer as createPlainServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { InputError, NotFoundError } from '@openpks/domain';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '@openpks/pki';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsTokenSource, deferredTokenSource } from './clientCredentialsTokenSource.js';
import {
  ConnectionError,
  HttpStatusError,
  HttpsJsonClient,
  UnexpectedAnswerError,
  type HttpsJsonClientOptions,
} from './httpsJsonClient.js';
import { FakeUaa } from './test-support/fakeUaa.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A peer on 127.0.0.1 over real HTTPS whose answers each test sets, recording what it was sent. */
class Peer {
  handler: Handler = (_req, res) => res.end('{}');
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] =
    [];
  readonly clientNames: (string | undefined)[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(tls: { cert: string; key: string }, clientCa?: string): Promise<Peer> {
    const server = createServer({
      ...tls,
      ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const peer = new Peer(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        peer.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const certificate = (req.socket as TLSSocket).getPeerCertificate?.();
        const commonName = certificate?.subject?.CN;
        peer.clientNames.push(Array.isArray(commonName) ? commonName[0] : commonName);
        peer.handler(req, res, body);
      });
    });
    return peer;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;
let serving: { cert: string; key: string };
let peer: Peer;
const clients: HttpsJsonClient[] = [];

function client(options: Partial<HttpsJsonClientOptions> = {}): HttpsJsonClient {
  const made = new HttpsJsonClient({
    url: peer.url,
    peer: 'the test peer',
    ca: ca.certificatePem,
    ...options,
  });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'https client test CA' });
  otherCa = await createCertificateAuthority({ commonName: 'some other CA' });
  const leaf = await issueCertificate(ca, {
    commonName: 'test peer',
    hostnames: ['127.0.0.1', 'peer.example'],
    usage: 'server',
  });
  serving = { cert: leaf.certificatePem, key: leaf.privateKeyPem };
});

beforeEach(async () => {
  peer = await Peer.start(serving);
});

afterEach(async () => {
  for (const made of clients.splice(0)) made.close();
  await peer.close();
});

describe('HttpsJsonClient', () => {
  it('sends JSON and reads JSON, with the default and the call’s headers and HTTP Basic', async () => {
    peer.handler = (req, res, body) => json(res, 201, { echoed: JSON.parse(body) as unknown });
    const made = client({
      auth: { basic: { username: 'broker', password: 'pa:ss wörd' } },
      headers: { 'X-Broker-API-Version': '2.17' },
    });
    const answer = await made.json<{ echoed: unknown }>('PUT', '/v2/things/1?x=y', {
      json: { plan: 'small' },
      headers: { 'X-Extra': 'yes' },
    });
    expect(answer).toEqual({ echoed: { plan: 'small' } });
    const [sent] = peer.requests;
    expect(sent).toMatchObject({ method: 'PUT', url: '/v2/things/1?x=y' });
    expect(sent!.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"plan":"small"}')),
      accept: 'application/json',
      'x-broker-api-version': '2.17',
      'x-extra': 'yes',
    });
    expect(Buffer.from(sent!.headers.authorization!.slice(6), 'base64').toString('utf8')).toBe(
      'broker:pa:ss wörd',
    );
  });

  it('answers a 2xx without a body with undefined, and takes the statuses a call expects', async () => {
    peer.handler = (req, res) => {
      if (req.url === '/empty') res.writeHead(204).end();
      else res.writeHead(302, { Location: '/tasks/7' }).end();
    };
    expect(await client().json('DELETE', '/empty')).toBeUndefined();
    const redirect = await client().send('POST', '/deployments', { body: 'name: x', expect: [302] });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/tasks/7');
  });

  it('hands back every status to a call that reads them all itself', async () => {
    peer.handler = (_req, res) => json(res, 409, { kind: 'Status', reason: 'AlreadyExists' });
    const answer = await client().send('POST', '/apis/rbac/v1/clusterrolebindings', {
      json: {},
      expect: 'any',
    });
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ reason: 'AlreadyExists' });
  });

  describe('with a bearer token from UAA', () => {
    let uaa: FakeUaa;
    beforeAll(async () => {
      uaa = await FakeUaa.start({ tls: { ...serving, ca: ca.certificatePem } });
    });
    afterAll(() => uaa.close());

    const tokens = () =>
      new ClientCredentialsTokenSource({
        tokenUrl: `${uaa.url}/oauth/token`,
        clientId: 'pks_director',
        clientSecret: 'director secret',
        ca: ca.certificatePem,
      });

    it('fetches a fresh token once on a 401 and tries the call again', async () => {
      const before = uaa.tokenRequests.length;
      const source = tokens();
      const stale = await source.token();
      peer.handler = (req, res) => {
        if (req.headers.authorization === `Bearer ${stale}`) json(res, 401, { description: 'token revoked' });
        else json(res, 200, { ok: true });
      };
      expect(await client({ auth: { bearer: source } }).json('GET', '/deployments')).toEqual({ ok: true });
      expect(peer.requests.map((r) => r.headers.authorization)).toEqual([
        `Bearer ${stale}`,
        `Bearer ${await source.token()}`,
      ]);
      expect(await source.token()).not.toBe(stale);
      expect(uaa.tokenRequests.length - before).toBe(2);
    });

    it('gives up after the one retry when the fresh token is refused too', async () => {
      peer.handler = (_req, res) => json(res, 401, { code: 600000, description: 'Not authorized' });
      const error = await failure(client({ auth: { bearer: tokens() } }).json('GET', '/deployments'));
      expect(error).toBeInstanceOf(HttpStatusError);
      expect(error).toMatchObject({ status: 401, description: 'Not authorized' });
      expect(error.message).toBe('the test peer answered GET /deployments with 401: Not authorized');
      expect(peer.requests).toHaveLength(2);
    });

    it('makes a deferred token source when first needed, and again after it failed to', async () => {
      let made = 0;
      const source = deferredTokenSource(async () => {
        made += 1;
        if (made === 1) throw new Error('UAA not named yet');
        return tokens();
      });
      peer.handler = (_req, res) => json(res, 200, []);
      expect((await failure(client({ auth: { bearer: source } }).json('GET', '/x'))).message).toBe(
        'UAA not named yet',
      );
      expect(await client({ auth: { bearer: source } }).json('GET', '/x')).toEqual([]);
      expect(await client({ auth: { bearer: source } }).json('GET', '/x')).toEqual([]);
      expect(made).toBe(2);
    });
  });

  it('does not retry a 401 to HTTP Basic, nor to a token that cannot be renewed', async () => {
    peer.handler = (_req, res) => json(res, 401, { error: 'Unauthorized' });
    const basic = await failure(
      client({ auth: { basic: { username: 'u', password: 'p' } } }).json('GET', '/a'),
    );
    expect(basic).toMatchObject({ status: 401, description: 'Unauthorized' });
    const fixed = await failure(
      client({ auth: { bearer: { token: () => Promise.resolve('static') } } }).json('GET', '/b'),
    );
    expect(fixed).toMatchObject({ status: 401 });
    expect(peer.requests.map((r) => r.url)).toEqual(['/a', '/b']);
  });

  it('says what the peer said in the field its protocol uses, or its text, or the status', async () => {
    const bodies: [number, string, string][] = [
      [409, JSON.stringify({ code: 100, description: 'deployment is locked' }), 'deployment is locked'],
      [400, JSON.stringify({ error: 'invalid_scope', error_description: 'bad scope' }), 'bad scope'],
      [404, JSON.stringify({ httpStatus: 'NOT_FOUND', error_code: 500090, error_message: 'no t1' }), 'no t1'],
      [403, JSON.stringify({ kind: 'Status', message: 'forbidden: User "x"' }), 'forbidden: User "x"'],
      [422, JSON.stringify({ error: 'ConcurrencyError' }), 'ConcurrencyError'],
      [400, 'Cannot cancel task 3: invalid state (done)\n', 'Cannot cancel task 3: invalid state (done)'],
      [500, '', 'HTTP 500'],
    ];
    let next = 0;
    peer.handler = (_req, res) => {
      const [status, body] = bodies[next++]!;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(body);
    };
    for (const [status, , description] of bodies) {
      const error = await failure(client().json('GET', '/thing'));
      expect(error).toBeInstanceOf(HttpStatusError);
      expect(error).toMatchObject({
        status,
        description,
        peer: 'the test peer',
        method: 'GET',
        path: '/thing',
      });
    }
    // The parsed body stays at hand for a protocol's own codes (NSX's error_code).
    peer.handler = (_req, res) => json(res, 400, { error_code: 5140, error_message: 'block exhausted' });
    expect(await failure(client().json('GET', '/thing'))).toMatchObject({ body: { error_code: 5140 } });
  });

  it('lets a client turn a refusal into its own error', async () => {
    peer.handler = (_req, res) => json(res, 404, { description: "Deployment 'x' doesn't exist" });
    const error = await failure(
      client({
        refusal: (refused) =>
          refused.status === 404
            ? new NotFoundError(`${refused.method} ${refused.path}: ${refused.description}`, {
                cause: refused,
              })
            : refused,
      }).json('GET', '/deployments/x'),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe("GET /deployments/x: Deployment 'x' doesn't exist");
  });

  it('refuses an answer that is not JSON, naming what came', async () => {
    peer.handler = (_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>proxy</html>');
    const error = await failure(client().json('GET', '/v2/catalog'));
    expect(error).toBeInstanceOf(UnexpectedAnswerError);
    expect(error.message).toBe(
      'the test peer answered GET /v2/catalog with a body that is not JSON: <html>proxy</html>',
    );
  });

  it('refuses an answer larger than the cap, for the client or for one call', async () => {
    peer.handler = (_req, res) => json(res, 200, { blob: 'x'.repeat(64 * 1024) });
    const capped = await failure(client({ maxBodyBytes: 1024 }).json('GET', '/big'));
    expect(capped).toBeInstanceOf(UnexpectedAnswerError);
    expect(capped.message).toBe('the test peer answered GET /big with answer larger than 1024 bytes');
    const perCall = await failure(client().json('GET', '/big', { maxBodyBytes: 2048 }));
    expect(perCall.message).toContain('answer larger than 2048 bytes');
    expect(await client().json('GET', '/big')).toMatchObject({ blob: expect.any(String) });
  });

  it('gives up on a peer that does not answer in time, naming the time', async () => {
    peer.handler = () => undefined; // never answers
    const error = await failure(client({ timeoutMs: 300 }).json('GET', '/slow'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ reason: 'no answer within 300 ms', timedOut: true });
    expect(error.message).toBe(
      `cannot reach the test peer at ${peer.url} (GET /slow): no answer within 300 ms`,
    );
    const perCall = await failure(client().json('GET', '/slow', { timeoutMs: 1500 }));
    expect((perCall as ConnectionError).reason).toBe('no answer within 1.5 s');
  });

  it('refuses a peer whose certificate the CA did not sign, saying so', async () => {
    const error = await failure(client({ ca: otherCa.certificatePem }).json('GET', '/'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toMatch(
      /^its certificate is not signed by a trusted CA: .*certificate.* \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    );
    expect(peer.requests).toHaveLength(0);
  });

  it('says a peer that is not listening refused the connection', async () => {
    const url = peer.url;
    await peer.close();
    const error = await failure(client({ url }).json('GET', '/'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toMatch(/ECONNREFUSED/);
    peer = await Peer.start(serving);
  });

  it('reaches only HTTPS URLs', () => {
    expect(() => new HttpsJsonClient({ url: 'http://127.0.0.1:8080', peer: 'the broker' })).toThrow(
      InputError,
    );
    expect(() => new HttpsJsonClient({ url: 'not a url', peer: 'the broker' })).toThrow(
      /'not a url' is not a URL for the broker/,
    );
    expect(
      () => new HttpsJsonClient({ url: 'ftp://127.0.0.1:8080', peer: 'the broker', allowHttp: true }),
    ).toThrow("the broker is reached over HTTPS or HTTP, not 'ftp://127.0.0.1:8080'");
  });

  it('reaches a plain-HTTP peer when the client opts in, with the same auth, refusals and failures', async () => {
    const seen: { url: string; authorization: string | undefined; version: string | undefined }[] = [];
    const plain = createPlainServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        version: req.headers['x-broker-api-version'] as string | undefined,
      });
      if (req.url === '/missing') return json(res, 404, { description: 'no such instance' });
      if (req.url === '/hang') return;
      json(res, 200, { over: 'http' });
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    try {
      const made = client({
        url,
        allowHttp: true,
        auth: { basic: { username: 'broker', password: 'secret' } },
        headers: { 'X-Broker-API-Version': '2.17' },
      });
      expect(made.url).toBe(`${url}/`);
      expect(await made.json('GET', '/v2/catalog')).toEqual({ over: 'http' });
      expect(await made.json('GET', '/v2/catalog')).toEqual({ over: 'http' });
      expect(seen[0]).toEqual({
        url: '/v2/catalog',
        authorization: `Basic ${Buffer.from('broker:secret').toString('base64')}`,
        version: '2.17',
      });
      const refused = await failure(made.json('GET', '/missing'));
      expect(refused).toBeInstanceOf(HttpStatusError);
      expect(refused).toMatchObject({ status: 404, description: 'no such instance' });
      const slow = await failure(made.json('GET', '/hang', { timeoutMs: 200 }));
      expect(slow).toBeInstanceOf(ConnectionError);
      expect(slow).toMatchObject({ reason: 'no answer within 200 ms', timedOut: true });
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
    // An HTTPS peer is still reached over HTTPS by a client that would take HTTP.
    peer.handler = (_req, res) => json(res, 200, { over: 'https' });
    expect(await client({ allowHttp: true }).json('GET', '/')).toEqual({ over: 'https' });
    const gone = await failure(client({ url, allowHttp: true }).json('GET', '/v2/catalog'));
    expect(gone).toMatchObject({ timedOut: false });
    expect((gone as ConnectionError).reason).toMatch(/ECONNREFUSED/);
  });

  it('presents a client certificate and checks the server under the name it is given', async () => {
    await peer.close();
    const kubeLeaf = await issueCertificate(ca, { commonName: 'kube-apiserver', hostnames: ['kubernetes'] });
    peer = await Peer.start(
      { cert: kubeLeaf.certificatePem, key: kubeLeaf.privateKeyPem },
      ca.certificatePem,
    );
    peer.handler = (_req, res) => json(res, 200, { kind: 'NamespaceList', items: [] });
    const admin = await issueCertificate(ca, {
      commonName: 'pks-broker',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const cert = { cert: admin.certificatePem, key: admin.privateKeyPem };
    // The URL names an address the certificate does not carry: the check needs `servername`.
    const unnamed = await failure(client({ clientCertificate: cert }).json('GET', '/api/v1/namespaces'));
    expect((unnamed as ConnectionError).reason).toMatch(/altnames/);
    const named = client({ clientCertificate: cert, servername: 'kubernetes' });
    expect(await named.json('GET', '/api/v1/namespaces')).toMatchObject({ kind: 'NamespaceList' });
    expect(peer.clientNames.at(-1)).toBe('pks-broker');
  });

  it('streams an answer as it comes, and reads a refused stream for its description', async () => {
    peer.handler = (req, res) => {
      if (req.url === '/gone') return json(res, 404, { description: 'Task 9 could not be found' });
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('event: event\ndata: {"n":1}\n\n');
      res.end('event: task\ndata: {"state":"done"}\n\n');
    };
    const stream = await client().stream('GET', '/tasks/1/event_stream', {
      headers: { Accept: 'text/event-stream' },
    });
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString('utf8');
    expect(text).toBe('event: event\ndata: {"n":1}\n\nevent: task\ndata: {"state":"done"}\n\n');
    expect(peer.requests[0]!.headers.accept).toBe('text/event-stream');
    const refused = await failure(client().stream('GET', '/gone'));
    expect(refused).toMatchObject({ status: 404, description: 'Task 9 could not be found' });
  });

  it('ends a call when its signal aborts', async () => {
    peer.handler = () => undefined;
    const abort = new AbortController();
    const call = client().json('GET', '/hang', { signal: abort.signal });
    // Aborted once the peer holds the request: the request is what is cut short.
    await new Promise<void>((resolve) => {
      const check = () => (peer.requests.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    abort.abort();
    const error = await failure(call);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe('the call was aborted');
  });
});
