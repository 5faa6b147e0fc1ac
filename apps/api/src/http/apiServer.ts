import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  bearerToken,
  followRevocations,
  RevocationList,
  UaaTokenVerifier,
  type TokenVerifier,
  type VerifiedToken,
} from '@openpks/auth';
import type { DirectorClient } from '@openpks/bosh';
import { PubSub, migrate, type Database } from '@openpks/db';
import {
  describeInputError,
  describeInputErrors,
  errorExtensionsOf,
  InputError,
  InputErrors,
  isPksError,
  UnauthenticatedError,
  type Plan,
} from '@openpks/domain';
import type { NsxProxy, NsxTopology } from '@openpks/nsx';
import type { ServerCredentials } from '@openpks/pki';
import { listenHttps, type Logger } from '@openpks/role';
import { BrokerClient, type BrokerClientOptions } from '@openpks/broker';
import { requireCaller, type ApiContext, type Services } from '../graphql/context.js';
import { graphql } from '../graphql/graphqlRealm.js';
import { buildApiSchema } from '../graphql/schema.js';
import { access, callerOf, type Caller } from '../services/access.js';
import { ClusterFeed } from '../services/clusterFeed.js';
import { OperationService } from '../services/operationService.js';
import { ClusterService } from '../services/clusterService.js';
import { ClusterQueries } from '../services/clusterQueries.js';
import { BrokerCatalog } from '../services/brokerCatalog.js';
import { Audit } from '../services/audit.js';
import { ClusterObserver } from '../clusters/observer.js';
import { PKS_VERSION } from '../clusters/versions.js';
import { Operations } from '../operations/operations.js';
import { ComputeProfileService } from '../services/computeProfileService.js';
import { QuotaService } from '../services/quotaService.js';
import { NetworkProfileService } from '../services/networkProfileService.js';
import { restRouter } from '../rest/restRouter.js';
import { TaskService } from '../services/taskService.js';
import { apiMigrations } from '../store/migrations.js';
import { OperationTracker } from '../tracker/operationTracker.js';
import {
  AnswerCache,
  READS_CHANGED_CHANNEL,
  type AnswerCacheOptions,
  type GraphQLRequestBody,
} from './answerCache.js';
import { DEFAULT_QUERY_LIMITS, QueryCostGuard, queryLimitRules, type QueryLimits } from './guards.js';
import { Metrics } from './metrics.js';
import { readBody } from './readBody.js';
import { inputErrorOfVariable } from './variableErrors.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  credentials: ServerCredentials;
  db: Database;
  logger: Logger;
  plans: readonly Plan[];
  /** UAA: the token issuer, and the CA of its certificate (for `/token_keys` and the password grant). */
  uaa: { url: string; issuer: string; ca?: string | undefined };
  broker: BrokerClientOptions;
  /** Read-only Director access for live progress and master IPs. */
  director?: DirectorClient | undefined;
  /** This replica's name (default: random). */
  holder?: string;
  leaseMs?: number;
  poll?: { initialMs: number; maxMs: number };
  /** How long the broker may not answer one operation before it ends failed (default 15 minutes). */
  brokerUnreachableMs?: number;
  /** How long the broker may report one operation in progress before it ends failed (default 24 hours). */
  pollingDeadlineMs?: number;
  concurrency?: number;
  limits?: QueryLimits;
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Another verifier (tests of clock edges); default: UAA's keys. */
  verifier?: TokenVerifier;
  /** How the broker's upgrade runs are followed (defaults: read back from 200 ms backing off to 2 s; new runs looked for every 5 s). */
  upgradeRuns?: { poll?: { initialMs: number; maxMs: number }; discoverMs?: number };
  /** NSX-T: the proxy step run around the broker, and the installation's objects profiles must respect. */
  nsx?: { proxy: NsxProxy; topology: NsxTopology } | undefined;
  /** Serialised answers of read-only queries, invalidated by every write (default on; `false` turns it off). */
  answerCache?: AnswerCacheOptions | false;
}

export interface ApiServer {
  url: string;
  port: number;
  graphqlUrl: string;
  tracker: OperationTracker;
  metrics: Metrics;
  stop(): Promise<void>;
}

