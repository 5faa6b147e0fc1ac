import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { encode, type JWT } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApi, type TestApi } from '@openpks/api/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, TestClock, type TestUaa } from '@openpks/uaa/testing';
import { CONSOLE_CALLBACK, consoleSignIn } from '../testing/consoleSignIn';
import {
  createGraphQLSocketProxy,
  GRAPHQL_WS_PROTOCOL,
  pageCloseOf,
  withConnectionToken,
  type GraphQLSocketProxy,
} from './graphqlSocket.js';
import { sessionAccessToken, SessionRefusal } from './sessionCookie.js';
import { REFRESH_ERROR } from './sessionTokens.js';

// The page's GraphQL WebSocket carries no token (issue 16 item 6): the console's server authenticates
// the upgrade by the session cookie and hands the API the session's access token in `connection_init`.
// A real UAA, a real API and the console's proxy on loopback; the "page" is a WebSocket client that
// sends what a browser on the console's origin sends: Origin and the session cookie.

const SECRET = 'a-test-session-secret-of-forty-eight-characters!';
const COOKIE = 'next-auth.session-token';
const now = () => Math.floor(Date.now() / 1000);

describe('withConnectionToken', () => {
  it('puts the session’s token into connection_init, replacing whatever the page sent', () => {
    expect(JSON.parse(withConnectionToken('{"type":"connection_init"}', 'T'))).toEqual({
      type: 'connection_init',
      payload: { authorization: 'Bearer T' },
    });
    const forged = JSON.stringify({
      type: 'connection_init',
      payload: { Authorization: 'Bearer x', token: 'y', authorization: 'Bearer z', locale: 'en' },
    });
    expect(JSON.parse(withConnectionToken(forged, 'T'))).toEqual({
      type: 'connection_init',
      payload: { locale: 'en', authorization: 'Bearer T' },
    });
  });

  it('leaves every other message as it is', () => {
    const subscribe = '{"id":"1","type":"subscribe","payload":{"query":"{ plans { name } }"}}';
    expect(withConnectionToken(subscribe, 'T')).toBe(subscribe);
    expect(withConnectionToken('not json', 'T')).toBe('not json');
    expect(withConnectionToken('[1]', 'T')).toBe('[1]');
  });
});

describe('pageCloseOf', () => {
  it('turns a token lapsing on an open socket, and a lost API, into "try again later"', () => {
    expect(pageCloseOf(4401, true)).toBe(1013);
    expect(pageCloseOf(1006, true)).toBe(1013);
    expect(pageCloseOf(1005, false)).toBe(1013);
  });

  it('passes the API’s other closes on, a token refused at connection_init included', () => {
    expect(pageCloseOf(4401, false)).toBe(4401);
    expect(pageCloseOf(1000, true)).toBe(1000);
    expect(pageCloseOf(4400, true)).toBe(4400);
    expect(pageCloseOf(4403, false)).toBe(4403);
  });
});

