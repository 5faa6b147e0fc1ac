import {
  request as plainRequest,
  type Agent as PlainAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { request } from 'node:https';

/** How long one call to UAA may take, connection and body included. */
const TIMEOUT_MS = 10_000;
/** UAA's answers are small; anything bigger is not UAA. */
const MAX_BODY_BYTES = 1_048_576;

export interface HttpsAnswer {
  status: number;
  body: string;
}

export interface HttpsCall {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** PEM(s) to trust; without it, Node's default roots. Certificates are always verified. */
  ca?: string | string[] | undefined;
}

/** Parses a URL that openpks will call for keys or tokens; only HTTPS is acceptable. */
export function httpsUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** One HTTPS exchange with UAA, on a fresh connection (calls are rare, and no socket outlives them). */
export async function httpsCall(url: URL, call: HttpsCall = {}): Promise<HttpsAnswer> {
  const answer = await exchange(url, {
    method: call.method ?? 'GET',
    headers: call.headers ?? {},
    body: call.body,
    tls: { ca: call.ca },
    timeoutMs: TIMEOUT_MS,
    maxBodyBytes: MAX_BODY_BYTES,
  });
  return { status: answer.status, body: answer.body.toString('utf8') };
}

/**
 * How the connection is made: a kept-alive agent (its TLS options), or these options on a fresh socket.
 * An `http:` URL (only a client that opted in passes one) goes over plain HTTP, with an `http.Agent`.
 */
export interface ExchangeTls {
  agent?: PlainAgent;
  ca?: string | string[] | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  servername?: string | undefined;
}

export interface ExchangeOptions {
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer | undefined;
  tls: ExchangeTls;
  /** The whole exchange (to the last byte, or to the headers of a stream); 0 for none. */
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal | undefined;
}

export interface ExchangeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The exchange took longer than it may: `describeFailure` says so with the time. */
export class ExchangeTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatDuration(timeoutMs)}`);
    this.name = 'ExchangeTimeout';
  }
}

/** The answer grew past the cap: what kept coming is not what the caller expects. */
export class AnswerTooLarge extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`answer larger than ${maxBodyBytes} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/**
 * One HTTPS request and its whole answer. Rejects with what went wrong on the way (Node's socket or TLS
 * error, ExchangeTimeout, AnswerTooLarge, an abort); any status is an answer. Certificates are always
 * verified.
 */
export function exchange(url: URL, options: ExchangeOptions): Promise<ExchangeAnswer> {
  return new Promise((resolve, reject) => {
    const req = start(url, options, reject, (res, done) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          req.destroy(new AnswerTooLarge(options.maxBodyBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        done();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
  });
}

/**
 * One HTTPS request whose answer is read as it comes (a stream of events): resolves with the response
 * once its headers are in. The timeout covers the wait for the headers; the caller's `signal` ends the
 * stream at any time.
 */
export function openExchange(url: URL, options: ExchangeOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    start(url, options, reject, (res, done) => {
      done();
      resolve(res);
    });
  });
}

function start(
  url: URL,
  options: ExchangeOptions,
  reject: (error: unknown) => void,
  onResponse: (res: IncomingMessage, done: () => void) => void,
) {
  const { agent, ...tls } = options.tls;
  const common = {
    method: options.method,
    headers: options.headers,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const req =
    url.protocol === 'http:'
      ? plainRequest(url, { ...common, agent: agent ?? false })
      : request(url, {
          ...common,
          ...(agent ? { agent } : { agent: false, ...definedOnly(tls) }),
          ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
        });
  const timer =
    options.timeoutMs > 0
      ? setTimeout(() => req.destroy(new ExchangeTimeout(options.timeoutMs)), options.timeoutMs)
      : undefined;
  const done = () => clearTimeout(timer);
  req.on('response', (res) => {
    res.on('error', (error) => {
      done();
      reject(error);
    });
    onResponse(res, done);
  });
  req.on('error', (error) => {
    done();
    reject(error);
  });
  req.end(options.body);
  return req;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Node's codes for a server certificate that does not chain to a trusted CA. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** Says why a call failed in operator words (connection refused, untrusted certificate, timeout). */
export function describeFailure(error: unknown): string {
  if (error instanceof ExchangeTimeout || error instanceof AnswerTooLarge) return error.message;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (name === 'AbortError' || code === 'ABORT_ERR') return 'the call was aborted';
  if (name === 'TimeoutError') return `no answer within ${formatDuration(TIMEOUT_MS)}`;
  const text = typeof message === 'string' ? message : String(error);
  const said = typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return `its certificate is not signed by a trusted CA: ${said}`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `its certificate has expired: ${said}`;
  return said;
}

/** `30 s`, `1.5 s`, `250 ms`: a time as an operator reads it in an error. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Parses JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Keeps text from a remote party fit for one line of an error message. */
export function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