const WS_UNAUTHORIZED = 4401;
/**
 * Tokens meant for the PKS API: UAA puts `pks` in `aud` for any pks.* scope or authority, and its client
 * id for every token of PKS's own clients (a signed-in user without PKS scopes is then FORBIDDEN, not
 * a stranger). A token UAA minted for something else, e.g. its admin client, is refused as such.
 */
export const PKS_API_AUDIENCES = ['pks', 'pks_cli', 'pks_console', 'pks_cluster_client'] as const;

/** What an HTTP request's operation turned out to be, for the answer cache. */
interface RequestOutcome {
  operation: string;
  errors: boolean;
}
// Apollo hands resolvers and plugins a shallow copy of the context: the report travels by reference.
const OUTCOME = Symbol('requestOutcome');
type HttpContext = ApiContext & { [OUTCOME]?: RequestOutcome };

/** The PKS API on one HTTPS port: GraphQL over HTTP and graphql-ws at `/graphql`, plus `/readyz`, `/metrics`. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { db, logger } = options;
  await migrate(db, { schema: 'api', migrations: apiMigrations });
  const holder = options.holder ?? `api-${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 15_000;
  const metrics = new Metrics();
  const pubsub = new PubSub(db, { logger: dbLogger(logger) });
  const broker = new BrokerClient(options.broker);
  // UAA's published revocations reach every token this replica accepts, cached or on an open socket.
  const revocations = new RevocationList();
  const stopFollowingRevocations = await followRevocations(db, revocations, {
    onError: (error) => logger.warn({ err: error }, 'reading UAA revocations failed; retrying every second'),
  });
  const verifier =
    options.verifier ??
    new UaaTokenVerifier({
      issuer: options.uaa.issuer,
      audience: [...PKS_API_AUDIENCES],
      revocations,
      ...(options.uaa.ca ? { ca: options.uaa.ca } : {}),
    });

  const audit = new Audit(db, logger);
  const observer = new ClusterObserver(db, options.director, logger);
  // Late-bound: the operation owner wakes the trackers (this one and, on the db channel, the others').
  let wakeTrackers = () => {};
  const operations = new Operations({
    db,
    holder,
    leaseMs,
    logger,
    audit,
    observe: observer.observe,
    nsx: options.nsx?.proxy,
    metrics,
    // An operation of an upgrade run ended: the broker's run moves on, so read it back now.
    onFinished: (op) => {
      if (op.taskId !== null) taskService.poke();
    },
    wake: () => wakeTrackers(),
    deadlines: {
      brokerUnreachableMs: options.brokerUnreachableMs,
      pollingMs: options.pollingDeadlineMs,
    },
  });
  const tracker = new OperationTracker({
    db,
    pubsub,
    broker,
    operations,
    director: options.director,
    leaseMs,
    poll: options.poll ?? { initialMs: 250, maxMs: 5_000 },
    concurrency: options.concurrency ?? 50,
    logger,
    metrics,
  });
  wakeTrackers = () => {
    tracker.wake();
    void tracker.announce().catch(() => undefined);
  };
  const queries = new ClusterQueries({ db, plans: options.plans, observer });
  const quotas = new QuotaService(db, options.plans, audit);
  const clusterService = new ClusterService({
    db,
    plans: options.plans,
    broker,
    operations,
    catalog: new BrokerCatalog(broker),
    audit,
    queries,
    quotas,
    clusterTokens: (userName, password) => clusterTokens(options.uaa, userName, password),
    nsx: options.nsx?.proxy,
    logger,
  });
  const taskService = new TaskService({
    db,
    pubsub,
    clusterService,
    operations,
    audit,
    broker,
    logger,
    holder,
    leaseMs,
    ...options.upgradeRuns,
  });
  const networkProfiles = new NetworkProfileService(db, audit, options.nsx?.topology);
  const services: Services = {
    clusters: queries,
    changes: clusterService,
    feed: new ClusterFeed({ db, pubsub, tasks: taskService }),
    operations: new OperationService({ db, operations, tracker, audit }),
    networkProfiles,
    quotas,
    tasks: taskService,
    pubsub,
    director: options.director,
    auditEvents: (caller: Caller, limit: number) => audit.list(caller, limit),
  };

  const schema = await buildApiSchema();
  const limits = options.limits ?? DEFAULT_QUERY_LIMITS;
  const rules = queryLimitRules(limits);
  const costs = new QueryCostGuard({ schema, plans: options.plans, limits });
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;

  const authenticate = async (
    authorization: string | undefined,
  ): Promise<Pick<ApiContext, 'caller' | 'authError'>> => {
    if (authorization === undefined || authorization === '') return { caller: undefined };
    const token = bearerToken(authorization);
    if (token === undefined)
      return { caller: undefined, authError: new UnauthenticatedError('malformed Authorization header') };
    try {
      return { caller: callerOf(await verifier.verify(token)) };
    } catch (error) {
      if (isPksError(error) && error.code === 'UNAUTHENTICATED')
        return { caller: undefined, authError: error };
      // Not the token's fault (UAA's keys unreachable, say): still no caller, and the operator learns why.
      logger.error({ err: error }, 'could not verify a bearer token');
      return {
        caller: undefined,
        authError: new UnauthenticatedError('the token could not be verified now; try again', {
          cause: error,
        }),
      };
    }
  };

  // PKS v1 over REST: a second transport onto the same services, callers and scopes as GraphQL.
  const rest = restRouter({
    services: {
      clusters: queries,
      changes: clusterService,
      networkProfiles,
      computeProfiles: new ComputeProfileService(db, audit, options.plans),
      tasks: taskService,
      quotas,
    },
    authenticate,
    maxBodyBytes,
    logger,
    changed: () => answers.invalidate(),
    count: (route, status) => metrics.restRequests.inc({ route, status: String(status) }),
  });

  const requireAuthentication: ApolloServerPlugin<ApiContext> = {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      let operation = 'unknown';
      return {
        // Everything, introspection included, needs a valid token.
        async didResolveOperation(request) {
          operation = request.operation?.operation ?? 'unknown';
          requireCaller(contextValue);
        },
        async willSendResponse(request) {
          const body = request.response.body;
          const errors =
            Boolean(request.errors?.length) ||
            body.kind !== 'single' ||
            Boolean(body.singleResult.errors?.length);
          const report = (contextValue as HttpContext)[OUTCOME];
          if (report) Object.assign(report, { operation, errors });
          const outcome = request.errors?.length ? 'error' : 'ok';
          metrics.requests.inc({ operation, outcome });
          metrics.requestSeconds.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  // After validation, before execution: the operation is known and the variables are at hand, so lists are
  // priced by what will really be asked; nothing has run yet.
  const limitCost: ApolloServerPlugin<ApiContext> = {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation(request) {
          // A subscription has no answer to give over HTTP (its resolvers expect a stream); say where it works.
          if (request.operation?.operation === 'subscription') {
            const error = new InputError(
              'query',
              'a subscription is served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP',
              { allowed: 'queries and mutations over HTTP; subscriptions over WebSocket' },
            );
            throw new graphql.GraphQLError(describeInputError(error), {
              originalError: error,
              extensions: { ...errorExtensionsOf(error), http: { status: 400 } },
            });
          }
          const caller = contextValue.caller;
          if (caller === undefined || request.operation === undefined) return;
          const refusal = await costs.check({
            document: request.document,
            operation: request.operation,
            variables: request.request.variables,
            visibleClusters: () => queries.countVisible(caller),
          });
          // Apollo answers an error thrown here with 500 unless told otherwise; this is the caller's query.
          if (refusal !== undefined) {
            throw new graphql.GraphQLError(refusal.message, {
              originalError: refusal.originalError,
              extensions: { ...refusal.extensions, http: { status: 400 } },
            });
          }
        },
      };
    },
  };

  // The listener must exist for the drain plugin; Apollo is started before the first request arrives.
  const listener = await listenHttps({
    role: 'api',
    host: options.host,
    port: options.port,
    credentials: options.credentials,
    logger,
    healthChecks: { database: async () => void (await db.query('SELECT 1')) },
    handler: (req, res) => handle(req, res),
  });

  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: true,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    validationRules: rules,
    includeStacktraceInErrorResponses: false,
    // pks-server owns SIGINT/SIGTERM and drains every role in order; Apollo's own handlers (installed
    // outside tests) would stop this server and re-raise the signal before the other roles drain.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatError(formatted, error, logger),
    plugins: [
      requireAuthentication,
      limitCost,
      ApolloServerPluginDrainHttpServer({ httpServer: listener.server }),
      // No HTTP caching of answers here (every answer depends on the caller), and the plugin's per-field
      // instrumentation was a tenth of a large clusters query (bench/ANALYSIS.md).
      ApolloServerPluginCacheControlDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await disposeWs();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const answers = new AnswerCache(schema, options.answerCache === false ? {} : options.answerCache);
  const unsubscribeAnswers =
    options.answerCache === false
      ? undefined
      : await pubsub
          .subscribe(READS_CHANGED_CHANNEL, () => answers.invalidate())
          .then(
            (unsubscribe) => {
              answers.enable();
              return unsubscribe;
            },
            (error: unknown) => {
              logger.warn(
                { err: error },
                'no change notices from the database: query answers are not cached',
              );
              return undefined;
            },
          );

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes });
  listener.server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/graphql') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const expiryTimers = new WeakMap<object, NodeJS.Timeout>();
  // Every open socket with the token it was opened on, so a revocation closes exactly the ones it names.
  const openSockets = new Map<WebSocket, VerifiedToken>();
  const stopWatchingRevocations = revocations.onRevocation(() => {
    for (const [socket, token] of openSockets) {
      const reason = revocations.revokes(token);
      if (reason !== undefined) socket.close(WS_UNAUTHORIZED, `Unauthorized: ${reason}`.slice(0, 123));
    }
  });
  const wsServer = useServer<Record<string, unknown> | undefined, { caller?: Caller; token?: VerifiedToken }>(
    {
      schema,
      // What graphql-ws does by default (parse, validate), plus the cost limit: it needs the variables and
      // the caller, which its `validate` hook does not get. Errors go back as the operation's `error`.
      onSubscribe: async (ctx, _id, payload) => {
        const document = graphql.parse(payload.query);
        const invalid = graphql.validate(schema, document, [...graphql.specifiedRules, ...rules]);
        if (invalid.length > 0) return invalid;
        const operation = graphql.getOperationAST(document, payload.operationName);
        const caller = (ctx.extra as { caller?: Caller }).caller;
        if (operation && caller !== undefined) {
          const refusal = await costs.check({
            document,
            operation,
            variables: payload.variables ?? undefined,
            visibleClusters: () => queries.countVisible(caller),
          });
          if (refusal !== undefined) return [refusal];
        }
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const raw =
          typeof params.authorization === 'string'
            ? params.authorization
            : typeof params.Authorization === 'string'
              ? params.Authorization
              : typeof params.token === 'string'
                ? `Bearer ${params.token}`
                : undefined;
        const { caller, authError } = await authenticate(raw);
        const socket = (ctx.extra as unknown as { socket: WebSocket }).socket;
        if (caller === undefined) {
          // graphql-ws closes a refused connection with 4403 Forbidden; a token that is missing or not
          // trusted is 4401, as for one that expires later, so clients know to sign in again. A close
          // reason holds at most 123 bytes.
          const reason = authError?.message ?? 'a UAA bearer token is required';
          socket.close(WS_UNAUTHORIZED, `Unauthorized: ${reason}`.slice(0, 123));
          return false;
        }
        (ctx.extra as { caller?: Caller }).caller = caller;
        // An expired token ends the socket: subscriptions never outlive the access they were granted on.
        const ms = caller.token.expiresAt.getTime() - Date.now();
        const timer = setTimeout(
          () => socket.close(WS_UNAUTHORIZED, 'Unauthorized: token expired'),
          Math.max(0, ms),
        );
        timer.unref();
        expiryTimers.set(ctx, timer);
        openSockets.set(socket, caller.token);
        socket.once('close', () => {
          clearTimeout(timer);
          openSockets.delete(socket);
        });
        // Revoked between verification and now (the check above may have used a cached answer).
        const revoked = revocations.revokes(caller.token);
        if (revoked !== undefined) {
          socket.close(WS_UNAUTHORIZED, `Unauthorized: ${revoked}`.slice(0, 123));
          return false;
        }
        return true;
      },
      context: (ctx): ApiContext => ({ caller: (ctx.extra as { caller?: Caller }).caller, services }),
      onError: (_ctx, _id, _payload, errors) => {
        for (const error of errors) logger.debug({ err: error }, 'subscription error');
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if ('errors' in result && result.errors) {
          return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, logger)) };
        }
        return result;
      },
    },
    wss,
  );
  const disposeWs = async () => {
    await wsServer.dispose();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://api.invalid');
    if (url.pathname === '/readyz') {
      const ready = await db.query('SELECT 1').then(
        () => true,
        () => false,
      );
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ role: 'api', status: ready ? 'ready' : 'not ready', following: tracker.following }),
      );
      return;
    }
    if (url.pathname === '/info' && req.method === 'GET') {
      // Unauthenticated, like the BOSH Director's /info: a client finds the UAA to log in against here.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(
        JSON.stringify({
          name: 'openpks',
          pks_version: PKS_VERSION,
          uaa: { url: options.uaa.url, issuer: options.uaa.issuer },
        }),
      );
      return;
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      // Operation counts, cluster names in labels and timings are for operators, as kube-apiserver
      // keeps /metrics behind RBAC: a caller who reads every cluster (pks.clusters.admin or
      // pks.clusters.admin.read; a Prometheus scraper is a UAA client with one as an authority).
      const { caller, authError } = await authenticate(req.headers.authorization);
      if (caller === undefined || !access.readsAll(caller)) {
        const status = caller === undefined ? 401 : 403;
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
          ...(status === 401 ? { 'WWW-Authenticate': bearerChallenge(authError?.message) } : {}),
        });
        res.end(
          JSON.stringify({
            error: status === 401 ? 'unauthorized' : 'forbidden',
            error_description:
              status === 401
                ? (authError?.message ?? 'a UAA bearer token is required')
                : '/metrics needs the pks.clusters.admin or pks.clusters.admin.read scope',
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (url.pathname === '/v1' || url.pathname.startsWith('/v1/')) {
      await rest(req, res, url);
      return;
    }
    if (url.pathname !== '/graphql') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too large') {
      res.writeHead(413, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(
        JSON.stringify({
          errors: [
            { message: `request body over ${maxBodyBytes} bytes`, extensions: { code: 'BAD_USER_INPUT' } },
          ],
        }),
      );
      return;
    }
    let parsed: unknown = body;
    if ((req.headers['content-type'] ?? '').includes('application/json') && body !== '') {
      try {
        parsed = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ message: 'the body is not JSON', extensions: { code: 'BAD_USER_INPUT' } }],
          }),
        );
        return;
      }
    }
    const outcome: RequestOutcome = { operation: 'unknown', errors: true };
    const context: HttpContext = {
      ...(await authenticate(req.headers.authorization)),
      services,
      [OUTCOME]: outcome,
    };
    // Everything, introspection included, needs a valid token; refusing here, before Apollo, keeps an
    // untrusted token a 401 (RFC 6750) rather than an error inside a request pipeline that answers 500.
    if (context.caller === undefined) {
      const error = context.authError ?? new UnauthenticatedError('a UAA bearer token is required');
      metrics.requests.inc({ operation: 'unknown', outcome: 'unauthenticated' });
      res.writeHead(401, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'WWW-Authenticate': bearerChallenge(context.authError === undefined ? undefined : error.message),
      });
      res.end(JSON.stringify({ errors: [{ message: error.message, extensions: errorExtensionsOf(error) }] }));
      return;
    }
    // Only JSON POSTs: Apollo's CSRF prevention has nothing to say about them, and GETs stay uncached.
    const cacheKey =
      context.caller !== undefined &&
      req.method === 'POST' &&
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed)
        ? answers.keyOf(parsed as GraphQLRequestBody, context.caller)
        : undefined;
    if (cacheKey !== undefined) {
      const cached = answers.get(cacheKey);
      if (cached !== undefined) {
        metrics.answerCache.inc({ result: 'hit' });
        metrics.requests.inc({ operation: 'query', outcome: 'ok' });
        for (const [key, value] of cached.headers) res.setHeader(key, value);
        res.statusCode = cached.status;
        res.end(cached.body);
        return;
      }
      metrics.answerCache.inc({ result: 'miss' });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const generation = answers.generation;
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsed },
      context: async () => context,
    });
    // A change through this replica is visible to its next read at once, before the notice comes back.
    if (outcome.operation === 'mutation') answers.invalidate();
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      if (
        cacheKey !== undefined &&
        outcome.operation === 'query' &&
        !outcome.errors &&
        res.statusCode === 200
      ) {
        const body = Buffer.from(result.body.string, 'utf8');
        const stored = answers.set(cacheKey, generation, {
          status: 200,
          headers: [...result.headers].map(([key, value]) => [key, value] as const),
          body,
        });
        if (stored) metrics.answerCache.inc({ result: 'stored' });
        res.end(body);
      } else {
        res.end(result.body.string);
      }
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  await tracker.start();
  taskService.start();
  logger.info({ url: listener.url, holder }, 'PKS API listening');

  let stopping: Promise<void> | undefined;
  return {
    url: listener.url,
    port: listener.port,
    graphqlUrl: `${listener.url}/graphql`,
    tracker,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        stopWatchingRevocations();
        await stopFollowingRevocations();
        await taskService.stop();
        await tracker.stop();
        answers.disable();
        await unsubscribeAnswers?.();
        await apollo.stop();
        await listener.close();
        await pubsub.close();
        broker.close();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })()),
  };
}

/** RFC 6750 §3: a bare challenge when no token came, `invalid_token` with the reason when one failed. */
function bearerChallenge(reason: string | undefined): string {
  if (reason === undefined) return 'Bearer realm="pks"';
  return `Bearer realm="pks", error="invalid_token", error_description="${reason.replace(/["\\]/g, "'")}"`;
}

