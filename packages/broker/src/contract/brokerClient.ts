import { ConnectionError, HttpStatusError, HttpsJsonClient, type HttpsResponse } from '@openpks/auth';
import { ConflictError, InputError, InternalError, NotFoundError } from '@openpks/domain';
import {
  OSB_API_VERSION,
  originatingIdentityHeader,
  type OsbBindRequest,
  type OsbCatalog,
  type OsbLastOperation,
  type OsbProvisionRequest,
  type OsbUpdateRequest,
} from './osb.js';
import type { UpgradeRun, UpgradeRunRequest, UpgradeRunSummary } from './upgradeRuns.js';

export interface BrokerClientOptions {
  /** `https://127.0.0.1:8080` (or `http://` for a broker on loopback HTTP). */
  url: string;
  /** HTTP Basic credentials of the broker. */
  username: string;
  password: string;
  /** PEM trusted for an https broker (the installation CA). */
  ca?: string | undefined;
  /** The platform named in `X-Broker-API-Originating-Identity` (default `pks`). */
  platform?: string;
  /** How long one call may take before it counts as unanswered (default 60 s: a deploy's first step is slow). */
  timeoutMs?: number;
}

/** The broker answered, and said no: the status and its OSB error body (`error`, `description`). */
export class BrokerError extends Error {
  constructor(
    readonly status: number,
    readonly error: string | undefined,
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(`broker answered ${status}${error ? ` ${error}` : ''}: ${description}`, options);
    this.name = 'BrokerError';
  }
}

/**
 * The broker did not answer: unreachable, the connection broke, or no answer in time. Whether a
 * mutating request took effect is unknown; OSB requests are safe to send again (the broker answers a
 * repeat as the original).
 */
export class BrokerUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerUnreachableError';
  }
}

/** What a provision, update or deprovision was answered: the status and the operation to poll with. */
export interface OsbAccepted {
  status: number;
  operation: string | undefined;
  dashboardUrl?: string | undefined;
}

type Json = Record<string, unknown>;

/**
 * The one client of the broker: the OSB API (the PKS API is the platform) and the management API (the
 * API's upgrade tasks, `pks-admin`). Every call carries `X-Broker-API-Version`, HTTP Basic auth and, when a
 * user is named, the originating identity; a refusal is a `BrokerError` with the broker's own description,
 * no answer a `BrokerUnreachableError`.
 */
export class BrokerClient {
  readonly #options: BrokerClientOptions;
  readonly #http: HttpsJsonClient;

  constructor(options: BrokerClientOptions) {
    this.#options = options;
    let protocol: string | undefined;
    try {
      protocol = new URL(options.url).protocol;
    } catch {
      // said below
    }
    if (protocol !== 'https:' && protocol !== 'http:') {
      throw new InputError('broker.url', `the broker is reached over HTTPS (or HTTP), got ${options.url}`, {
        allowed: 'an https:// or http:// URL',
      });
    }
    // The embedded broker listens on loopback HTTP in some set-ups; everything else about the call is
    // the same one HTTPS JSON client every role uses.
    this.#http = new HttpsJsonClient({
      url: options.url,
      peer: 'the broker',
      allowHttp: true,
      ca: options.ca,
      auth: { basic: { username: options.username, password: options.password } },
      headers: { 'X-Broker-API-Version': OSB_API_VERSION },
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  }

  get url(): string {
    return this.#options.url;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#http.close();
  }

  // ---- OSB ------------------------------------------------------------------------------------

