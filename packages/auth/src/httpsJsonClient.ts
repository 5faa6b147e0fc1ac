import { Agent as PlainAgent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent } from 'node:https';
import { InputError, InternalError } from '@openpks/domain';
import type { TokenSource } from './clientCredentialsTokenSource.js';
import {
  AnswerTooLarge,
  describeFailure,
  exchange,
  ExchangeTimeout,
  openExchange,
  oneLine,
  type ExchangeOptions,
  type ExchangeTls,
} from './https.js';

/** How a client proves who it is: a bearer token from a `TokenSource`, or HTTP Basic. */
export type HttpsAuth = { bearer: TokenSource } | { basic: { username: string; password: string } };

export interface HttpsJsonClientOptions {
  /** The base URL (`https://host:port/`, optionally a path); every call's path resolves against it. */
  url: string;
  /** Who is called, in an operator's words ("the BOSH Director", "NSX Manager"): every error names it. */
  peer: string;
  /** PEM(s) to trust; without it, Node's default roots. Certificates are always verified. */
  ca?: string | string[] | undefined;
  /**
   * Takes an `http://` URL as well (default false: HTTPS only). Only for a peer that may be set up on
   * plain HTTP on loopback (the embedded broker); the TLS options then have nothing to do.
   */
  allowHttp?: boolean;
  auth?: HttpsAuth | undefined;
  /** A client certificate and key (mutual TLS, as a Kubernetes API's admin). */
  clientCertificate?: { cert: string; key: string } | undefined;
  /** The name on the server's certificate, when the URL names an address (kubeconfig `tls-server-name`). */
  servername?: string | undefined;
  /** Headers sent on every call (a protocol version, say); a call's own headers win. */
  headers?: Record<string, string>;
  /** How long a call may take, connection to last byte, unless the call says otherwise (default 30 s). */
  timeoutMs?: number;
  /** The largest answer taken, unless the call says otherwise (default 16 MiB). */
  maxBodyBytes?: number;
  /** Keep connections open between calls (default true); `close()` ends them. */
  keepAlive?: boolean;
  /**
   * What callers get when the peer answers with a status the call does not expect (default: the
   * HttpStatusError itself); a client turns it into its protocol's or the domain's error here.
   */
  refusal?: (error: HttpStatusError) => Error;
}

export interface HttpsCallOptions {
  headers?: Record<string, string>;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** Any other body; its `Content-Type` goes in `headers`. */
  body?: string | Buffer;
  /**
   * The statuses that are answers (default: any 2xx); anything else is a refusal. `'any'` hands every
   * status back (a caller that reads a Kubernetes `Status` itself).
   */
  expect?: readonly number[] | 'any';
  timeoutMs?: number;
  maxBodyBytes?: number;
  signal?: AbortSignal;
  /** Sends no credentials (an open discovery endpoint such as BOSH's `/info`). */
  anonymous?: boolean;
}

export interface HttpsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A call to another role that did not work out; says who was called, and how. */
export class HttpsCallError extends InternalError {
  constructor(
    readonly peer: string,
    readonly method: string,
    /** The path called, with its query. */
    readonly path: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options);
  }
}

/** No answer: the peer could not be reached, its certificate is not trusted, or it took too long. */
export class ConnectionError extends HttpsCallError {
  constructor(
    peer: string,
    method: string,
    path: string,
    readonly origin: string,
    /** Why, in an operator's words ("connect ECONNREFUSED 127.0.0.1:25555", "no answer within 30 s"). */
    readonly reason: string,
    cause: unknown,
  ) {
    super(peer, method, path, `cannot reach ${peer} at ${origin} (${method} ${path}): ${reason}`, {
      cause,
    });
    this.timedOut = cause instanceof ExchangeTimeout;
  }

  /** The peer took longer than the call may (rather than refusing the connection or failing TLS). */
  readonly timedOut: boolean;
}

/** An answer with a status the call does not expect: the status, the peer's own words and its body. */
export class HttpStatusError extends HttpsCallError {
  constructor(
    peer: string,
    method: string,
    path: string,
    readonly status: number,
    /** What the peer said (its error body's description, or its text); `HTTP <status>` when nothing. */
    readonly description: string,
    /** The answer's body: parsed JSON when it is JSON, else its text. */
    readonly body: unknown,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(peer, method, path, `${peer} answered ${method} ${path} with ${status}: ${description}`, {
      details: { status },
    });
  }
}

/** An answer that is not what the protocol promises: not JSON, or larger than the client takes. */
export class UnexpectedAnswerError extends HttpsCallError {
  constructor(
    peer: string,
    method: string,
    path: string,
    readonly status: number,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(peer, method, path, `${peer} answered ${method} ${path} with ${reason}`, {
      cause,
      details: { status },
    });
  }
}

/**
 * The one way openpks roles call each other over HTTPS with JSON (plain HTTP only where a client opts in): a base URL and the CA to trust, a
 * bearer token from a `TokenSource` (a 401 makes it fetch a new token and the call is tried once more)
 * or HTTP Basic, a timeout per call, a cap on the answer's size, and typed errors that say who was
 * called: `ConnectionError` (no answer, with the reason in operator words), `HttpStatusError` (the
 * status and the peer's own description), `UnexpectedAnswerError` (not JSON, too large).
 */
export class HttpsJsonClient {
  readonly #base: URL;
  readonly #options: HttpsJsonClientOptions;
  readonly #tls: ExchangeTls;
  readonly #agent: PlainAgent | undefined;