/**
 * The one place GraphQL answers get their errors' shape. Bad input reads as the domain's rule
 * (`<field path>: <reason> (allowed: …)`, one line per field) in `message`, with the parts in `extensions`
 * for clients that name fields their own way (the CLI names its flags).
 */
function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  if (isPksError(original)) {
    if (original.code === 'INTERNAL') {
      logger.error({ err: original }, 'internal error in a GraphQL operation');
      return { message: 'internal error', path: formatted.path, extensions: errorExtensionsOf(original) };
    }
    return {
      message:
        original instanceof InputError || original instanceof InputErrors
          ? describeInputErrors(original)
          : original.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: errorExtensionsOf(original),
    };
  }
  const code = formatted.extensions?.code;
  // A query over a limit is the caller's mistake like any other bad input (Apollo files it as a validation failure).
  if (formatted.extensions?.limit !== undefined) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
  }
  // A variable graphql-js could not coerce names its field like a service's InputError does.
  const variable = code === 'BAD_USER_INPUT' ? inputErrorOfVariable(formatted.message) : undefined;
  if (variable !== undefined) {
    return {
      message: describeInputError(variable),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: errorExtensionsOf(variable),
    };
  }
  if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
    logger.error({ err: original }, 'unexpected error in a GraphQL operation');
    return {
      message: 'internal error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL' },
    };
  }
  return formatted;
}

