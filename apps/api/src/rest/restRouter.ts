import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  badInputsOf,
  describeInputError,
  httpStatusByCode,
  InputError,
  InputErrors,
  isPksError,
  UnauthenticatedError,
  type ErrorCode,
} from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { readBody } from '../http/readBody.js';
import type { Caller } from '../services/access.js';
import type { ClusterQueries } from '../services/clusterQueries.js';
import type { ClusterService } from '../services/clusterService.js';
import type { ComputeProfileService } from '../services/computeProfileService.js';
import type { NetworkProfileService } from '../services/networkProfileService.js';
import { pksQuotaOf, pksUsageOf, type QuotaService } from '../services/quotaService.js';
import type { TaskService } from '../services/taskService.js';
import { openApiDocument } from './openapi.js';
import {
  bindInput,
  computeProfileInput,
  createClusterInput,
  networkProfileInput,
  pksCluster,
  pksComputeProfile,
  pksNetworkProfile,
  pksPlan,
  pksTask,
  quotaInput,
  restFieldOf,
  updateClusterInput,
  upgradeClustersInput,
} from './pksJson.js';

/** The services the v1 routes call: the same ones, with the same Caller, as the GraphQL resolvers. */
export interface RestServices {
  clusters: ClusterQueries;
  changes: ClusterService;
  networkProfiles: NetworkProfileService;
  computeProfiles: ComputeProfileService;
  tasks: TaskService;
  quotas: QuotaService;
}

export interface RestRouterOptions {
  services: RestServices;
  /** The API's one bearer-token check (apiServer's `authenticate`). */
  authenticate: (authorization: string | undefined) => Promise<{ caller?: Caller; authError?: Error }>;
  maxBodyBytes: number;
  logger: Logger;
  /** A change went through: reads cached for GraphQL are stale now (before the database's notice arrives). */
  changed: () => void;
  /** Counts each answer by route and status. */
  count?: (route: string, status: number) => void;
}

/** What a handler gets: the authenticated caller, the path's `{params}`, the query and the parsed body. */
export interface RestRequest {
  caller: Caller;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The JSON body; undefined when none was sent. */
  body: unknown;
}

export interface RestAnswer {
  status: number;
  /** Sent as JSON; no body (and no Content-Type) when undefined. */
  body?: unknown;
}

/** Which request a service's field names are translated for (see pksJson's `restFieldOf`). */
type Request = 'create' | 'update' | 'other';

