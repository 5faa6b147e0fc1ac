import { Agent, request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { ConflictError, InputError, InternalError, NotFoundError } from '@openpks/domain';

/** OSB `last_operation` states (OSB spec). */
export type OsbOperationState = 'in progress' | 'succeeded' | 'failed';

export interface OsbLastOperation {
  state: OsbOperationState;
  description: string;
}

export interface OsbCatalog {
  services: {
    id: string;
    name: string;
    plans: { id: string; name: string; description?: string; metadata?: Record<string, unknown> }[];
  }[];
}

export interface OsbClientOptions {
  /** `https://127.0.0.1:8080` */
  url: string;
  username: string;
  password: string;
  /** PEM trusted for an https broker. */
  ca?: string | undefined;
  /** The platform name in `X-Broker-API-Originating-Identity` (default `pks`). */
  platform?: string;
}

/** What the broker's management API takes to start an upgrade-all run (instances are service instance ids). */
export interface BrokerUpgradeRunRequest {
  instances: string[];
  canaries: string[];
  max_in_flight: number;
  operation_type: 'upgrade';
  polling_interval_ms?: number;
}

export type BrokerUpgradeInstanceState =
  'pending' | 'busy' | 'in progress' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'orphaned';

/** An upgrade run as the broker reports it (JSON dates arrive as strings). */
export interface BrokerUpgradeRun {
  id: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  max_in_flight: number;
  description: string;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  instances: {
    instance_id: string;
    is_canary: boolean;
    state: BrokerUpgradeInstanceState;
    attempts: number;
    operation_id: string | null;
    description: string;
    started_at: string | null;
    finished_at: string | null;
  }[];
}

export interface OsbResponse {
  status: number;
  body: Record<string, unknown>;
}

/** What a 202 answer says: the operation to poll with. */
export interface OsbAccepted {
  status: number;
  operation: string | undefined;
}

/** The broker said no: the status and its OSB error body. */
export class OsbError extends Error {
  constructor(
    readonly status: number,
    readonly error: string | undefined,
    readonly description: string,
  ) {
    super(`broker answered ${status}${error ? ` ${error}` : ''}: ${description}`);
  }
}

const API_VERSION = '2.17';

/**
 * A client of an Open Service Broker (API 2.17), written against the OSB spec: the API is the platform.
 * Every call carries `X-Broker-API-Version`, Basic auth, and for user actions the originating identity.
 */
export class OsbClient {
  readonly #options: OsbClientOptions;
  readonly #agent: Agent | undefined;

  constructor(options: OsbClientOptions) {
    this.#options = options;
    this.#agent = options.url.startsWith('https:')
      ? new Agent({ ca: options.ca, keepAlive: true })
      : undefined;
  }

  close(): void {
    this.#agent?.destroy();
  }

  async catalog(): Promise<OsbCatalog> {
    const response = await this.#call('GET', '/v2/catalog', undefined, undefined, [200]);
    return response.body as unknown as OsbCatalog;
  }

  provision(id: string, body: Record<string, unknown>, user: string): Promise<OsbAccepted> {
    return this.#async(
      'PUT',
      `/v2/service_instances/${id}?accepts_incomplete=true`,
      body,
      user,
      [201, 202, 200],
    );
  }

  update(id: string, body: Record<string, unknown>, user: string): Promise<OsbAccepted> {
    return this.#async(
      'PATCH',
      `/v2/service_instances/${id}?accepts_incomplete=true`,
      body,
      user,
      [200, 202],
    );
  }

  deprovision(id: string, serviceId: string, planId: string, user: string): Promise<OsbAccepted> {
    const query = new URLSearchParams({ accepts_incomplete: 'true', service_id: serviceId, plan_id: planId });
    return this.#async('DELETE', `/v2/service_instances/${id}?${query}`, undefined, user, [200, 202, 410]);
  }

  /** `GET last_operation`; 410 is "gone" (success for a delete), 404 "the broker does not know it". */
  async lastOperation(
    id: string,
    params: { serviceId: string; planId: string; operation: string | undefined },
  ): Promise<OsbLastOperation | 'gone' | 'unknown'> {
    const query = new URLSearchParams({ service_id: params.serviceId, plan_id: params.planId });
    if (params.operation !== undefined) query.set('operation', params.operation);
    const response = await this.#call(
      'GET',
      `/v2/service_instances/${id}/last_operation?${query}`,
      undefined,
      undefined,
      [200, 404, 410],
    );
    if (response.status === 410) return 'gone';
    if (response.status === 404) return 'unknown';
    const state = response.body.state;
    if (state !== 'in progress' && state !== 'succeeded' && state !== 'failed') {
      throw new InternalError(`broker answered last_operation with state ${String(state)}`);
    }
    return {
      state,
      description: typeof response.body.description === 'string' ? response.body.description : '',
    };
  }

  /** `PUT service_bindings/:bid`: synchronous bindings only (201/200 with credentials). */
  async bind(
    id: string,
    bindingId: string,
    body: Record<string, unknown>,
    user: string,
  ): Promise<Record<string, unknown>> {
    const response = await this.#call(
      'PUT',
      `/v2/service_instances/${id}/service_bindings/${bindingId}`,
      body,
      user,
      [200, 201],
    );
    const credentials = response.body.credentials;
    if (typeof credentials !== 'object' || credentials === null) {
      throw new InternalError('broker answered the binding without credentials');
    }
    return credentials as Record<string, unknown>;
  }

  /** Starts an upgrade-all run on the broker (`POST /mgmt/upgrade_runs`). */
  async startUpgradeRun(request: BrokerUpgradeRunRequest, user: string): Promise<BrokerUpgradeRun> {
    const response = await this.#call('POST', '/mgmt/upgrade_runs', { ...request }, user, [202]);
    return response.body as unknown as BrokerUpgradeRun;
  }

  async upgradeRun(id: string): Promise<BrokerUpgradeRun> {
    const path = `/mgmt/upgrade_runs/${encodeURIComponent(id)}`;
    const response = await this.#call('GET', path, undefined, undefined, [200]);
    return response.body as unknown as BrokerUpgradeRun;
  }

  /**
   * Runs still pending or running, whoever started them (an operator's upgrade-all too), without their
   * instances (a fleet-wide run has a thousand): fetch the ones of interest with `upgradeRun`.
   */
  async activeUpgradeRuns(): Promise<Omit<BrokerUpgradeRun, 'instances'>[]> {
    const response = await this.#call(
      'GET',
      '/mgmt/upgrade_runs?active=true&instances=false',
      undefined,
      undefined,
      [200],
    );
    return response.body as unknown as Omit<BrokerUpgradeRun, 'instances'>[];
  }

  async cancelUpgradeRun(id: string, user: string): Promise<BrokerUpgradeRun> {
    const path = `/mgmt/upgrade_runs/${encodeURIComponent(id)}`;
    const response = await this.#call('DELETE', path, undefined, user, [200]);
    return response.body as unknown as BrokerUpgradeRun;
  }

  async #async(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    user: string,
    ok: number[],
  ): Promise<OsbAccepted> {
    const response = await this.#call(method, path, body, user, ok);
    const operation = typeof response.body.operation === 'string' ? response.body.operation : undefined;
    return { status: response.status, operation };
  }

  #call(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    user: string | undefined,
    ok: number[],
  ): Promise<OsbResponse> {
    const url = new URL(path, this.#options.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      'X-Broker-API-Version': API_VERSION,
      Authorization: `Basic ${Buffer.from(`${this.#options.username}:${this.#options.password}`).toString('base64')}`,
      Accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (user !== undefined) {
      const identity = Buffer.from(JSON.stringify({ user_id: user })).toString('base64');
      headers['X-Broker-API-Originating-Identity'] = `${this.#options.platform ?? 'pks'} ${identity}`;
    }
    return new Promise<OsbResponse>((resolve, reject) => {
      const send = url.protocol === 'https:' ? request : httpRequest;
      const req = send(url, { method, headers, ...(this.#agent ? { agent: this.#agent } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { description: text.slice(0, 200) };
          }
          if (ok.includes(status)) return resolve({ status, body: parsed });
          const error = typeof parsed.error === 'string' ? parsed.error : undefined;
          const description = typeof parsed.description === 'string' ? parsed.description : `HTTP ${status}`;
          reject(new OsbError(status, error, description));
        });
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`broker ${method} ${url.pathname} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** The broker's refusal in the domain's words: 400 bad input, 409/422 conflicts, 404/410 not found. */
export function domainErrorOf(error: unknown): unknown {
  if (!(error instanceof OsbError)) return error;
  if (error.status === 400) return new InputError(undefined, error.description, { cause: error });
  if (error.status === 409 || error.status === 422)
    return new ConflictError(error.description, { cause: error });
  if (error.status === 404 || error.status === 410)
    return new NotFoundError(error.description, { cause: error });
  return new InternalError(`broker error: ${error.message}`, { cause: error });
}