  constructor(options: HttpsJsonClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new InputError('url', `'${options.url}' is not a URL for ${options.peer}`, {
        allowed: 'an https:// URL',
      });
    }
    const plain = base.protocol === 'http:' && options.allowHttp === true;
    if (base.protocol !== 'https:' && !plain) {
      const allowed = options.allowHttp ? 'an https:// or http:// URL' : 'an https:// URL';
      const over = options.allowHttp ? 'HTTPS or HTTP' : 'HTTPS';
      throw new InputError('url', `${options.peer} is reached over ${over}, not '${options.url}'`, {
        allowed,
      });
    }
    this.#base = base;
    this.#options = options;
    const tls = {
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.clientCertificate ?? {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
    };
    this.#agent =
      options.keepAlive === false
        ? undefined
        : plain
          ? new PlainAgent({ keepAlive: true })
          : new Agent({ keepAlive: true, ...tls });
    this.#tls = this.#agent ? { agent: this.#agent, servername: options.servername } : tls;
  }

  /** The base URL every path resolves against. */
  get url(): string {
    return this.#base.href;
  }

  /** Ends kept-alive connections. */
  close(): void {
    this.#agent?.destroy();
  }

  /** A call whose answer is JSON (an empty answer is `undefined`). */
  async json<T>(method: string, path: string, call: HttpsCallOptions = {}): Promise<T> {
    const response = await this.send(method, path, call);
    const text = response.body.toString('utf8');
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new UnexpectedAnswerError(
        this.#options.peer,
        method,
        path,
        response.status,
        `a body that is not JSON: ${oneLine(text, 100)}`,
        error,
      );
    }
  }

  /** A call and its whole answer, whatever its content type (an event log, a Range of it). */
  async send(method: string, path: string, call: HttpsCallOptions = {}): Promise<HttpsResponse> {
    const response = await this.#call(
      method,
      path,
      call,
      exchange,
      (r) => r.status,
      () => undefined,
    );
    if (expects(call.expect, response.status, isSuccess)) return response;
    throw this.#refusal(method, path, response);
  }

  /**
   * A call whose answer is read as it arrives (server-sent events): the response, once its headers are
   * in with an expected status (default 200). The caller reads it, and ends it with `call.signal` or
   * `destroy()`.
   */
  async stream(method: string, path: string, call: HttpsCallOptions = {}): Promise<IncomingMessage> {
    const res = await this.#call(
      method,
      path,
      call,
      openExchange,
      (r) => r.statusCode ?? 0,
      (r) => r.destroy(),
    );
    if (expects(call.expect, res.statusCode ?? 0, (status) => status === 200)) return res;
    // A refusal is small: read it whole, for its description.
    const maxBodyBytes = call.maxBodyBytes ?? this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBodyBytes) throw new AnswerTooLarge(maxBodyBytes);
        chunks.push(chunk);
      }
    } catch (error) {
      res.destroy();
      throw this.#failure(method, path, error);
    }
    const response = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    throw this.#refusal(method, path, response);
  }

  /** One call with the client's credentials; a 401 to a bearer token that can be renewed is tried once more. */
  async #call<R>(
    method: string,
    path: string,
    call: HttpsCallOptions,
    run: (url: URL, options: ExchangeOptions) => Promise<R>,
    statusOf: (response: R) => number,
    discard: (response: R) => void,
  ): Promise<R> {
    const url = new URL(path, this.#base);
    const body = call.json !== undefined ? JSON.stringify(call.json) : call.body;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...this.#options.headers,
      ...(call.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...call.headers,
    };
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const auth = call.anonymous ? undefined : this.#options.auth;
    if (auth && 'basic' in auth) {
      const { username, password } = auth.basic;
      headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
    const bearer = auth && 'bearer' in auth ? auth.bearer : undefined;
    const attempt = async (): Promise<R> => {
      if (bearer) headers.Authorization = `Bearer ${await bearer.token()}`;
      try {
        return await run(url, {
          method,
          headers,
          body,
          tls: this.#tls,
          timeoutMs: call.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          maxBodyBytes: call.maxBodyBytes ?? this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
          signal: call.signal,
        });
      } catch (error) {
        throw this.#failure(method, path, error);
      }
    };
    const response = await attempt();
    if (statusOf(response) !== 401 || bearer?.invalidate === undefined) return response;
    // The token may have been revoked, or its signing key rotated: one more try with a fresh one.
    discard(response);
    bearer.invalidate();
    return attempt();
  }

  #failure(method: string, path: string, error: unknown): Error {
    const { peer } = this.#options;
    if (error instanceof HttpsCallError) return error;
    if (error instanceof AnswerTooLarge) {
      return new UnexpectedAnswerError(peer, method, path, 0, error.message, error);
    }
    return new ConnectionError(peer, method, path, this.#base.origin, describeFailure(error), error);
  }

  #refusal(method: string, path: string, response: HttpsResponse): Error {
    const text = response.body.toString('utf8');
    let body: unknown = text;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: the text is what the peer said
    }
    const error = new HttpStatusError(
      this.#options.peer,
      method,
      path,
      response.status,
      descriptionOf(body) ?? `HTTP ${response.status}`,
      body,
      response.headers,
    );
    return this.#options.refusal ? this.#options.refusal(error) : error;
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Whether a call takes `status` as an answer: what it listed, every status, or else the default. */
function expects(
  expect: HttpsCallOptions['expect'],
  status: number,
  byDefault: (status: number) => boolean,
): boolean {
  if (expect === 'any') return true;
  return expect ? expect.includes(status) : byDefault(status);
}

/**
 * What a peer said in its error body, in the fields the protocols openpks speaks use: BOSH and OSB
 * `description`, UAA and CredHub `error_description`, NSX `error_message`, Kubernetes `message`, else
 * `error`; a text body is said as it is, on one line.
 */
export function descriptionOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : oneLine(body, 500);
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  for (const key of ['description', 'error_description', 'error_message', 'message', 'error']) {
    const value = fields[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
