import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConflictError,
  InputError,
  InputErrors,
  InternalError,
  NotFoundError,
  describeInputErrors,
  httpStatusOf,
  isPksError,
} from '@openpks/domain';
import { credentialsMatch, parseBasicAuthorization } from '@openpks/pki';
import type { Logger } from '@openpks/role';
import { AsyncRequiredError, ConcurrencyError, GoneError, UnprocessableError } from '../service/errors.js';
import type { BindingService } from '../service/bindingService.js';
import { parseOriginatingIdentity } from '../contract/osb.js';
import type { BrokerService, RequestMeta } from '../service/brokerService.js';
import type { UpgradeRuns } from '../upgrades/upgradeRuns.js';
import {
  ENDPOINTS_SINCE,
  MAX_MINOR_VERSION,
  MIN_MINOR_VERSION,
  catalogForVersion,
  forVersion,
  headersForVersion,
  minorVersionOf,
} from './osbVersions.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface OsbHandlerOptions {
  service: BrokerService;
  bindings: BindingService;
  upgrades?: UpgradeRuns | undefined;
  credentials: { username: string; password: string };
  logger: Logger;
}

/** One place that turns the service's typed errors into OSB status codes and `{error, description}`. */
function osbError(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof AsyncRequiredError)
    return { status: 422, body: { error: 'AsyncRequired', description: error.message } };
  if (error instanceof ConcurrencyError)
    return { status: 422, body: { error: 'ConcurrencyError', description: error.message } };
  if (error instanceof UnprocessableError)
    return { status: 422, body: { error: 'UnprocessableEntity', description: error.message } };
  if (error instanceof GoneError) return { status: 410, body: { description: error.message } };
  if (error instanceof InputError || error instanceof InputErrors)
    return { status: 400, body: { error: 'BadRequest', description: describeInputErrors(error) } };
  if (isPksError(error) && error.code === 'BAD_USER_INPUT')
    return { status: 400, body: { error: 'BadRequest', description: error.message } };
  if (error instanceof NotFoundError)
    return { status: 404, body: { error: 'NotFound', description: error.message } };
  if (error instanceof ConflictError)
    return { status: 409, body: { error: 'Conflict', description: error.message } };
  if (isPksError(error) && !(error instanceof InternalError))
    return { status: httpStatusOf(error), body: { description: error.message } };
  return {
    status: 500,
    body: { error: 'InternalServerError', description: 'the broker failed; see its log' },
  };
}

