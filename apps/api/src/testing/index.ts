/**
 * The testing door of `@openpks/api`: an API on 127.0.0.1 (port 0) against a real UAA, a broker (by URL
 * and Basic-auth credentials) and optionally a Director, plus small GraphQL clients for HTTP and graphql-ws
 * that trust the installation CA.
 *
 * ```ts
 * const api = await startTestApi({ uaa, db, broker: { url: broker.url, ...broker.credentials } });
 * const { data, errors } = await api.query(token, '{ plans { name } }');
 * ```
 */
import { request } from 'node:https';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { UaaTokenVerifier } from '@openpks/auth';
import type { DirectorClient } from '@openpks/bosh';
import type { NsxProxy, NsxTopology } from '@openpks/nsx';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import type { Plan } from '@openpks/domain';
import { DataDirectory, TlsAuthority } from '@openpks/pki';
import { createLogger, type Logger } from '@openpks/role';
import { PKS_API_AUDIENCES, startApiServer, type ApiServer } from '../http/apiServer.js';
import type { AnswerCacheOptions } from '../http/answerCache.js';
import type { QueryLimits } from '../http/guards.js';
import { callerOf, type Caller } from '../services/access.js';

export interface TestUaaLike {
  url: string;
  issuer: string;
  caPem: string;
  dataDir: string;
}

export interface TestApiOptions {
  uaa: TestUaaLike;
  db: Database;
  broker: { url: string; username: string; password: string };
  director?: DirectorClient;
  plans?: readonly Plan[];
  holder?: string;
  leaseMs?: number;
  poll?: { initialMs: number; maxMs: number };
  brokerUnreachableMs?: number;
  pollingDeadlineMs?: number;
  limits?: QueryLimits;
  maxBodyBytes?: number;
  upgradeRuns?: { poll?: { initialMs: number; maxMs: number }; discoverMs?: number };
  logger?: Logger;
  /** NSX-T proxy step and installation topology (e.g. from `@openpks/nsx/testing`'s simulator). */
  nsx?: { proxy: NsxProxy; topology: NsxTopology };
  answerCache?: AnswerCacheOptions | false;
}

export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface TestApi {
  server: ApiServer;
  url: string;
  graphqlUrl: string;
  caPem: string;
  // Tests read results loosely (`data.cluster.name`); `any` keeps them short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<T = any>(
    token: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResult<T>>;
  /** A raw HTTPS request to the API (limits, CSRF, health endpoints). */
  raw(
    method: string,
    path: string,
    options?: { headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: string; headers: Record<string, unknown> }>;
  /** A graphql-ws client authenticated with `token` (the caller disposes it). */
  wsClient(token: string | undefined, onClose?: (event: { code: number; reason: string }) => void): Client;
  stop(): Promise<void>;
}

export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  const tls = await TlsAuthority.load(await DataDirectory.open(options.uaa.dataDir));
  const server = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    credentials: await tls.serverCredentials('api'),
    db: options.db,
    logger: options.logger ?? createLogger({ level: 'silent', pretty: false }),
    plans: options.plans ?? parseConfig({}).plans,
    uaa: { url: options.uaa.url, issuer: options.uaa.issuer, ca: options.uaa.caPem },
    broker: { ...options.broker, ca: tls.caPem },
    director: options.director,
    ...(options.holder ? { holder: options.holder } : {}),
    leaseMs: options.leaseMs ?? 3_000,
    poll: options.poll ?? { initialMs: 100, maxMs: 500 },
    ...(options.brokerUnreachableMs !== undefined
      ? { brokerUnreachableMs: options.brokerUnreachableMs }
      : {}),
    ...(options.pollingDeadlineMs !== undefined ? { pollingDeadlineMs: options.pollingDeadlineMs } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.nsx ? { nsx: options.nsx } : {}),
    ...(options.answerCache !== undefined ? { answerCache: options.answerCache } : {}),
    upgradeRuns: options.upgradeRuns ?? { poll: { initialMs: 100, maxMs: 500 }, discoverMs: 300 },
  });
  const caPem = tls.caPem;
  const raw: TestApi['raw'] = (method, path, req = {}) =>
    new Promise((resolve, reject) => {
      const r = request(new URL(path, server.url), { method, ca: caPem, headers: req.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(req.body);
    });
  return {
    server,
    url: server.url,
    graphqlUrl: server.graphqlUrl,
    caPem,
    raw,
    async query(token, query, variables) {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      const res = await raw('POST', '/graphql', { headers, body: JSON.stringify({ query, variables }) });
      return { status: res.status, ...(JSON.parse(res.body) as Omit<GraphQLResult<never>, 'status'>) };
    },
    wsClient(token, onClose) {
      return createClient({
        url: server.graphqlUrl.replace(/^https/, 'wss'),
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { ca: caPem });
          }
        },
        connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        onNonLazyError: () => {},
        lazy: false,
        on: onClose ? { closed: (event) => onClose(event as { code: number; reason: string }) } : {},
      });
    },
    stop: () => server.stop(),
  };
}