interface RouteBase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/v1/...` with `{param}` segments. */
  path: string;
  request?: Request;
}

/** A route for a caller with a valid token, or (only the OpenAPI description) for anyone. */
export type RestRoute =
  | (RouteBase & { handle(request: RestRequest): Promise<RestAnswer> })
  | (RouteBase & { public: () => Promise<RestAnswer> });

/** The PKS v1 routes, each a call of the service the GraphQL resolver of the same operation calls. */
export function pksRoutes(s: RestServices): RestRoute[] {
  const cluster = async (r: RestRequest) => pksCluster(await s.clusters.get(r.caller, r.params.name!));
  return [
    { method: 'GET', path: '/v1/openapi.json', public: async () => ok(openApiDocument()) },
    { method: 'GET', path: '/v1/plans', handle: async (r) => ok(s.clusters.plans(r.caller).map(pksPlan)) },
    {
      method: 'GET',
      path: '/v1/clusters',
      handle: async (r) => ok((await s.clusters.list(r.caller)).map((c) => pksCluster(c))),
    },
    {
      method: 'POST',
      path: '/v1/clusters',
      request: 'create',
      handle: async (r) => accepted(pksCluster(await s.changes.create(r.caller, createClusterInput(r.body)))),
    },
    {
      // Upgrade one or many clusters: an upgrade run, answered with its TaskInfo.
      method: 'PATCH',
      path: '/v1/clusters',
      handle: async (r) =>
        accepted(pksTask(await s.tasks.upgradeClusters(r.caller, upgradeClustersInput(r.body)))),
    },
    { method: 'GET', path: '/v1/clusters/{name}', handle: async (r) => ok(await cluster(r)) },
    {
      method: 'PATCH',
      path: '/v1/clusters/{name}',
      request: 'update',
      handle: async (r) =>
        accepted(pksCluster(await s.changes.update(r.caller, r.params.name!, updateClusterInput(r.body)))),
    },
    {
      // Deletion goes on after the answer; GET answers 404 once it is done (clients poll for that).
      method: 'DELETE',
      path: '/v1/clusters/{name}',
      handle: async (r) => {
        await s.changes.delete(r.caller, r.params.name!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v1/clusterdetails/{name}',
      handle: async (r) => {
        const { cluster, network, profile, plan } = await s.clusters.detailsWithNetwork(
          r.caller,
          r.params.name!,
        );
        return ok(pksCluster(cluster, { plan, network, ...(profile ? { profile } : {}) }));
      },
    },
    {
      method: 'POST',
      path: '/v1/clusters/{name}/binds',
      handle: async (r) => {
        const { password } = bindInput(r.body);
        return created(
          kubeconfigOf(await s.changes.credentials(r.caller, r.params.name!, password ?? passwordHeader(r))),
        );
      },
    },
    {
      // The named user's kubeconfig: the service answers the caller's own only (its OIDC tokens are theirs).
      method: 'GET',
      path: '/v1/clusters/{name}/binds/{user}',
      handle: async (r) =>
        ok(
          kubeconfigOf(
            await s.changes.credentialsOf(r.caller, r.params.name!, r.params.user!, passwordHeader(r)),
          ),
        ),
    },
    {
      method: 'GET',
      path: '/v1/network-profiles',
      handle: async (r) => ok((await s.networkProfiles.list(r.caller)).map(pksNetworkProfile)),
    },
    {
      method: 'POST',
      path: '/v1/network-profiles',
      handle: async (r) =>
        created(pksNetworkProfile(await s.networkProfiles.create(r.caller, networkProfileInput(r.body)))),
    },
    {
      method: 'GET',
      path: '/v1/network-profiles/{name}',
      handle: async (r) => ok(pksNetworkProfile(await s.networkProfiles.get(r.caller, r.params.name!))),
    },
    {
      method: 'DELETE',
      path: '/v1/network-profiles/{name}',
      handle: async (r) => {
        await s.networkProfiles.delete(r.caller, r.params.name!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v1/compute-profiles',
      handle: async (r) => ok((await s.computeProfiles.list(r.caller)).map(pksComputeProfile)),
    },
    {
      method: 'POST',
      path: '/v1/compute-profiles',
      handle: async (r) =>
        created(pksComputeProfile(await s.computeProfiles.create(r.caller, computeProfileInput(r.body)))),
    },
    {
      method: 'GET',
      path: '/v1/compute-profiles/{name}',
      handle: async (r) => ok(pksComputeProfile(await s.computeProfiles.get(r.caller, r.params.name!))),
    },
    {
      method: 'DELETE',
      path: '/v1/compute-profiles/{name}',
      handle: async (r) => {
        await s.computeProfiles.delete(r.caller, r.params.name!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v1/tasks',
      handle: async (r) => ok((await s.tasks.list(r.caller)).map(pksTask)),
    },
    {
      method: 'GET',
      path: '/v1/tasks/{id}',
      handle: async (r) => ok(pksTask(await s.tasks.get(r.caller, r.params.id!))),
    },
    {
      // PUT cancels (PKS `cancel-task`): the clusters of the run that have not started.
      method: 'PUT',
      path: '/v1/tasks/{id}',
      handle: async (r) => ok(pksTask(await s.tasks.cancel(r.caller, r.params.id!))),
    },
    {
      method: 'GET',
      path: '/v1/quotas',
      handle: async (r) => ok((await s.quotas.list(r.caller)).map(pksQuotaOf)),
    },
    {
      // Creates; an owner who has a quota already is a conflict (PATCH changes it).
      method: 'POST',
      path: '/v1/quotas',
      handle: async (r) => {
        const { owner, limit } = quotaInput(r.body);
        return created(pksQuotaOf(await s.quotas.create(r.caller, owner, limit)));
      },
    },
    {
      method: 'GET',
      path: '/v1/quotas/{owner}',
      handle: async (r) => ok(pksQuotaOf(await s.quotas.get(r.caller, r.params.owner!))),
    },
    {
      // Changes the limit's fields that are given, the others stay.
      method: 'PATCH',
      path: '/v1/quotas/{owner}',
      handle: async (r) => {
        const { limit } = quotaInput(r.body, r.params.owner!);
        return ok(pksQuotaOf(await s.quotas.update(r.caller, r.params.owner!, limit)));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/quotas/{owner}',
      handle: async (r) => {
        await s.quotas.delete(r.caller, r.params.owner!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v1/usages',
      handle: async (r) => ok((await s.quotas.usages(r.caller)).map(pksUsageOf)),
    },
    {
      method: 'GET',
      path: '/v1/usages/{owner}',
      handle: async (r) => ok(pksUsageOf(await s.quotas.usage(r.caller, r.params.owner!))),
    },
    {
      // The PKS version clusters can be upgraded to (a cluster whose pks_version differs is upgradable).
      method: 'GET',
      path: '/v1/upgradable',
      handle: async (r) => ok(s.changes.pksVersion(r.caller)),
    },
  ];
}

const ok = (body: unknown): RestAnswer => ({ status: 200, body });
const created = (body: unknown): RestAnswer => ({ status: 201, body });
const accepted = (body: unknown): RestAnswer => ({ status: 202, body });

/** The password for the kubeconfig's OIDC tokens, for requests without a body (GET …/binds/{user}). */
function passwordHeader(r: RestRequest): string | undefined {
  const value = r.headers['x-pks-user-password'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The kubeconfig as a JSON object, as PKS's `/binds` answers (the service's credentials, unchanged). */
function kubeconfigOf(credentials: Record<string, unknown>): unknown {
  return credentials.kubeconfig;
}

/**
 * QUOTA_EXCEEDED answers 403, not the domain table's 422: PKS answers an exceeded quota as it answers a
 * missing scope (its CLI prints "You do not have enough privileges…" for both), and PKS's clients decide
 * on the status. Every other code keeps the one table's status.
 */
const REST_STATUS: Readonly<Record<ErrorCode, number>> = { ...httpStatusByCode, QUOTA_EXCEEDED: 403 };

interface CompiledRoute {
  route: RestRoute;
  segments: string[];
}

/** Serves `/v1/...`: routing, authentication, JSON in and out, and PKS's `{"body": …}` errors. */
export function restRouter(options: RestRouterOptions, routes: RestRoute[] = pksRoutes(options.services)) {
  const compiled: CompiledRoute[] = routes.map((route) => ({ route, segments: route.path.split('/') }));
  const { logger } = options;

  const send = (
    res: ServerResponse,
    route: string,
    answer: RestAnswer,
    headers: Record<string, string> = {},
  ) => {
    options.count?.(route, answer.status);
    const body = answer.body === undefined ? undefined : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'Cache-Control': 'no-store',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      ...headers,
    });
    res.end(body);
  };

  const failure = (error: unknown, request: Request): RestAnswer => {
    if (isPksError(error) && error.code !== 'INTERNAL') {
      const message =
        error instanceof InputError || error instanceof InputErrors
          ? badInputsOf(error)
              .map((b) => describeInputError({ ...b, field: restFieldOf(b.field, request) }))
              .join('\n')
          : error.message;
      return { status: REST_STATUS[error.code], body: { body: message } };
    }
    logger.error({ err: error }, 'internal error in a REST request');
    return { status: 500, body: { body: 'internal error' } };
  };

  return async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const parts = path.split('/');
    const matches: { route: RestRoute; params: Record<string, string> }[] = [];
    let badParam: string | undefined;
    for (const { route, segments } of compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const fits = segments.every((segment, i) => {
        if (!segment.startsWith('{')) return segment === parts[i];
        if (parts[i] === '') return false;
        try {
          params[segment.slice(1, -1)] = decodeURIComponent(parts[i]!);
        } catch {
          badParam = segment.slice(1, -1);
        }
        return true;
      });
      if (fits) matches.push({ route, params });
    }
    if (matches.length === 0) {
      return send(res, 'unknown', { status: 404, body: { body: `no such endpoint: ${url.pathname}` } });
    }
    const match = matches.find((m) => m.route.method === req.method);
    const routeName = `${req.method ?? ''} ${matches[0]!.route.path}`;
    if (match === undefined) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
      req.resume();
      return send(
        res,
        routeName,
        {
          status: 405,
          body: { body: `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})` },
        },
        { Allow: allow },
      );
    }
    const { route, params } = match;
    const request = route.request ?? 'other';

    let caller: Caller | undefined;
    if ('handle' in route) {
      const auth = await options.authenticate(req.headers.authorization);
      caller = auth.caller;
      if (caller === undefined) {
        req.resume();
        const error = auth.authError ?? new UnauthenticatedError('a UAA bearer token is required');
        return send(
          res,
          routeName,
          { status: 401, body: { body: error.message } },
          { 'WWW-Authenticate': bearerChallenge(auth.authError?.message) },
        );
      }
    }

    const text = await readBody(req, options.maxBodyBytes);
    if (text === 'too large') {
      return send(
        res,
        routeName,
        { status: 413, body: { body: `the request body is over ${options.maxBodyBytes} bytes` } },
        { Connection: 'close' },
      );
    }
    if (badParam !== undefined) {
      return send(res, routeName, failure(new InputError(badParam, 'is not validly URL-encoded'), request));
    }
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch (error) {
        return send(res, routeName, {
          status: 400,
          body: { body: `the body is not JSON: ${(error as Error).message}` },
        });
      }
    }
    try {
      const answer =
        'handle' in route
          ? await route.handle({
              caller: caller!,
              params,
              query: url.searchParams,
              headers: req.headers,
              body,
            })
          : await route.public();
      if (route.method !== 'GET') options.changed();
      send(res, routeName, answer);
    } catch (error) {
      if (route.method !== 'GET') options.changed();
      send(res, routeName, failure(error, request));
    }
  };
}

/** RFC 6750 §3, as GraphQL's 401s say it. */
function bearerChallenge(reason: string | undefined): string {
  if (reason === undefined) return 'Bearer realm="pks"';
  return `Bearer realm="pks", error="invalid_token", error_description="${reason.replace(/["\\]/g, "'")}"`;
}
