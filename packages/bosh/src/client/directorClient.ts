import {
  ConflictError,
  ForbiddenError,
  InputError,
  InternalError,
  NotFoundError,
  UnauthenticatedError,
} from '@openpks/domain';
import {
  ClientCredentialsTokenSource,
  deferredTokenSource,
  HttpsJsonClient,
  type HttpStatusError,
  type HttpsResponse,
  type TokenSource,
} from '@openpks/auth';
import { DirectorTaskError } from './errors.js';
import {
  ACTIVE_TASK_STATES,
  type DeploymentSummary,
  type DirectorConfig,
  type DirectorInfo,
  type DirectorTask,
  type DirectorTaskState,
  type ErrandResult,
  type Instance,
  type ManifestDiff,
  type Release,
  type Stemcell,
  type TaskEvent,
} from '../protocol/types.js';

export interface DirectorClientOptions {
  /** `https://host:25555` */
  url: string;
  /** PEM of the CA that signed the Director's certificate (and UAA's, when the client fetches tokens). */
  ca?: string | undefined;
  /** UAA client credentials; the token URL comes from `/info` unless `tokenUrl` is given. */
  client?: { id: string; secret: string; tokenUrl?: string };
  /** Any token source instead (takes precedence over `client`). */
  tokenSource?: TokenSource;
  /** Sent as `X-Bosh-Context-Id` on every mutating request unless the call gives its own. */
  contextId?: string;
  /** Polling: first interval, and the ceiling the backoff doubles up to (default 250 ms and 5 s). */
  poll?: { initialMs?: number; maxMs?: number };
  /** Use the Director's push stream of task events when `/info` advertises it (default true). */
  useEventStream?: boolean;
}

export interface DeployOptions {
  recreate?: boolean;
  fix?: boolean;
  dryRun?: boolean;
  skipDrain?: boolean;
  canaries?: number;
  maxInFlight?: number | string;
  contextId?: string;
  /** Ask for the diff first, as the bosh CLI does (default true). */
  diff?: boolean;
}

export interface FollowOptions {
  /** Called with every event-log line as it arrives. */
  onEvent?: (event: TaskEvent) => void;
  /** Give up (throws) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TaskListFilter {
  states?: DirectorTaskState[];
  deployment?: string;
  contextId?: string;
  limit?: number;
  verbose?: 1 | 2;
}

/** The push-stream feature openpks's embedded Director advertises in `/info` `features`. */
const EVENT_STREAM_FEATURE = 'openpks_task_event_stream';

interface RequestOptions {
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Statuses that count as success (default 200). */
  expect?: number[];
}

/** How long one call may take (the Director answers at once; long work is a task). */
const CALL_TIMEOUT_MS = 60_000;
/** The largest answer taken: a big deployment's debug log is a few MB. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

const isTerminal = (state: DirectorTaskState) => !ACTIVE_TASK_STATES.includes(state);

/**
 * A client of the BOSH Director HTTP API (what the bosh CLI's `director` package does): HTTPS with a CA,
 * UAA client-credentials tokens discovered from `/info`, long operations as tasks followed by polling
 * and `Range` tailing of the event log. Works against a real Director; nothing in it knows the embedded one,
 * beyond using a push stream of task events when a Director advertises one.
 */
export class DirectorClient {
  readonly #options: DirectorClientOptions;
  readonly #http: HttpsJsonClient;
  #info: Promise<DirectorInfo> | undefined;

