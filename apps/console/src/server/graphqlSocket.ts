import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

// The page's GraphQL WebSocket ends here, at the console's server, and a second one goes on to the API.
// The page sends no credential (it has none): the console authenticates the upgrade by its session
// cookie and puts the session's access token into the graphql-ws `connection_init` payload, which is
// where the API reads it (apps/api: `onConnect`, `authorization` in the connection params). Every other
// message passes unchanged both ways.

export const GRAPHQL_WS_PROTOCOL = 'graphql-transport-ws';

/** graphql-ws's close code for a missing or untrusted token; clients treat it as final. */
const WS_UNAUTHORIZED = 4401;
const WS_SUBPROTOCOL_NOT_ACCEPTABLE = 4406;
/** Try Again Later: graphql-ws clients reconnect after it, and the reconnect brings a fresh token. */
const WS_TRY_AGAIN_LATER = 1013;
const WS_GOING_AWAY = 1001;
/** The longest close reason a WebSocket frame holds. */
const MAX_REASON_BYTES = 123;

/** The session's access token for an upgrade request, or why the request has none. */
export type SocketCredential = { accessToken: string } | { refused: string };

export interface GraphQLSocketProxyOptions {
  /** The console's external origin: only its pages may open the socket (no cross-site WebSocket hijacking). */
  origin: string;
  /** The PKS API's base URL (`https://host:9021`); its graphql-ws endpoint is `/graphql`. */
  apiUrl: string;
  /** The CA that signed the API's certificate. */
  ca?: string | Buffer;
  /** Reads the request's session (cookie) and returns its access token, refreshed when due. */
  credential(req: IncomingMessage): Promise<SocketCredential>;
  /** Largest message accepted from either side (the API's limit is its request-body limit, 1 MiB). */
  maxPayload?: number;
  log?: (message: string) => void;
}

export interface GraphQLSocketProxy {
  /** Takes an upgrade request for the GraphQL WebSocket path (the caller has checked path and host). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (1001 Going Away), as the console stops. */
  close(): void;
}

/**
 * A graphql-ws message with the session's token as the `connection_init` payload's `authorization`.
 * Credentials the page may have put there are dropped: the session's are the only ones that count.
 * Other messages, and anything that is not JSON, are returned as they are.
 */
export function withConnectionToken(message: string, accessToken: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return message;
  }
  if (!isRecord(parsed) || parsed.type !== 'connection_init') return message;
  const {
    authorization: _lower,
    Authorization: _upper,
    token: _token,
    ...rest
  } = isRecord(parsed.payload) ? parsed.payload : {};
  return JSON.stringify({ ...parsed, payload: { ...rest, authorization: `Bearer ${accessToken}` } });
}

/**
 * The close the page gets when the API closes its socket. A 4401 after the API acknowledged the
 * connection means the access token lapsed while the socket was open; the session can still yield a
 * fresh one, so the page is told to reconnect (graphql-ws gives up for good on 4401). Codes that may not
 * be sent in a close frame (1005 none, 1006 abnormal, 1015 TLS) mean the API went away: reconnect too.
 */
export function pageCloseOf(code: number, acknowledged: boolean): number {
  if (code === WS_UNAUTHORIZED && acknowledged) return WS_TRY_AGAIN_LATER;
  return sendable(code) ? code : WS_TRY_AGAIN_LATER;
}