  async catalog(): Promise<OsbCatalog> {
    return (await this.#call('GET', '/v2/catalog', { ok: [200] })).body as unknown as OsbCatalog;
  }

  provision(id: string, body: OsbProvisionRequest, user: string): Promise<OsbAccepted> {
    return this.#async('PUT', `${instancePath(id)}?accepts_incomplete=true`, body, user, [200, 201, 202]);
  }

  update(id: string, body: OsbUpdateRequest, user: string): Promise<OsbAccepted> {
    return this.#async('PATCH', `${instancePath(id)}?accepts_incomplete=true`, body, user, [200, 202]);
  }

  /** 410 (the instance is gone already) counts as done, as OSB says a platform should read it. */
  deprovision(id: string, serviceId: string, planId: string, user: string): Promise<OsbAccepted> {
    const query = new URLSearchParams({ accepts_incomplete: 'true', service_id: serviceId, plan_id: planId });
    return this.#async('DELETE', `${instancePath(id)}?${query}`, undefined, user, [200, 202, 410]);
  }

  /** `GET last_operation`; 410 is "gone" (success for a delete), 404 "the broker does not know it". */
  async lastOperation(
    id: string,
    params: { serviceId: string; planId: string; operation: string | undefined },
  ): Promise<OsbLastOperation | 'gone' | 'unknown'> {
    const query = new URLSearchParams({ service_id: params.serviceId, plan_id: params.planId });
    if (params.operation !== undefined) query.set('operation', params.operation);
    const response = await this.#call('GET', `${instancePath(id)}/last_operation?${query}`, {
      ok: [200, 404, 410],
    });
    if (response.status === 410) return 'gone';
    if (response.status === 404) return 'unknown';
    const { state, description, instance_usable, update_repeatable } = response.body;
    if (state !== 'in progress' && state !== 'succeeded' && state !== 'failed') {
      throw new InternalError(`broker answered last_operation with state ${String(state)}`);
    }
    return {
      state,
      description: typeof description === 'string' ? description : '',
      ...(typeof instance_usable === 'boolean' ? { instance_usable } : {}),
      ...(typeof update_repeatable === 'boolean' ? { update_repeatable } : {}),
    };
  }

  /** A synchronous binding (201 new, 200 the same one again): its credentials. */
  async bind(id: string, bindingId: string, body: OsbBindRequest, user: string): Promise<Json> {
    const response = await this.#call(
      'PUT',
      `${instancePath(id)}/service_bindings/${encodeURIComponent(bindingId)}`,
      { body, user, ok: [200, 201] },
    );
    const credentials = response.body.credentials;
    if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
      throw new InternalError('broker answered the binding without credentials');
    }
    return credentials as Json;
  }

  // ---- management: upgrade runs -----------------------------------------------------------------

  /** Starts an upgrade-all run (`POST /mgmt/upgrade_runs`); `user` becomes the run's `created_by`. */
  async startUpgradeRun(body: UpgradeRunRequest, user: string): Promise<UpgradeRun> {
    return (await this.#call('POST', '/mgmt/upgrade_runs', { body, user, ok: [202] }))
      .body as unknown as UpgradeRun;
  }

  async upgradeRun(id: string): Promise<UpgradeRun> {
    return (await this.#call('GET', runPath(id), { ok: [200] })).body as unknown as UpgradeRun;
  }

  /** Runs with their instances, newest first. */
  async upgradeRuns(): Promise<UpgradeRun[]> {
    return (await this.#call('GET', '/mgmt/upgrade_runs', { ok: [200] })).body as unknown as UpgradeRun[];
  }

  /**
   * Runs still pending or running, whoever started them, without their instances (a fleet-wide run has a
   * thousand): fetch the ones of interest with `upgradeRun`.
   */
  async activeUpgradeRuns(): Promise<UpgradeRunSummary[]> {
    return (await this.#call('GET', '/mgmt/upgrade_runs?active=true&instances=false', { ok: [200] }))
      .body as unknown as UpgradeRunSummary[];
  }

  /**
   * The newest runs (at most 100), under way or ended, without their instances: a run that started and
   * ended between two looks at the active ones is still seen.
   */
  async recentUpgradeRuns(): Promise<UpgradeRunSummary[]> {
    return (await this.#call('GET', '/mgmt/upgrade_runs?instances=false', { ok: [200] }))
      .body as unknown as UpgradeRunSummary[];
  }

  /** Cancels the run's pending instances; those upgrading finish. */
  async cancelUpgradeRun(id: string, user: string): Promise<UpgradeRun> {
    return (await this.#call('DELETE', runPath(id), { user, ok: [200] })).body as unknown as UpgradeRun;
  }

  // ---- transport -------------------------------------------------------------------------------

  async #async(
    method: string,
    path: string,
    body: object | undefined,
    user: string,
    ok: number[],
  ): Promise<OsbAccepted> {
    const response = await this.#call(method, path, { body, user, ok });
    const { operation, dashboard_url } = response.body;
    return {
      status: response.status,
      operation: typeof operation === 'string' ? operation : undefined,
      ...(typeof dashboard_url === 'string' ? { dashboardUrl: dashboard_url } : {}),
    };
  }

  async #call(
    method: string,
    path: string,
    options: { body?: object | undefined; user?: string | undefined; ok: number[] },
  ): Promise<{ status: number; body: Json }> {
    const where = `${method} ${path.split('?')[0]}`;
    let response: HttpsResponse;
    try {
      response = await this.#http.send(method, path, {
        ...(options.body !== undefined ? { json: options.body } : {}),
        ...(options.user !== undefined
          ? {
              headers: {
                'X-Broker-API-Originating-Identity': originatingIdentityHeader({
                  platform: this.#options.platform ?? 'pks',
                  value: { user_id: options.user },
                }),
              },
            }
          : {}),
        expect: options.ok,
      });
    } catch (error) {
      throw this.#brokerError(where, error);
    }
    const text = response.body.toString('utf8');
    const body = parseBody(text);
    if (body === undefined)
      throw new BrokerError(response.status, undefined, `${where}: the answer is not a JSON object`);
    return { status: response.status, body };
  }

  /** A refusal as OSB's `BrokerError`, no answer as `BrokerUnreachableError`; anything else as it is. */
  #brokerError(where: string, error: unknown): unknown {
    if (error instanceof HttpStatusError) {
      const body = typeof error.body === 'object' && error.body !== null ? (error.body as Json) : {};
      const text = typeof error.body === 'string' ? error.body.trim() : '';
      const description =
        typeof body.description === 'string'
          ? body.description
          : text !== ''
            ? text.slice(0, 200)
            : `HTTP ${error.status}`;
      const code = typeof body.error === 'string' ? body.error : undefined;
      return new BrokerError(error.status, code, description, { cause: error });
    }
    if (error instanceof ConnectionError) {
      const url = this.#options.url;
      const timeoutMs = this.#options.timeoutMs ?? 60_000;
      const within = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`;
      return new BrokerUnreachableError(
        error.timedOut
          ? `the broker at ${url} did not answer ${where} within ${within}`
          : `cannot reach the broker at ${url}: ${error.reason}`,
        { cause: error },
      );
    }
    return error;
  }
}

/** The body as a JSON object; `{}` for an empty body (204); undefined when it is not a JSON object. */
function parseBody(text: string): Json | undefined {
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    // A list (`GET /mgmt/upgrade_runs`) is handed on as it is; the callers that expect one read it so.
    return typeof parsed === 'object' && parsed !== null ? (parsed as Json) : undefined;
  } catch {
    return undefined;
  }
}

const instancePath = (id: string) => `/v2/service_instances/${encodeURIComponent(id)}`;
const runPath = (id: string) => `/mgmt/upgrade_runs/${encodeURIComponent(id)}`;

/**
 * The broker's refusal in the domain's words, for a platform's own callers: 400 bad input, 409/422
 * conflicts (busy, or a change the broker does not support), 404/410 not found; anything else (and a 5xx)
 * is the broker's failure. Errors that are not refusals pass through.
 */
export function domainErrorOf(error: unknown): unknown {
  if (!(error instanceof BrokerError)) return error;
  if (error.status === 400) return new InputError(undefined, error.description, { cause: error });
  if (error.status === 409 || error.status === 422)
    return new ConflictError(error.description, { cause: error });
  if (error.status === 404 || error.status === 410)
    return new NotFoundError(error.description, { cause: error });
  return new InternalError(`broker error: ${error.message}`, { cause: error });
}