/** The user's id and refresh tokens for `pks_cluster_client` (UAA password grant), for the kubeconfig. */
async function clusterTokens(
  uaa: { url: string; ca?: string | undefined },
  userName: string,
  password: string,
): Promise<{ idToken: string; refreshToken: string }> {
  const { request } = await import('node:https');
  const form = new URLSearchParams({
    grant_type: 'password',
    username: userName,
    password,
    client_id: 'pks_cluster_client',
    client_secret: '',
    response_type: 'id_token',
    scope: 'openid',
  }).toString();
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      new URL('/oauth/token', uaa.url),
      {
        method: 'POST',
        ...(uaa.ca ? { ca: uaa.ca } : {}),
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          Authorization: `Basic ${Buffer.from('pks_cluster_client:').toString('base64')}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(form);
  });
  // A wrong password is bad input of this mutation, not a sign that the caller's own token is bad (which
  // UNAUTHENTICATED tells clients: the CLI would refresh its token and say "not logged in").
  if (body.status === 400 || body.status === 401) {
    throw new InputError('password', 'was rejected by UAA; check it and try again');
  }
  if (body.status !== 200) {
    throw new UnauthenticatedError('UAA refused the password for the kubeconfig tokens');
  }
  const json = JSON.parse(body.text) as { id_token?: string; refresh_token?: string };
  if (!json.id_token || !json.refresh_token) {
    throw new UnauthenticatedError('UAA issued no id/refresh token for pks_cluster_client');
  }
  return { idToken: json.id_token, refreshToken: json.refresh_token };
}

function dbLogger(logger: Logger) {
  return {
    info: (message: string, fields?: Record<string, unknown>) => logger.info(fields ?? {}, message),
    warn: (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message),
    error: (message: string, fields?: Record<string, unknown>) => logger.error(fields ?? {}, message),
  };
}