describe.each(testDatabaseBackends())('the console’s GraphQL WebSocket on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;
  const clock = new TestClock();
  let server: Server;
  let proxy: GraphQLSocketProxy;
  let origin: string;
  let wsUrl: string;
  const alice = { username: 'alice', password: 'alice-password-1' };

  /** The console's server, cut down to the upgrade path, wired as main.ts wires it. */
  const startConsole = async (apiUrl: string) => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://localhost:${(http.address() as AddressInfo).port}`;
    const socketProxy = createGraphQLSocketProxy({
      origin: url,
      apiUrl,
      ca: api.caPem,
      log: () => undefined,
      credential: (req) =>
        sessionAccessToken(req.headers, {
          secret: SECRET,
          secureCookie: false,
          refresh: { uaaUrl: uaa.url, fetch: (u, init) => uaa.fetch(u, init) },
        }),
    });
    http.on('upgrade', (req, socket, head) => socketProxy.handleUpgrade(req, socket, head));
    return { http, url, proxy: socketProxy };
  };

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db, clock, consoleRedirectUris: [CONSOLE_CALLBACK] });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: 'https://127.0.0.1:1', username: 'u', password: 'p' },
    });
    await uaa.createUser('alice', alice.password, ['pks.clusters.manage']);
    ({ http: server, url: origin, proxy } = await startConsole(api.url));
    wsUrl = `${origin.replace(/^http/, 'ws')}/api/graphql/ws`;
  });
  afterAll(async () => {
    proxy?.close();
    await new Promise((resolve) => server?.close(resolve));
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  const cookieOf = async (token: JWT) => `${COOKIE}=${await encode({ token, secret: SECRET })}`;

  /** A graphql-ws client as the console's page runs it: no connection params unless a test adds some. */
  const pageClient = (headers: Record<string, string>, connectionParams?: Record<string, unknown>): Client =>
    createClient({
      url: wsUrl,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers });
        }
      },
      ...(connectionParams ? { connectionParams } : {}),
      retryAttempts: 0,
      lazy: true,
    });

  /** One operation over the socket; resolves with its first result. */
  const once = (client: Client, query: string) =>
    new Promise<{ data?: unknown; errors?: unknown }>((resolve, reject) => {
      const stop = client.subscribe(
        { query },
        {
          next: (value) => {
            stop();
            resolve(value as { data?: unknown; errors?: unknown });
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });

  /** Opens a raw WebSocket; resolves with the HTTP answer when the handshake is refused. */
  const handshake = (headers: Record<string, string>) =>
    new Promise<{ opened: true; ws: WebSocket } | { opened: false; status: number; body: unknown }>(
      (resolve, reject) => {
        const ws = new WebSocket(wsUrl, GRAPHQL_WS_PROTOCOL, { headers });
        ws.once('open', () => resolve({ opened: true, ws }));
        ws.once('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () =>
            resolve({ opened: false, status: res.statusCode ?? 0, body: JSON.parse(text) }),
          );
        });
        ws.once('error', (error) => {
          if (!/Unexpected server response/.test(error.message)) reject(error);
        });
      },
    );

  /** Sends connection_init on a raw socket; resolves with the ack or the close. */
  const initialise = (ws: WebSocket, payload: Record<string, unknown> = {}) =>
    new Promise<{ acked: boolean; closed: Promise<{ code: number; reason: string }> }>((resolve) => {
      const closed = new Promise<{ code: number; reason: string }>((resolveClosed) =>
        ws.once('close', (code, reason) => {
          resolveClosed({ code, reason: reason.toString() });
          resolve({ acked: false, closed });
        }),
      );
      ws.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { type: string }).type === 'connection_ack')
          resolve({ acked: true, closed });
      });
      ws.send(JSON.stringify({ type: 'connection_init', payload }));
    });

  it('serves a page that sends no token, as the session’s user', async () => {
    const session = await consoleSignIn(uaa, alice);
    const client = pageClient({ Origin: origin, Cookie: await cookieOf(session) });
    try {
      // The API answers only authenticated callers (UNAUTHENTICATED otherwise).
      expect(await once(client, '{ clusters { name } }')).toEqual({ data: { clusters: [] } });
    } finally {
      await client.dispose();
    }
  });

  it('ignores a token the page puts into connection_init: the session’s is the one the API gets', async () => {
    const session = await consoleSignIn(uaa, alice);
    const client = pageClient(
      { Origin: origin, Cookie: await cookieOf(session) },
      { authorization: 'Bearer not-a-token' },
    );
    try {
      expect(await once(client, '{ clusters { name } }')).toEqual({ data: { clusters: [] } });
    } finally {
      await client.dispose();
    }
  });

  it('refuses the upgrade without a session cookie: 401 with the reason, before any WebSocket', async () => {
    const answer = await handshake({ Origin: origin });
    expect(answer).toEqual({
      opened: false,
      status: 401,
      body: { error: 'unauthorized', error_description: SessionRefusal.NO_SESSION },
    });
    const forged = await handshake({ Origin: origin, Cookie: `${COOKIE}=not-a-session` });
    expect(forged).toMatchObject({ opened: false, status: 401 });
  });

  it('refuses the upgrade from another origin, session cookie or not (cross-site WebSocket hijacking)', async () => {
    const cookie = await cookieOf(await consoleSignIn(uaa, alice));
    for (const headers of [
      { Origin: 'https://evil.example', Cookie: cookie },
      { Origin: origin.replace('localhost', '127.0.0.1'), Cookie: cookie },
      { Cookie: cookie },
    ]) {
      const answer = await handshake(headers);
      expect(answer).toMatchObject({ opened: false, status: 403, body: { error: 'forbidden' } });
    }
  });

  it('refuses a session whose refresh has failed', async () => {
    const session = { ...(await consoleSignIn(uaa, alice)), error: REFRESH_ERROR };
    const answer = await handshake({ Origin: origin, Cookie: await cookieOf(session) });
    expect(answer).toEqual({
      opened: false,
      status: 401,
      body: { error: 'unauthorized', error_description: SessionRefusal.SESSION_ENDED },
    });
  });

  it('refreshes an expired access token at UAA before it connects', async () => {
    const session = await consoleSignIn(uaa, alice);
    // Expired at UAA's clock, so the API would refuse it (4401) if it were passed on unrefreshed.
    clock.advance(-7200);
    const old = await consoleSignIn(uaa, alice);
    clock.advance(7200);
    const expired = { ...session, accessToken: old.accessToken, expiresAt: now() - 3600 };
    const client = pageClient({ Origin: origin, Cookie: await cookieOf(expired) });
    try {
      expect(await once(client, '{ clusters { name } }')).toEqual({ data: { clusters: [] } });
    } finally {
      await client.dispose();
    }
  });

  it('tells the page to reconnect when the token lapses on an open socket, and not when it was refused', async () => {
    // A token UAA issued to expire in about three seconds while the session believes it fresh.
    const probe = await consoleSignIn(uaa, alice);
    const validity = claimsOf(probe.accessToken!).exp - claimsOf(probe.accessToken!).iat;
    clock.advance(-(validity - 3));
    const lapsing = await consoleSignIn(uaa, alice);
    clock.advance(validity - 3);
    const cookie = await cookieOf({ ...lapsing, expiresAt: now() + validity });

    const open = await handshake({ Origin: origin, Cookie: cookie });
    if (!open.opened) throw new Error(`the upgrade was refused: ${JSON.stringify(open)}`);
    const first = await initialise(open.ws);
    expect(first.acked).toBe(true);
    expect(await first.closed).toEqual({ code: 1013, reason: 'the access token expired; reconnect' });

    // A token the API refuses at connection_init (here one it cannot verify) is final: 4401 as it is.
    const untrusted = await handshake({
      Origin: origin,
      Cookie: await cookieOf({ ...lapsing, accessToken: 'not-a-jwt', expiresAt: now() + validity }),
    });
    if (!untrusted.opened) throw new Error(`the upgrade was refused: ${JSON.stringify(untrusted)}`);
    const refused = await initialise(untrusted.ws);
    expect(refused.acked).toBe(false);
    expect((await refused.closed).code).toBe(4401);
  });

  it('closes the page’s socket with "try again later" when the API cannot be reached', async () => {
    const unreachable = await startConsole('https://127.0.0.1:1');
    try {
      const cookie = await cookieOf(await consoleSignIn(uaa, alice));
      const ws = new WebSocket(
        `${unreachable.url.replace(/^http/, 'ws')}/api/graphql/ws`,
        GRAPHQL_WS_PROTOCOL,
        {
          headers: { Origin: unreachable.url, Cookie: cookie },
        },
      );
      const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      expect(closed).toEqual({ code: 1013, reason: 'the connection to the PKS API was lost; reconnect' });
    } finally {
      unreachable.proxy.close();
      await new Promise((resolve) => unreachable.http.close(resolve));
    }
  });
});

function claimsOf(jwt: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
}