/** The management API's codes (ODB): 409 busy, 410 orphan, 404 gone. */
function mgmtError(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ConcurrencyError) return { status: 409, body: { description: error.message } };
  return osbError(error);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InputError(undefined, 'request body is too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(undefined, 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError(undefined, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function authorized(req: IncomingMessage, expected: { username: string; password: string }): boolean {
  return credentialsMatch(parseBasicAuthorization(req.headers.authorization), expected);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type Route = {
  method: string;
  pattern: RegExp;
  handle: (ctx: {
    req: IncomingMessage;
    res: ServerResponse;
    params: string[];
    query: URLSearchParams;
    meta: RequestMeta;
    headers: Record<string, string>;
    /** The minor OSB version the platform asked for (2.x), capped at the newest the broker knows. */
    version: number;
  }) => Promise<void>;
  mgmt?: boolean;
  /** The OSB minor version that introduced the endpoint (`ENDPOINTS_SINCE`). */
  since?: number;
};

/**
 * The broker's HTTP surface: the OSB API (`/v2/...`) and ODB's management API (`/mgmt/...`). Routes parse
 * and check the protocol (auth, version header, identities) and map outcomes to status codes; every
 * decision is the service's.
 */
export function createOsbHandler(
  options: OsbHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { service, bindings, logger } = options;
  const id = '([^/]+)';
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/v2\/catalog$/,
      handle: async ({ res, headers, version }) =>
        send(
          res,
          200,
          catalogForVersion(service.catalog() as { services: Record<string, unknown>[] }, version),
          headers,
        ),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/v2/service_instances/${id}$`),
      handle: async ({ req, res, params, query, meta, headers, version }) => {
        const body = await readJson(req);
        const result = await service.provision(
          params[0]!,
          body,
          query.get('accepts_incomplete') === 'true',
          meta,
        );
        const dashboard = result.dashboardUrl !== undefined ? { dashboard_url: result.dashboardUrl } : {};
        if (result.outcome === 'accepted') {
          send(
            res,
            202,
            forVersion('provision', { operation: result.operation, ...dashboard }, version),
            headers,
          );
        } else send(res, 200, forVersion('provision', { ...dashboard }, version), headers);
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/v2/service_instances/${id}$`),
      handle: async ({ req, res, params, query, meta, headers, version }) => {
        const body = await readJson(req);
        const result = await service.update(
          params[0]!,
          body,
          query.get('accepts_incomplete') === 'true',
          meta,
        );
        if (result.outcome === 'accepted') {
          send(
            res,
            202,
            forVersion(
              'update',
              {
                operation: result.operation,
                ...(result.dashboardUrl ? { dashboard_url: result.dashboardUrl } : {}),
              },
              version,
            ),
            headers,
          );
        } else send(res, 200, {}, headers);
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v2/service_instances/${id}$`),
      handle: async ({ res, params, query, meta, headers }) => {
        const result = await service.deprovision(
          params[0]!,
          { serviceId: query.get('service_id') ?? undefined, planId: query.get('plan_id') ?? undefined },
          query.get('accepts_incomplete') === 'true',
          meta,
        );
        if (result.outcome === 'accepted') send(res, 202, { operation: result.operation }, headers);
        else send(res, 200, {}, headers);
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/service_instances/${id}/last_operation$`),
      handle: async ({ res, params, query, headers, version }) => {
        const last = await service.lastOperation(params[0]!, query.get('operation') ?? undefined);
        send(
          res,
          200,
          forVersion(
            'lastOperation',
            {
              state: last.state,
              description: last.description,
              ...(last.instanceUsable !== undefined ? { instance_usable: last.instanceUsable } : {}),
              ...(last.updateRepeatable !== undefined ? { update_repeatable: last.updateRepeatable } : {}),
            },
            version,
          ),
          headersForVersion(
            last.state === 'in progress' ? { ...headers, 'Retry-After': '5' } : headers,
            version,
          ),
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/service_instances/${id}$`),
      since: ENDPOINTS_SINCE['GET /v2/service_instances/:instance_id'],
      handle: async ({ res, params, headers, version }) =>
        send(res, 200, forVersion('instance', await service.getInstance(params[0]!), version), headers),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/v2/service_instances/${id}/service_bindings/${id}$`),
      handle: async ({ req, res, params, meta, headers, version }) => {
        const body = await readJson(req);
        const result = await bindings.bind(params[0]!, params[1]!, body, meta);
        send(
          res,
          result.outcome === 'created' ? 201 : 200,
          forVersion('bind', { credentials: result.credentials }, version),
          headers,
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/service_instances/${id}/service_bindings/${id}$`),
      since: ENDPOINTS_SINCE['GET /v2/service_instances/:instance_id/service_bindings/:binding_id'],
      handle: async ({ res, params, headers, version }) =>
        send(
          res,
          200,
          forVersion('binding', await bindings.getBinding(params[0]!, params[1]!), version),
          headers,
        ),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/service_instances/${id}/service_bindings/${id}/last_operation$`),
      since:
        ENDPOINTS_SINCE['GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation'],
      handle: async ({ res, params, headers, version }) =>
        send(
          res,
          200,
          forVersion('lastOperation', await bindings.lastOperation(params[0]!, params[1]!), version),
          headers,
        ),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v2/service_instances/${id}/service_bindings/${id}$`),
      handle: async ({ res, params, query, headers }) => {
        await bindings.unbind(params[0]!, params[1]!, {
          serviceId: query.get('service_id') ?? undefined,
          planId: query.get('plan_id') ?? undefined,
        });
        send(res, 200, {}, headers);
      },
    },
    {
      method: 'GET',
      pattern: /^\/mgmt\/service_instances$/,
      mgmt: true,
      handle: async ({ res }) => send(res, 200, await service.listInstances()),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/mgmt/service_instances/${id}$`),
      mgmt: true,
      handle: async ({ res, params, query, meta }) => {
        const type = query.get('operation_type');
        if (type !== 'upgrade' && type !== 'recreate') {
          throw new InputError('operation_type', 'must be upgrade or recreate');
        }
        const result = await service.upgrade(params[0]!, type, meta);
        if (result.outcome === 'current') send(res, 204, undefined);
        else send(res, 202, result.operation);
      },
    },
    {
      method: 'GET',
      pattern: /^\/mgmt\/orphan_deployments$/,
      mgmt: true,
      handle: async ({ res }) => send(res, 200, await service.orphanDeployments()),
    },
    {
      method: 'POST',
      pattern: /^\/mgmt\/upgrade_runs$/,
      mgmt: true,
      handle: async ({ req, res, meta }) => {
        if (options.upgrades === undefined) throw new NotFoundError('upgrade runs are not enabled');
        const request = await readJson(req);
        const user = meta.originatingIdentity?.value.user_id;
        if (request.created_by === undefined && typeof user === 'string') request.created_by = user;
        send(res, 202, await options.upgrades.start(request));
      },
    },
    {
      method: 'GET',
      pattern: /^\/mgmt\/upgrade_runs$/,
      mgmt: true,
      handle: async ({ res, query }) => {
        if (options.upgrades === undefined) throw new NotFoundError('upgrade runs are not enabled');
        const active = booleanParameter(query, 'active', false);
        send(
          res,
          200,
          booleanParameter(query, 'instances', true)
            ? await options.upgrades.list({ active })
            : await options.upgrades.listSummaries({ active }),
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/mgmt/upgrade_runs/${id}$`),
      mgmt: true,
      handle: async ({ res, params, query }) => {
        if (options.upgrades === undefined) throw new NotFoundError('upgrade runs are not enabled');
        const run = booleanParameter(query, 'instances', true)
          ? await options.upgrades.get(params[0]!)
          : await options.upgrades.summary(params[0]!);
        send(res, 200, run);
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/mgmt/upgrade_runs/${id}$`),
      mgmt: true,
      handle: async ({ res, params }) => {
        if (options.upgrades === undefined) throw new NotFoundError('upgrade runs are not enabled');
        send(res, 200, await options.upgrades.cancel(params[0]!));
      },
    },
  ];

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'https://broker');
    const requestIdentity = header(req, 'x-broker-api-request-identity');
    let echo: Record<string, string> =
      requestIdentity !== undefined ? { 'X-Broker-API-Request-Identity': requestIdentity } : {};
    const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    const mgmt = route?.mgmt ?? url.pathname.startsWith('/mgmt/');
    try {
      if (!authorized(req, options.credentials)) {
        send(
          res,
          401,
          { description: 'Unauthorized' },
          { ...echo, 'WWW-Authenticate': 'Basic realm="pks-broker"' },
        );
        return;
      }
      let version = MAX_MINOR_VERSION;
      if (!mgmt) {
        const requested = header(req, 'x-broker-api-version');
        const minor = minorVersionOf(requested);
        if (minor === undefined || minor < MIN_MINOR_VERSION) {
          send(
            res,
            412,
            {
              error: 'PreconditionFailed',
              description:
                requested === undefined
                  ? 'X-Broker-API-Version Header not set'
                  : `X-Broker-API-Version ${requested} is not supported; 2.${MIN_MINOR_VERSION} or newer is required`,
            },
            echo,
          );
          return;
        }
        version = Math.min(minor, MAX_MINOR_VERSION);
        echo = headersForVersion(echo, version);
      }
      if (route?.since !== undefined && version < route.since) {
        send(
          res,
          412,
          {
            error: 'PreconditionFailed',
            description: `${req.method} ${url.pathname} needs X-Broker-API-Version 2.${route.since} or newer`,
          },
          echo,
        );
        return;
      }
      if (route === undefined) {
        send(res, 404, { description: `no route ${req.method} ${url.pathname}` }, echo);
        return;
      }
      const meta: RequestMeta = {
        originatingIdentity: parseOriginatingIdentity(header(req, 'x-broker-api-originating-identity')),
        requestIdentity,
      };
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      // Reads are the platform's polling (last_operation, upgrade-run discovery every few seconds): at info
      // they buried the changes an operator looks for.
      logger[req.method === 'GET' ? 'debug' : 'info'](
        {
          method: req.method,
          path: url.pathname,
          requestIdentity,
          originatingIdentity: meta.originatingIdentity,
        },
        'broker request',
      );
      await route.handle({ req, res, params, query: url.searchParams, meta, headers: echo, version });
    } catch (error) {
      const { status, body } = mgmt ? mgmtError(error) : osbError(error);
      if (status >= 500) logger.error({ err: error, path: url.pathname }, 'broker request failed');
      if (!res.headersSent) send(res, status, body, echo);
      else res.destroy();
    }
  };
}

/** A `true`/`false` query parameter (`?active=true`, `?instances=false`), `fallback` when absent. */
function booleanParameter(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  if (value !== 'true' && value !== 'false') throw new InputError(name, 'must be true or false');
  return value === 'true';
}