  constructor(options: DirectorClientOptions) {
    this.#options = options;
    if (new URL(options.url).protocol !== 'https:') {
      throw new InputError('director.url', `the Director is reached over HTTPS, got ${options.url}`);
    }
    const tokens = options.tokenSource ?? this.#clientTokens();
    this.#http = new HttpsJsonClient({
      url: options.url,
      peer: 'the BOSH Director',
      ca: options.ca,
      ...(tokens ? { auth: { bearer: tokens } } : {}),
      timeoutMs: CALL_TIMEOUT_MS,
      maxBodyBytes: MAX_ANSWER_BYTES,
      refusal: (refused) => directorError(refused),
    });
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#http.close();
  }

  /** UAA client-credentials tokens, from the UAA `/info` names unless the client gives a token URL. */
  #clientTokens(): TokenSource | undefined {
    const client = this.#options.client;
    if (!client) return undefined;
    return deferredTokenSource(async () => {
      let tokenUrl = client.tokenUrl;
      if (tokenUrl === undefined) {
        const info = await this.info();
        const uaa = info.user_authentication;
        if (uaa.type !== 'uaa' || !uaa.options.url) {
          throw new InputError(
            'director',
            `the Director at ${this.#options.url} does not use UAA (user_authentication ${uaa.type})`,
          );
        }
        tokenUrl = `${uaa.options.url.replace(/\/$/, '')}/oauth/token`;
      }
      return new ClientCredentialsTokenSource({
        tokenUrl,
        clientId: client.id,
        clientSecret: client.secret,
        ca: this.#options.ca,
      });
    });
  }

  #authorized(method: string, path: string, options: RequestOptions = {}): Promise<HttpsResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (method !== 'GET' && headers['X-Bosh-Context-Id'] === undefined && this.#options.contextId) {
      headers['X-Bosh-Context-Id'] = this.#options.contextId;
    }
    return this.#http.send(method, path, {
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      expect: options.expect ?? [200],
    });
  }

  async #json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#authorized(method, path, options);
    return JSON.parse(response.body.toString('utf8')) as T;
  }

  /** A request the Director answers with `302 Location: /tasks/:id`; returns that task. */
  async #task(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<DirectorTask> {
    const response = await this.#authorized(method, path, { ...options, expect: [302] });
    const location = response.headers.location ?? '';
    const match = /\/tasks\/(\d+)/.exec(location);
    if (!match)
      throw new InternalError(`${method} ${path}: the Director redirected to '${location}', not to a task`);
    return this.task(Number(match[1]));
  }

  /** `/info` (no authentication), cached per client. */
  info(): Promise<DirectorInfo> {
    this.#info ??= this.#http.json<DirectorInfo>('GET', '/info', { anonymous: true, expect: [200] });
    this.#info.catch(() => {
      this.#info = undefined;
    });
    return this.#info;
  }

  deployments(): Promise<DeploymentSummary[]> {
    return this.#json('GET', '/deployments?exclude_configs=true');
  }

  /** The deployment's manifest, or undefined when the deployment does not exist. */
  async manifest(name: string): Promise<string | undefined> {
    try {
      return (await this.#json<{ manifest: string }>('GET', `/deployments/${encodeURIComponent(name)}`))
        .manifest;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  diff(name: string, manifest: string, { redact = true }: { redact?: boolean } = {}): Promise<ManifestDiff> {
    return this.#json('POST', `/deployments/${encodeURIComponent(name)}/diff?redact=${redact}`, {
      headers: { 'Content-Type': 'text/yaml' },
      body: manifest,
    });
  }

  /** Deploys a manifest: the diff first (its context pins the cloud config), then `POST /deployments`. */
  async deploy(manifest: string, options: DeployOptions = {}): Promise<DirectorTask> {
    const query = new URLSearchParams();
    if (options.diff !== false) {
      const name = /^name:\s*["']?([^"'\s#]+)/m.exec(manifest)?.[1];
      if (name) {
        const diff = await this.diff(name, manifest);
        query.set('context', JSON.stringify(diff.context));
      }
    }
    if (options.recreate) query.set('recreate', 'true');
    if (options.fix) query.set('fix', 'true');
    if (options.dryRun) query.set('dry_run', 'true');
    if (options.skipDrain) query.set('skip_drain', '*');
    if (options.canaries !== undefined) query.set('canaries', String(options.canaries));
    if (options.maxInFlight !== undefined) query.set('max_in_flight', String(options.maxInFlight));
    return this.#task('POST', `/deployments?${query}`, {
      headers: {
        'Content-Type': 'text/yaml',
        ...(options.contextId ? { 'X-Bosh-Context-Id': options.contextId } : {}),
      },
      body: manifest,
    });
  }

  deleteDeployment(
    name: string,
    options: { force?: boolean; contextId?: string } = {},
  ): Promise<DirectorTask> {
    return this.#task(
      'DELETE',
      `/deployments/${encodeURIComponent(name)}${options.force ? '?force=true' : ''}`,
      {
        headers: options.contextId ? { 'X-Bosh-Context-Id': options.contextId } : {},
      },
    );
  }

  task(id: number): Promise<DirectorTask> {
    return this.#json('GET', `/tasks/${id}`);
  }

  tasks(filter: TaskListFilter = {}): Promise<DirectorTask[]> {
    const query = new URLSearchParams({ verbose: String(filter.verbose ?? 1) });
    if (filter.states) query.set('state', filter.states.join(','));
    if (filter.deployment) query.set('deployment', filter.deployment);
    if (filter.contextId) query.set('context_id', filter.contextId);
    if (filter.limit) query.set('limit', String(filter.limit));
    return this.#json('GET', `/tasks?${query}`);
  }

  async cancelTask(id: number): Promise<void> {
    await this.#authorized('DELETE', `/tasks/${id}`, { expect: [200, 204] });
  }

  /** `POST /tasks/cancel`: cancels every task matching the filter (default: queued and processing). */
  async cancelTasks(
    filter: { deployment?: string; states?: DirectorTaskState[]; types?: string[] } = {},
  ): Promise<void> {
    await this.#authorized('POST', '/tasks/cancel', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(filter),
      expect: [200, 204],
    });
  }

  /** Whole output of a task: `event`, `result`, `debug` or `cpi`. */
  async taskOutput(id: number, type: 'event' | 'result' | 'debug' | 'cpi'): Promise<string> {
    return (
      await this.#authorized('GET', `/tasks/${id}/output?type=${type}`, { expect: [200, 204] })
    ).body.toString('utf8');
  }

  /** The result output as JSON lines (errand results, `instances --format=full`). */
  async taskResult<T = unknown>(id: number): Promise<T[]> {
    return (await this.taskOutput(id, 'result'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  }

  /**
   * Reads the event log from byte `offset` with a `Range` request (206 with new bytes, 416 when there
   * are none). Returns complete lines only; `offset` moves past them, so a partial line is read again.
   */
  async eventsFrom(id: number, offset: number): Promise<{ events: TaskEvent[]; offset: number }> {
    const response = await this.#authorized('GET', `/tasks/${id}/output?type=event`, {
      headers: { Range: `bytes=${offset}-` },
      expect: [200, 206, 204, 416],
    });
    if (response.status === 416 || response.status === 204) return { events: [], offset };
    // A Director that ignores Range answers 200 with everything: skip what we had.
    const bytes = response.status === 200 ? response.body.subarray(offset) : response.body;
    const lastNewline = bytes.lastIndexOf(0x0a);
    if (lastNewline < 0) return { events: [], offset };
    const complete = bytes.subarray(0, lastNewline + 1);
    const events = complete
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as TaskEvent);
    return { events, offset: offset + complete.length };
  }

  /**
   * Follows a task to its end and returns it (whatever the state). Uses the Director's push stream when
   * advertised, else polls `/tasks/:id` with backoff while tailing the event log.
   */
  async followTask(id: number, options: FollowOptions = {}): Promise<DirectorTask> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let offset = 0;
    const emit = (events: TaskEvent[]) => {
      for (const event of events) options.onEvent?.(event);
    };
    const info = await this.info().catch(() => undefined);
    const stream = info?.features?.[EVENT_STREAM_FEATURE];
    if (this.#options.useEventStream !== false && stream?.status === true) {
      try {
        const pathTemplate =
          typeof stream.extras?.path === 'string' ? stream.extras.path : '/tasks/:id/event_stream';
        const outcome = await this.#stream(
          pathTemplate.replace(':id', String(id)),
          options,
          deadline,
          (event, position) => {
            offset = position;
            emit([event]);
          },
        );
        if (outcome !== undefined) return outcome;
      } catch (error) {
        if (
          error instanceof UnauthenticatedError ||
          error instanceof ForbiddenError ||
          error instanceof NotFoundError
        )
          throw error;
        // The stream broke: carry on by polling from where it stopped.
      }
    }
    const { initialMs = 250, maxMs = 5_000 } = this.#options.poll ?? {};
    let interval = initialMs;
    for (;;) {
      if (options.signal?.aborted) throw new InternalError(`following task ${id} was aborted`);
      const tail = await this.eventsFrom(id, offset);
      offset = tail.offset;
      emit(tail.events);
      const task = await this.task(id);
      if (isTerminal(task.state)) {
        const rest = await this.eventsFrom(id, offset);
        emit(rest.events);
        return task;
      }
      if (Date.now() > deadline)
        throw new InternalError(`task ${id} is still ${task.state} after ${options.timeoutMs} ms`);
      interval = tail.events.length > 0 ? initialMs : Math.min(maxMs, interval * 2);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))),
      );
    }
  }

  /** Reads the server-sent event stream; resolves with the final task, or undefined if it ended early. */
  async #stream(
    path: string,
    options: FollowOptions,
    deadline: number,
    onEvent: (event: TaskEvent, offset: number) => void,
  ): Promise<DirectorTask | undefined> {
    // The follow's deadline and its signal bound the opening too, not only the events after it: a
    // Director that holds the headers back must not keep a follow past either.
    const res = await this.#http.stream('GET', path, {
      headers: { Accept: 'text/event-stream' },
      ...(Number.isFinite(deadline)
        ? { timeoutMs: Math.max(1, Math.min(CALL_TIMEOUT_MS, deadline - Date.now())) }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return new Promise((resolve, reject) => {
      let buffer = '';
      let finished: DirectorTask | undefined;
      const timer = Number.isFinite(deadline)
        ? setTimeout(() => res.destroy(new Error('deadline')), deadline - Date.now())
        : undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const fields: Record<string, string> = {};
          for (const line of message.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
          }
          if (fields.event === 'event' && fields.data)
            onEvent(JSON.parse(fields.data) as TaskEvent, Number(fields.id ?? 0));
          if (fields.event === 'task' && fields.data) finished = JSON.parse(fields.data) as DirectorTask;
        }
      });
      res.on('end', () => resolve(finished));
      res.on('error', reject);
      res.on('close', () => {
        clearTimeout(timer);
        // Destroyed (the deadline, an abort) before its end: the stream broke.
        if (!res.complete) reject(new Error('the event stream ended early'));
      });
    });
  }

  /** Follows a task and returns it when `done`; any other end throws DirectorTaskError with the log's error. */
  async waitForTask(id: number, options: FollowOptions = {}): Promise<DirectorTask> {
    let lastError: string | undefined;
    const task = await this.followTask(id, {
      ...options,
      onEvent: (event) => {
        if (event.error?.message) lastError = event.error.message;
        options.onEvent?.(event);
      },
    });
    if (task.state !== 'done') throw new DirectorTaskError(task, lastError ?? task.result ?? undefined);
    return task;
  }

  instances(deployment: string): Promise<Instance[]> {
    return this.#json('GET', `/deployments/${encodeURIComponent(deployment)}/instances`);
  }

  vms(deployment: string): Promise<Instance[]> {
    return this.#json('GET', `/deployments/${encodeURIComponent(deployment)}/vms`);
  }

  /** `instances --details`: a task whose result has one JSON line per instance. */
  async instancesFull(deployment: string): Promise<Record<string, unknown>[]> {
    const task = await this.#task(
      'GET',
      `/deployments/${encodeURIComponent(deployment)}/instances?format=full`,
    );
    await this.waitForTask(task.id);
    return this.taskResult(task.id);
  }

  errands(deployment: string): Promise<{ name: string }[]> {
    return this.#json('GET', `/deployments/${encodeURIComponent(deployment)}/errands`);
  }

  runErrand(
    deployment: string,
    errand: string,
    options: {
      keepAlive?: boolean;
      whenChanged?: boolean;
      instances?: { group: string; id: string }[];
      contextId?: string;
    } = {},
  ): Promise<DirectorTask> {
    return this.#task(
      'POST',
      `/deployments/${encodeURIComponent(deployment)}/errands/${encodeURIComponent(errand)}/runs`,
      {
        headers: {
          'Content-Type': 'application/json',
          ...(options.contextId ? { 'X-Bosh-Context-Id': options.contextId } : {}),
        },
        body: JSON.stringify({
          'keep-alive': options.keepAlive ?? false,
          'when-changed': options.whenChanged ?? false,
          instances: options.instances ?? [],
        }),
      },
    );
  }

  /** Runs an errand to its end and returns each instance's result (exit code, stdout, stderr). */
  async runErrandAndWait(
    deployment: string,
    errand: string,
    options: Parameters<DirectorClient['runErrand']>[2] = {},
  ): Promise<ErrandResult[]> {
    const task = await this.runErrand(deployment, errand, options);
    await this.waitForTask(task.id);
    return this.taskResult<ErrandResult>(task.id);
  }

  configs(filter: { type?: string; name?: string; latest?: boolean } = {}): Promise<DirectorConfig[]> {
    const query = new URLSearchParams({ latest: String(filter.latest ?? true) });
    if (filter.type) query.set('type', filter.type);
    if (filter.name) query.set('name', filter.name);
    return this.#json('GET', `/configs?${query}`);
  }

  updateConfig(config: { type: string; name?: string; content: string }): Promise<DirectorConfig> {
    return this.#json('POST', '/configs', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: config.type, name: config.name ?? 'default', content: config.content }),
      expect: [200, 201],
    });
  }

  async deleteConfig(type: string, name = 'default'): Promise<void> {
    await this.#authorized(
      'DELETE',
      `/configs?type=${encodeURIComponent(type)}&name=${encodeURIComponent(name)}`,
      { expect: [204] },
    );
  }

  async cloudConfig(): Promise<string | undefined> {
    return (await this.configs({ type: 'cloud', name: 'default' }))[0]?.content;
  }

  updateCloudConfig(content: string): Promise<DirectorConfig> {
    return this.updateConfig({ type: 'cloud', name: 'default', content });
  }

  stemcells(): Promise<Stemcell[]> {
    return this.#json('GET', '/stemcells');
  }

  /** `upload-stemcell <url>`: the Director fetches it (the embedded one registers the metadata). */
  async uploadStemcell(source: {
    location: string;
    sha1?: string;
    name?: string;
    version?: string;
    operating_system?: string;
  }): Promise<DirectorTask> {
    const task = await this.#task('POST', '/stemcells', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(source),
    });
    return this.waitForTask(task.id);
  }

  releases(): Promise<Release[]> {
    return this.#json('GET', '/releases');
  }

  async uploadRelease(source: {
    location: string;
    sha1?: string;
    name?: string;
    version?: string;
    job_names?: string[];
  }): Promise<DirectorTask> {
    const task = await this.#task('POST', '/releases', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(source),
    });
    return this.waitForTask(task.id);
  }
}

/** The Director's refusal in the domain's words, as BOSH's statuses mean them; the message is BOSH's own. */
function directorError(refused: HttpStatusError): Error {
  const message = `${refused.method} ${refused.path}: ${refused.description}`;
  const details = { cause: refused, details: { status: refused.status } };
  switch (refused.status) {
    case 400:
    case 422:
      return new InputError(undefined, message, details);
    case 401:
      return new UnauthenticatedError(message, details);
    case 403:
      return new ForbiddenError(message, details);
    case 404:
      return new NotFoundError(message, details);
    case 409:
      return new ConflictError(message, details);
    default:
      return new InternalError(message, details);
  }
}