/** Collects what a graphql-ws subscription yields until `until` says stop (or it ends/fails). */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (item: T, all: T[]) => boolean,
): { items: T[]; done: Promise<T[]>; error: Promise<unknown> } {
  const items: T[] = [];
  let resolveError: (e: unknown) => void = () => {};
  const error = new Promise<unknown>((r) => (resolveError = r));
  const done = new Promise<T[]>((resolve, reject) => {
    const stop = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) {
            resolveError(value.errors);
            reject(Object.assign(new Error(value.errors[0]?.message), { errors: value.errors }));
            return;
          }
          const item = (value.data as Record<string, T>)[Object.keys(value.data as object)[0]!]!;
          items.push(item);
          if (until(item, items)) {
            stop();
            resolve(items);
          }
        },
        error: (e) => {
          resolveError(e);
          reject(e instanceof Error ? e : Object.assign(new Error('subscription failed'), { cause: e }));
        },
        complete: () => resolve(items),
      },
    );
  });
  done.catch(() => undefined);
  return { items, done, error };
}

export { startTestStack } from './stack.js';
export type { TestStack, TestStackOptions } from './stack.js';

/**
 * Records a cluster straight into the API's table, as if it had been created and succeeded earlier,
 * with a progress event per `steps` entry (`<name> <step>`): for tests of reads, not of operations.
 */
export async function seedCluster(
  db: Database,
  name: string,
  owner: string,
  steps: readonly string[] = [],
): Promise<string> {
  const { rows } = await db.query<{ uuid: string }>(
    `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version,
       last_action, last_action_state, last_action_description)
     VALUES (gen_random_uuid(), $1, $2, 'small', $1 || '.example.test', 3, '1.6.0-openpks', 'CREATE',
       'succeeded', 'Instance provisioning completed') RETURNING uuid`,
    [name, owner],
  );
  const uuid = rows[0]!.uuid;
  for (const step of steps) {
    await db.query(`INSERT INTO api.cluster_events (cluster_uuid, event) VALUES ($1, $2::jsonb)`, [
      uuid,
      JSON.stringify({
        clusterUuid: uuid,
        clusterName: name,
        owner,
        kind: 'PROGRESS',
        at: new Date().toISOString(),
        lastAction: 'CREATE',
        lastActionState: 'in progress',
        description: `${name} ${step}`,
      }),
    ]);
  }
  return uuid;
}

/**
 * `db` as the API would use it, with every statement's SQL pushed to `statements` (to tell one query per
 * list from one per cluster, or whether a resolver ran at all).
 */
export function recordingStatements(db: Database, statements: string[]): Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: unknown[]) => {
          statements.push(sql);
          return target.query(sql, params);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Database;
}

/** What `scopedCallers` needs of a test UAA (`@openpks/uaa/testing`'s `TestUaa`). */
export interface UsersUaa extends Pick<TestUaaLike, 'issuer' | 'caPem'> {
  createUser(username: string, password: string, groups?: readonly string[]): Promise<string>;
  tokenFor(request: {
    username: string;
    password: string;
    clientId?: string;
    scope?: string;
  }): Promise<{ access_token: string }>;
}

/**
 * The four callers the services' rules tell apart, made as users in the test UAA and signed in:
 * alice (pks.clusters.manage), root (pks.clusters.admin), auditor (pks.clusters.admin.read) and
 * nobody (signed in with no PKS scope).
 */
export async function scopedCallers(
  uaa: UsersUaa,
): Promise<Record<'alice' | 'root' | 'auditor' | 'nobody', Caller>> {
  const signIn = async (name: string, groups: string[], scope?: string) => {
    await uaa.createUser(name, `${name}-password-1`, groups);
    const request = { username: name, password: `${name}-password-1` };
    const token = await uaa.tokenFor(
      scope === undefined ? request : { ...request, clientId: 'pks_cluster_client', scope },
    );
    return token.access_token;
  };
  return verifiedCallers(uaa, {
    alice: await signIn('alice', ['pks.clusters.manage']),
    root: await signIn('root', ['pks.clusters.admin']),
    auditor: await signIn('auditor', ['pks.clusters.admin.read']),
    nobody: await signIn('nobody', [], 'openid'),
  });
}

/**
 * Callers for tests of the services themselves: each a real UAA token verified as the API verifies it
 * (issuer, keys, PKS audiences), so scopes and names are UAA's, never made up.
 */
export async function verifiedCallers<Who extends string>(
  uaa: Pick<TestUaaLike, 'issuer' | 'caPem'>,
  tokens: Record<Who, string>,
): Promise<Record<Who, Caller>> {
  const verifier = new UaaTokenVerifier({
    issuer: uaa.issuer,
    ca: uaa.caPem,
    audience: [...PKS_API_AUDIENCES],
  });
  const callers = {} as Record<Who, Caller>;
  for (const who of Object.keys(tokens) as Who[]) callers[who] = callerOf(await verifier.verify(tokens[who]));
  return callers;
}