export function createGraphQLSocketProxy(options: GraphQLSocketProxyOptions): GraphQLSocketProxy {
  const origin = new URL(options.origin).origin;
  const api = new URL('/graphql', options.apiUrl);
  api.protocol = api.protocol === 'http:' ? 'ws:' : 'wss:';
  const maxPayload = options.maxPayload ?? 1024 * 1024;
  const log = options.log ?? ((message: string) => console.error(message));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has(GRAPHQL_WS_PROTOCOL) ? GRAPHQL_WS_PROTOCOL : false),
  });
  const upstreams = new Set<WebSocket>();

  const join = (page: WebSocket, accessToken: string) => {
    if (page.protocol !== GRAPHQL_WS_PROTOCOL) {
      page.close(WS_SUBPROTOCOL_NOT_ACCEPTABLE, `Subprotocol not acceptable: use ${GRAPHQL_WS_PROTOCOL}`);
      return;
    }
    const upstream = new WebSocket(api, GRAPHQL_WS_PROTOCOL, {
      ...(options.ca ? { ca: options.ca } : {}),
      maxPayload,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    upstreams.add(upstream);
    // The page may speak before the API's socket is open (its connection_init comes at once).
    const pending: { data: RawData | string; binary: boolean }[] = [];
    let acknowledged = false;
    let pageLeft = false;

    page.on('message', (data, binary) => {
      const out = binary ? data : withConnectionToken(data.toString(), accessToken);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary });
      else if (upstream.readyState === WebSocket.CONNECTING) pending.push({ data: out, binary });
    });
    upstream.on('open', () => {
      for (const { data, binary } of pending.splice(0)) upstream.send(data, { binary });
    });
    upstream.on('message', (data, binary) => {
      if (!acknowledged && !binary) acknowledged = isAck(data.toString());
      if (page.readyState === WebSocket.OPEN) page.send(data, { binary });
    });
    upstream.on('unexpected-response', (_req, res) => {
      log(`GraphQL WebSocket to the API refused: HTTP ${res.statusCode}`);
      res.resume();
      upstream.terminate();
    });
    upstream.on('error', (error) => {
      // Abandoning a handshake (the page left first) is reported as an error too; it is not one.
      if (!pageLeft) log(`GraphQL WebSocket to the API failed: ${error.message}`);
    });
    upstream.on('close', (code, reason) => {
      upstreams.delete(upstream);
      if (page.readyState !== WebSocket.OPEN && page.readyState !== WebSocket.CONNECTING) return;
      const pageCode = pageCloseOf(code, acknowledged);
      const why =
        pageCode === code
          ? reason.toString('utf8')
          : code === WS_UNAUTHORIZED
            ? 'the access token expired; reconnect'
            : 'the connection to the PKS API was lost; reconnect';
      page.close(pageCode, truncate(why));
    });
    page.on('close', (code, reason) => {
      pageLeft = true;
      if (upstream.readyState === WebSocket.OPEN)
        upstream.close(sendable(code) ? code : 1000, truncate(reason.toString('utf8')));
      else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
    });
    page.on('error', () => upstream.terminate());
  };

  return {
    handleUpgrade(req, socket, head) {
      // A page elsewhere can open a WebSocket here and the browser would send the session cookie along.
      if (req.headers.origin !== origin) {
        refuse(socket, 403, `the GraphQL WebSocket is for the console's own pages (${origin}) only`);
        return;
      }
      socket.on('error', () => socket.destroy());
      options.credential(req).then(
        (credential) => {
          if (socket.destroyed) return;
          if ('refused' in credential) {
            refuse(socket, 401, credential.refused);
            return;
          }
          wss.handleUpgrade(req, socket, head, (page) => join(page, credential.accessToken));
        },
        (error: unknown) => {
          log(`GraphQL WebSocket: the session could not be read: ${String(error)}`);
          refuse(socket, 500, 'the console could not read the session; try again');
        },
      );
    },
    close() {
      for (const page of wss.clients) page.close(WS_GOING_AWAY, 'the console is stopping');
      for (const upstream of upstreams) upstream.terminate();
      wss.close();
    },
  };
}

/** An HTTP answer instead of the WebSocket handshake; the JSON says why. */
function refuse(socket: Duplex, status: 401 | 403 | 500, reason: string): void {
  const error = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'server_error';
  const body = JSON.stringify({ error, error_description: reason });
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAck(message: string): boolean {
  try {
    const parsed: unknown = JSON.parse(message);
    return isRecord(parsed) && parsed.type === 'connection_ack';
  } catch {
    return false;
  }
}

/** Whether a close frame may carry the code (RFC 6455 §7.4; ws refuses the others). */
function sendable(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999)
  );
}

function truncate(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  // Cut on a character boundary: a close reason must be valid UTF-8.
  return new TextDecoder().decode(bytes.subarray(0, MAX_REASON_BYTES)).replace(/\uFFFD$/, '');
}
