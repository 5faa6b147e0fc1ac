import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDocument } from 'yaml';
import { migrate, type Database, type Unlisten } from '@openpks/db';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError } from '@openpks/domain';
import { issueCertificate, type SecretBox, type ServerCredentials } from '@openpks/pki';
import { listenHttps, type HttpsListener, type Logger } from '@openpks/role';
import { followRevocations, RevocationList, UaaTokenVerifier, type TokenVerifier } from '@openpks/auth';
import { SimCpi, type SimCpiOptions } from '../cpi/simCpi.js';
import type { AgentInstance, ErrandOutcome } from '../cpi/agent.js';
import { Lifecycle, parseManifest, type Job, type Manifest } from '../manifest/manifest.js';
import { KUBE_APISERVER_JOB, SimAgent } from '../sim/simAgent.js';
import type { SimNode } from '../sim/kubeApi.js';
import { StoredClusterRoleBindings } from '../sim/rbac.js';
import { CONFIG_SERVER_PATH, createConfigServerApi } from './configServerApi.js';
import { Deployer, type DeployParams } from './deployer.js';
import { diffManifests } from './diff.js';
import { DirectorAuth, NotAuthorized, sendNotAuthorized } from './directorAuth.js';
import { Router, parseJson, readBody, sendError, sendJson } from './http.js';
import { EventStore, withEvents } from './events.js';
import { instanceDetails } from './instanceDetails.js';
import { directorMigrations } from './migrations.js';
import { addReadRoutes, taskId } from './readRoutes.js';
import { TaskRunner, type TaskContext } from './runner.js';
import { ACTIVE_TASK_STATES, TaskState } from '../protocol/types.js';
import {
  OutputType,
  TASK_EVENTS_CHANNEL,
  type TaskNotice,
  TaskType,
  taskJson,
  taskNotFound,
  type TaskStore as TaskStoreType,
} from './tasks.js';
import { TaskStore } from './tasks.js';
import { VariableStore, type VariableValue } from './variables.js';

export const DEFAULT_DIRECTOR_WORKERS = 5;
export const DIRECTOR_VERSION = '270.11.0 (openpks embedded)';
/** The `/info` feature that advertises the push stream of task events (an openpks extension). */
export const TASK_EVENT_STREAM_FEATURE = 'openpks_task_event_stream';

/** Knobs of the sim CPI and its agent (pks.yaml `director.sim`). */
export interface SimOptions extends SimCpiOptions {
  /** Port the sim masters serve the Kubernetes API on, at their VM IP (default 8443). */
  kubePort?: number;
  /** Errand outcomes by errand name (default: exit code 0). */
  errands?: Record<string, ErrandOutcome>;
  /** A CPI call slower than this ends its task `timeout` (default 60 s). */
  cpiTimeoutMs?: number;
}

export interface EmbeddedDirectorOptions {
  db: Database;
  secrets: SecretBox;
  logger: Logger;
  credentials: ServerCredentials;
  host?: string;
  /** Default 25555; tests pass 0. */
  port?: number;
  /** The UAA the Director advertises in `/info` and whose tokens it accepts. */
  uaa: { url: string; issuer?: string; ca?: string };
  /** Overrides the verifier of Director tokens (default: UAA's keys and issuer). */
  verifier?: TokenVerifier;
  /** Overrides the verifier of kubeconfig id tokens at sim masters (default: UAA, audience pks_cluster_client). */
  kubeVerifier?: TokenVerifier;
  workers?: number;
  name?: string;
  sim?: SimOptions;
  /** Lease of a running task; a director that dies leaves it to expire (default 15 s). */
  leaseMs?: number;
  pollMs?: number;
  maxResumes?: number;
  /** Register releases and stemcells a manifest names but nobody uploaded (default true: PKS's tile did). */
  autoRegisterArtifacts?: boolean;
}

const KUBE_CLIENT_ID = 'pks_cluster_client';

/**
 * The embedded BOSH Director: the Director HTTP API over HTTPS, durable tasks run by a worker pool,
 * deploy semantics, a config server for variables, and the sim CPI. Driven by the same DirectorClient
 * as a real Director.
 */
export class EmbeddedDirector {
  readonly cpi: SimCpi;
  readonly agent: SimAgent;
  readonly tasks: TaskStoreType;
  /** The Director's audit trail (`GET /events`). */
  readonly events: EventStore;
  readonly #deployer: Deployer;
  readonly #variables: VariableStore;
  readonly #runner: TaskRunner;
  readonly #router = new Router();
  readonly #verifier: TokenVerifier;
  readonly #auth: DirectorAuth;
  readonly #configServer: ReturnType<typeof createConfigServerApi>;
  #listener: HttpsListener | undefined;
  #unlisten: Unlisten | undefined;
  /** UAA's published revocations, so a revoked token stops working here too, not only at UAA. */
  readonly #revocations = new RevocationList();
  #stopFollowingRevocations: (() => Promise<void>) | undefined;
  readonly #taskWatchers = new Map<number, Set<() => void>>();
  #uuid = '';
  #stopped: Promise<void> | undefined;

  private constructor(private readonly options: EmbeddedDirectorOptions) {
    const { db, logger } = options;
    const issuer = options.uaa.issuer ?? `${options.uaa.url}/oauth/token`;
    this.#verifier =
      options.verifier ??
      new UaaTokenVerifier({
        issuer,
        jwksUrl: `${options.uaa.url}/token_keys`,
        revocations: this.#revocations,
        ...(options.uaa.ca ? { ca: options.uaa.ca } : {}),
      });
    const kubeVerifier =
      options.kubeVerifier ??
      new UaaTokenVerifier({
        issuer,
        jwksUrl: `${options.uaa.url}/token_keys`,
        audience: KUBE_CLIENT_ID,
        revocations: this.#revocations,
        ...(options.uaa.ca ? { ca: options.uaa.ca } : {}),
      });
    this.#auth = new DirectorAuth(this.#verifier, () => this.#uuid, logger);
    this.cpi = new SimCpi(db, options.sim ?? {});
    this.tasks = new TaskStore(db);
    this.events = new EventStore(db);
    this.#variables = new VariableStore(db, options.secrets);
    this.agent = new SimAgent({
      kubeVerifier,
      kubePort: options.sim?.kubePort ?? 8443,
      kubeCredentials: (instance) => this.#kubeCredentials(instance),
      clusterRoleBindings: (deployment) => new StoredClusterRoleBindings(db, deployment),
      nodes: (deployment) => this.#workerNodes(deployment),
      ...(options.sim?.errands ? { errands: options.sim.errands } : {}),
      logger,
    });
    this.#configServer = createConfigServerApi({
      variables: this.#variables,
      directorName: this.name,
      verifier: this.#verifier,
      uuid: () => this.#uuid,
      logger,
    });
    this.#deployer = new Deployer(db, this.cpi, this.agent, this.#variables, {
      directorName: this.name,
      maxThreads: 10,
      cpiTimeoutMs: options.sim?.cpiTimeoutMs ?? 60_000,
      autoRegisterArtifacts: options.autoRegisterArtifacts ?? true,
    });
    this.#runner = new TaskRunner(
      db,
      this.tasks,
      {
        [TaskType.UPDATE_DEPLOYMENT]: {
          resumable: true,
          run: async (context) => {
            const params = context.task.params as unknown as DeployParams;
            const deploy = () => this.#deployer.deploy(context, params);
            // A dry run changes nothing, so it records no change.
            if (params.dryRun === true) return deploy();
            const before = await this.#manifestOf(context.task.deployment!).then(
              parseManifest,
              () => undefined,
            );
            return withEvents(
              this.events,
              context,
              this.#deploymentEvent(context, before === undefined ? 'create' : 'update'),
              deploy,
              { before: artifactsOf(before), after: artifactsOf(parseManifest(params.manifest)) },
            );
          },
        },
        [TaskType.DELETE_DEPLOYMENT]: {
          resumable: true,
          run: (context) =>
            withEvents(this.events, context, this.#deploymentEvent(context, 'delete'), () =>
              this.#deployer.delete(context, context.task.deployment!, context.task.params.force === true),
            ),
        },
        [TaskType.RUN_ERRAND]: {
          resumable: false,
          run: (context) =>
            withEvents(
              this.events,
              context,
              {
                action: 'run',
                objectType: 'errand',
                objectName: String(context.task.params.errand),
                deployment: context.task.deployment,
              },
              () =>
                this.#deployer.runErrand(
                  context,
                  context.task.deployment!,
                  String(context.task.params.errand),
                  context.task.params.keepAlive === true,
                ),
            ),
        },
        [TaskType.VMS]: {
          resumable: true,
          run: async (context) => {
            const deployment = context.task.deployment!;
            // A failed first deploy has instances but no manifest yet.
            const manifest = await this.#manifestOf(deployment).then(parseManifest, () => undefined);
            const rows = (await this.#deployer.instances(deployment)).filter(
              (row) => context.task.params.vmsOnly !== true || row.vm_cid !== null,
            );
            const { rows: stemcells } = await db.query<{
              name: string;
              operating_system: string;
              version: string;
            }>('SELECT name, operating_system, version FROM director.stemcells');
            const kubePort = options.sim?.kubePort ?? 8443;
            for (const line of await instanceDetails(rows, manifest, { kubePort, stemcells }))
              await context.result(line);
            return 'retrieved vm-state';
          },
        },
        [TaskType.UPLOAD_STEMCELL]: {
          resumable: true,
          run: (context) =>
            this.#recordUpload(context, 'stemcell', () => this.#uploadStemcell(context.task.params)),
        },
        [TaskType.UPLOAD_RELEASE]: {
          resumable: true,
          run: (context) =>
            this.#recordUpload(context, 'release', () => this.#uploadRelease(context.task.params)),
        },
      },
      {
        workers: options.workers ?? DEFAULT_DIRECTOR_WORKERS,
        leaseMs: options.leaseMs ?? 15_000,
        pollMs: options.pollMs ?? 1_000,
        maxResumes: options.maxResumes ?? 3,
      },
      logger,
    );
    this.#routes();
  }

  static async start(options: EmbeddedDirectorOptions): Promise<EmbeddedDirector> {
    const director = new EmbeddedDirector(options);
    try {
      await director.#start();
    } catch (error) {
      // Whatever started (sim masters, the listener, the LISTEN) must not outlive a failed start.
      await director.stop().catch(() => undefined);
      throw error;
    }
    return director;
  }

  get url(): string {
    if (this.#listener === undefined) throw new Error('the director is not listening');
    return this.#listener.url;
  }

  /** The Director's name (`/info` `name`), the first segment of its config server's variable names. */
  get name(): string {
    return this.options.name ?? 'openpks-director';
  }

  get uuid(): string {
    return this.#uuid;
  }

  async #start(): Promise<void> {
    const { db, logger } = this.options;
    await migrate(db, { schema: 'director', migrations: directorMigrations });
    await db.query(`INSERT INTO director.settings (key, value) VALUES ('uuid', $1) ON CONFLICT DO NOTHING`, [
      randomUUID(),
    ]);
    const { rows } = await db.query<{ value: string }>(
      `SELECT value FROM director.settings WHERE key = 'uuid'`,
    );
    this.#uuid = rows[0]!.value;
    this.#stopFollowingRevocations = await followRevocations(db, this.#revocations, {
      onError: (error) =>
        logger.warn({ err: error }, 'reading UAA revocations failed; retrying every second'),
    });
    this.#unlisten = await db.listen(TASK_EVENTS_CHANNEL, (payload) => {
      try {
        const { id, kind } = JSON.parse(payload) as TaskNotice;
        // Event streams show event lines and the end state; debug and result output is not theirs.
        if (kind !== OutputType.EVENT && kind !== 'state') return;
        for (const wake of this.#taskWatchers.get(id) ?? []) wake();
      } catch {
        // a malformed notification wakes nobody
      }
    });
    // The sim masters of deployed clusters serve again, as their VMs' jobs would after a reboot.
    const { rows: instances } = await db.query<{ deployment: string }>(
      'SELECT DISTINCT deployment FROM director.instances WHERE vm_cid IS NOT NULL',
    );
    for (const { deployment } of instances) {
      // The jobs' properties (secrets included) are not stored: render them again from manifest and variables.
      const jobs = await this.#deployer.renderedJobs(deployment).catch(() => new Map<string, Job[]>());
      for (const instance of await this.#deployer.instances(deployment)) {
        if (instance.vm_cid === null || instance.config_hash === null) continue;
        await this.agent
          .start({
            deployment,
            instanceGroup: instance.instance_group,
            index: instance.index,
            uuid: instance.uuid,
            vmCid: instance.vm_cid,
            ip: instance.ips[0] ?? '',
            jobs: jobs.get(instance.instance_group) ?? instance.jobs,
          })
          .catch((error: unknown) => logger.warn({ err: error, deployment }, 'sim master did not come back'));
      }
    }
    this.#listener = await listenHttps({
      role: 'director',
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 25555,
      credentials: this.options.credentials,
      handler: (req, res) => this.#handle(req, res),
      logger,
      healthChecks: { database: async () => void (await db.query('SELECT 1')) },
      drainTimeoutMs: 2_000,
    });
    await this.#runner.start();
    logger.info(
      { url: this.#listener.url, cpi: 'sim', ipRange: this.cpi.ipRange },
      'embedded BOSH Director started',
    );
  }

  /** Graceful stop: running tasks stop at their next step and are released for the next director to resume. */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown(true);
    return this.#stopped;
  }

  /** Stops as a crash would look to the others: running tasks keep their (expiring) lease. For tests. */
  crash(): Promise<void> {
    this.#stopped ??= this.#shutdown(false);
    return this.#stopped;
  }

  async #shutdown(release: boolean): Promise<void> {
    for (const watchers of this.#taskWatchers.values()) for (const wake of watchers) wake();
    await this.#listener?.close();
    this.cpi.releaseHangs();
    await this.#runner.stop({ release });
    this.cpi.releaseHangs();
    await this.agent.close();
    await this.#unlisten?.();
    await this.#stopFollowingRevocations?.();
  }

  /**
   * Who is calling, and whether they may: every route but `/info` needs a verified token with a read
   * scope (GET) or an admin scope (anything else, and the debug and CPI logs of tasks, as in BOSH's
   * tasks controller). `/info` names the caller when the token verifies and stays open when it does not.
   */
  async #authorize(req: IncomingMessage, url: URL): Promise<string | undefined> {
    const { token, reason } = await this.#auth.identify(req);
    if (url.pathname === '/info') return token && DirectorAuth.userOf(token);
    if (token === undefined) throw new NotAuthorized(reason);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    const taskLog =
      /^\/tasks\/[^/]+\/output\/?$/.test(url.pathname) &&
      ['debug', 'cpi'].includes(url.searchParams.get('type') ?? 'debug');
    this.#auth.require(token, reading && !taskLog ? this.#auth.readScopes() : this.#auth.adminScopes());
    return DirectorAuth.userOf(token);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://director');
    if (url.pathname.startsWith(CONFIG_SERVER_PATH)) {
      await this.#configServer(req, res, url);
      return;
    }
    try {
      const found = this.#router.match(req.method ?? 'GET', url.pathname);
      (req as IncomingMessage & { user?: string }).user = await this.#authorize(req, url);
      const contextId = req.headers['x-bosh-context-id'];
      if (typeof contextId === 'string' && contextId.length > 64) {
        // BOSH's ContextIdViolatedMax, checked on every request as its base controller does.
        throw new InputError(
          'X-Bosh-Context-Id',
          'X-Bosh-Context-Id cannot be more than 64 characters in length',
          {
            details: { boshCode: 70010 },
          },
        );
      }
      if (found === undefined) throw new NotFoundError(`no route ${url.pathname}`);
      if (found === 'method') {
        sendJson(res, 405, { code: 100, description: `${req.method} is not allowed on ${url.pathname}` });
        return;
      }
      await found.handler(req, res, found.params, url.searchParams);
    } catch (error) {
      if (!(
        error instanceof UnauthenticatedError ||
        error instanceof ForbiddenError ||
        error instanceof NotFoundError ||
        error instanceof InputError
      )) {
        this.options.logger.error({ err: error, url: req.url }, 'director request failed');
      }
      if (res.headersSent) res.destroy();
      else if (error instanceof UnauthenticatedError)
        sendNotAuthorized(res, url.pathname, error instanceof NotAuthorized ? error.reason : error.message);
      else sendError(res, error);
    }
  }

  #redirectToTask(req: IncomingMessage, res: ServerResponse, id: number): void {
    res.writeHead(302, {
      Location: `https://${req.headers.host ?? '127.0.0.1'}/tasks/${id}`,
      'Content-Length': '0',
    });
    res.end();
  }

  #user(req: IncomingMessage): string | undefined {
    return (req as IncomingMessage & { user?: string }).user;
  }

  #contextId(req: IncomingMessage): string | undefined {
    const header = req.headers['x-bosh-context-id'];
    return typeof header === 'string' && header !== '' ? header : undefined;
  }

  /** A deployment exists once deployed, or while a failed first deploy left instances behind. */
  async #requireDeployment(name: string): Promise<void> {
    const { rowCount } = await this.options.db.query(
      `SELECT 1 FROM director.deployments WHERE name = $1
       UNION ALL SELECT 1 FROM director.instances WHERE deployment = $1 LIMIT 1`,
      [name],
    );
    if (rowCount === 0) throw new NotFoundError(`Deployment '${name}' doesn't exist`);
  }

  async #manifestOf(name: string): Promise<string> {
    const { rows } = await this.options.db.query<{ manifest: string }>(
      'SELECT manifest FROM director.deployments WHERE name = $1',
      [name],
    );
    if (rows[0] === undefined) throw new NotFoundError(`Deployment '${name}' doesn't exist`);
    return rows[0].manifest;
  }

  #deploymentEvent(context: TaskContext, action: string) {
    const deployment = context.task.deployment!;
    return { action, objectType: 'deployment', objectName: deployment, deployment };
  }

  /** An upload records one event when it ends: what it registered (`/stemcells/name/version`), or why not. */
  async #recordUpload(
    context: TaskContext,
    objectType: string,
    upload: () => Promise<string>,
  ): Promise<string> {
    const base = { user: context.task.username, action: 'create', objectType, task: context.task.id };
    // A lost event is said in the debug log; it must not turn a registered upload into a failure.
    const unrecorded = (failure: unknown) =>
      context.debug(`could not record the ${objectType} event: ${String(failure)}`).catch(() => undefined);
    let result: string;
    try {
      result = await upload();
    } catch (error) {
      await this.events.record({ ...base, error: (error as Error).message }).catch(unrecorded);
      throw error;
    }
    await this.events.record({ ...base, objectName: result.split('/').slice(2).join('/') }).catch(unrecorded);
    return result;
  }

  async #enqueue(
    req: IncomingMessage,
    res: ServerResponse,
    type: TaskType,
    description: string,
    deployment: string | undefined,
    params: Record<string, unknown>,
  ): Promise<void> {
    const task = await this.tasks.create({
      type,
      description,
      deployment,
      contextId: this.#contextId(req),
      username: this.#user(req),
      params,
    });
    // Runs at once, without waiting for the notification where it comes late (PostgreSQL's LISTEN).
    this.#runner.wake(task.id);
    this.#redirectToTask(req, res, task.id);
  }

  #routes(): void {
    const db = this.options.db;
    const r = this.#router;
    r.on('GET', '/info', async (req, res) => {
      // The config server (CredHub's read API) is on this listener; name it as the client reached us.
      const origin = `https://${req.headers.host ?? new URL(this.url).host}`;
      sendJson(res, 200, {
        name: this.name,
        uuid: this.#uuid,
        version: DIRECTOR_VERSION,
        user: this.#user(req) ?? null,
        cpi: 'sim',
        stemcell_os: 'ubuntu-xenial',
        stemcell_version: '621.29',
        user_authentication: {
          type: 'uaa',
          options: { url: this.options.uaa.url, urls: [this.options.uaa.url] },
        },
        features: {
          local_dns: { status: false, extras: { domain_name: 'bosh' } },
          power_dns: { status: false, extras: { domain_name: 'bosh' } },
          snapshots: { status: false },
          config_server: { status: true, extras: { urls: [`${origin}${CONFIG_SERVER_PATH}`] } },
          [TASK_EVENT_STREAM_FEATURE]: {
            status: true,
            extras: { path: '/tasks/:id/event_stream', content_type: 'text/event-stream' },
          },
        },
      });
    });

    addReadRoutes(r, {
      db,
      tasks: this.tasks,
      events: this.events,
      instances: (deployment) => this.#deployer.instances(deployment),
      requireDeployment: (name) => this.#requireDeployment(name),
      manifestOf: (name) => this.#manifestOf(name),
      certificates: () => [
        { path: 'director.ssl.cert', pem: this.options.credentials.cert },
        { path: 'director.ssl.ca', pem: this.options.credentials.ca },
      ],
      enqueue: (req, res, type, description, deployment, params) =>
        this.#enqueue(req, res, type, description, deployment, params),
    });

    r.on('POST', '/deployments', async (req, res, _params, query) => {
      const text = await readBody(req);
      let name: string;
      try {
        const parsed: unknown = parseDocument(text).toJS();
        name = String((parsed as { name?: unknown } | null)?.name ?? '');
      } catch {
        name = '';
      }
      if (name === '') throw new InputError('manifest', 'Manifest should contain a deployment name');
      const flag = (key: string) => query.get(key) === 'true';
      const params: DeployParams = {
        manifest: text,
        recreate: flag('recreate'),
        fix: flag('fix'),
        dryRun: flag('dry_run'),
        skipDrain: query.has('skip_drain') && query.get('skip_drain') !== 'false',
        ...(query.get('canaries') ? { canaries: Number(query.get('canaries')) } : {}),
        ...(query.get('max_in_flight') ? { maxInFlight: String(query.get('max_in_flight')) } : {}),
      };
      await this.#enqueue(
        req,
        res,
        TaskType.UPDATE_DEPLOYMENT,
        'create deployment',
        name,
        params as unknown as Record<string, unknown>,
      );
    });

    r.on('POST', '/deployments/:name/diff', async (req, res, { name }) => {
      const text = await readBody(req);
      const { rows } = await db.query<{ manifest: string }>(
        'SELECT manifest FROM director.deployments WHERE name = $1',
        [name],
      );
      let diff;
      try {
        diff = diffManifests(rows[0]?.manifest, text);
      } catch (error) {
        throw new InputError(
          'manifest',
          `Incorrect YAML structure of the uploaded manifest: ${(error as Error).message}`,
        );
      }
      const { rows: cloud } = await db.query<{ id: number | null }>(
        "SELECT max(id) AS id FROM director.configs WHERE type = 'cloud' AND NOT deleted",
      );
      sendJson(res, 200, {
        context: { cloud_config_ids: cloud[0]?.id ? [String(cloud[0].id)] : [], runtime_config_ids: [] },
        diff,
      });
    });

    r.on('DELETE', '/deployments/:name', async (req, res, { name }, query) => {
      await this.#requireDeployment(name!);
      await this.#enqueue(req, res, TaskType.DELETE_DEPLOYMENT, `delete deployment ${name}`, name, {
        force: query.get('force') === 'true',
      });
    });

    r.on('GET', '/deployments/:name/errands', async (_req, res, { name }) => {
      const manifest = parseManifest(await this.#manifestOf(name!));
      sendJson(
        res,
        200,
        manifest.instanceGroups
          .filter((g) => g.lifecycle === Lifecycle.ERRAND)
          .map((g) => ({ name: g.name })),
      );
    });

    r.on('POST', '/deployments/:name/errands/:errand/runs', async (req, res, { name, errand }) => {
      const body = parseJson(await readBody(req));
      await this.#manifestOf(name!);
      await this.#enqueue(req, res, TaskType.RUN_ERRAND, `run errand ${errand}`, name, {
        errand,
        keepAlive: body['keep-alive'] === true,
      });
    });

    r.on('POST', '/tasks/cancel', async (req, res) => {
      const body = parseJson(await readBody(req));
      const rows = await this.tasks.list({
        states: Array.isArray(body.states) ? body.states.map(String) : ['queued', 'processing'],
        ...(typeof body.deployment === 'string' ? { deployment: body.deployment } : {}),
        ...(Array.isArray(body.types) ? { types: body.types.map(String) } : {}),
        limit: 1000,
      });
      for (const row of rows) await this.tasks.cancel(row.id);
      res.writeHead(204);
      res.end();
    });

    r.on('DELETE', '/tasks/:id', async (_req, res, { id }) => {
      await this.tasks.cancel(taskId(id!));
      res.writeHead(204);
      res.end();
    });

    // `bosh cancel-task N` sends DELETE /task/N (BOSH's TaskController): a task already ended is a 400.
    r.on('DELETE', '/task/:id', async (_req, res, { id }) => {
      const task = await this.tasks.summary(taskId(id!));
      if (task.state !== TaskState.QUEUED && task.state !== TaskState.PROCESSING) {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Cannot cancel task ${task.id}: invalid state (${task.state})`);
        return;
      }
      await this.tasks.cancel(task.id);
      res.writeHead(204);
      res.end();
    });

    r.on('GET', '/tasks/:id/event_stream', async (req, res, { id }) =>
      this.#eventStream(req, res, taskId(id!)),
    );

    r.on('POST', '/configs', async (req, res) => {
      const body = parseJson(await readBody(req));
      const type = typeof body.type === 'string' ? body.type : '';
      const name = typeof body.name === 'string' && body.name !== '' ? body.name : 'default';
      const content = typeof body.content === 'string' ? body.content : '';
      if (type === '') throw new InputError('type', "Required property 'type' was not specified");
      try {
        parseDocument(content, { uniqueKeys: true }).toJS();
      } catch (error) {
        throw new InputError('content', `Config must be valid YAML: ${(error as Error).message}`);
      }
      // As BOSH: the same content as the latest config of that type and name makes no new version.
      const { rows: latest } = await db.query<{ id: number; content: string; created_at: Date }>(
        `SELECT id, content, created_at FROM director.configs WHERE type = $1 AND name = $2 AND NOT deleted
         ORDER BY id DESC LIMIT 1`,
        [type, name],
      );
      let config = latest[0]?.content === content ? latest[0] : undefined;
      if (config === undefined) {
        const { rows } = await db.query<{ id: number; content: string; created_at: Date }>(
          'INSERT INTO director.configs (type, name, content) VALUES ($1, $2, $3) RETURNING id, content, created_at',
          [type, name, content],
        );
        config = rows[0]!;
        await this.events.record({
          user: this.#user(req) ?? null,
          action: 'create',
          objectType: `config/${type}`,
          objectName: name,
        });
      }
      sendJson(res, 201, {
        id: String(config.id),
        type,
        name,
        content,
        created_at: new Date(config.created_at).toISOString(),
        team: null,
      });
    });

    r.on('DELETE', '/configs', async (_req, res, _params, query) => {
      const { rowCount } = await db.query(
        'UPDATE director.configs SET deleted = true WHERE type = $1 AND name = $2 AND NOT deleted',
        [query.get('type'), query.get('name') ?? 'default'],
      );
      res.writeHead(rowCount > 0 ? 204 : 404);
      res.end();
    });

    r.on('POST', '/stemcells', async (req, res) => {
      const body = parseJson(await readBody(req));
      await this.#enqueue(req, res, TaskType.UPLOAD_STEMCELL, 'create stemcell', undefined, body);
    });

    r.on('POST', '/releases', async (req, res) => {
      const body = parseJson(await readBody(req));
      await this.#enqueue(req, res, TaskType.UPLOAD_RELEASE, 'create release', undefined, body);
    });
  }

  /** Server-sent events for one task: each event-log line, then the final task state. Resumes at `Last-Event-ID` (a byte offset). */
  async #eventStream(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    let offset = Number(req.headers['last-event-id'] ?? 0) || 0;
    // Read position in the task's event rows: the last row read, and the bytes read but not yet sent
    // (a line's end not yet written, or what lies before `offset`) starting at byte `unreadAt`.
    let cursor = 0;
    let unread = Buffer.alloc(0);
    let unreadAt = 0;
    // Armed before each look, so a notification that arrives while the look runs still wakes the next.
    let wake: () => void = () => {};
    let pending: Promise<void> = Promise.resolve();
    const arm = () => {
      pending = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 5_000).unref();
      });
    };
    const watchers = this.#taskWatchers.get(id) ?? new Set();
    this.#taskWatchers.set(id, watchers);
    let closed = false;
    const waker = () => wake();
    watchers.add(waker);
    const unwatch = () => {
      watchers.delete(waker);
      if (watchers.size === 0) this.#taskWatchers.delete(id);
    };
    req.on('close', () => {
      closed = true;
      wake();
    });
    // Each look reads the new event rows and the task's state in one statement (it was two, the second a
    // whole task row, once per event line). The first look doubles as the 404 check, before the headers.
    const look = async () => {
      arm();
      const seen = await this.tasks.outputSinceWithState(id, OutputType.EVENT, cursor);
      if (seen === undefined) throw taskNotFound(id);
      return seen;
    };
    let seen: Awaited<ReturnType<typeof look>> | undefined;
    try {
      seen = await look();
    } catch (error) {
      unwatch();
      throw error;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    try {
      while (!closed && this.#stopped === undefined) {
        // Only the rows written since the last look: re-reading the whole event log on every line made
        // a stream cost grow with the square of the log's length.
        seen ??= await look();
        const fresh = seen.rows;
        if (fresh.length > 0) {
          cursor = fresh[fresh.length - 1]!.id;
          unread = Buffer.concat([unread, ...fresh.map((row) => Buffer.from(row.text, 'utf8'))]);
        }
        // Skip what the client already has (Last-Event-ID), as far as it has been read.
        if (offset > unreadAt) {
          const skip = Math.min(offset - unreadAt, unread.length);
          unread = unread.subarray(skip);
          unreadAt += skip;
        }
        const lastNewline = unreadAt === offset ? unread.lastIndexOf(0x0a) : -1;
        if (lastNewline >= 0) {
          let position = offset;
          for (const line of unread
            .subarray(0, lastNewline + 1)
            .toString('utf8')
            .split('\n')) {
            if (line === '') continue;
            position += Buffer.byteLength(line) + 1;
            res.write(`id: ${position}\nevent: event\ndata: ${line}\n\n`);
          }
          unread = unread.subarray(lastNewline + 1);
          unreadAt = offset + lastNewline + 1;
          offset = unreadAt;
        }
        // The look's snapshot holds every event row written before the task ended, so none is missed.
        if (!ACTIVE_TASK_STATES.includes(seen.state)) {
          // Ended: the whole row, once, for the final `task` event.
          const task = await this.tasks.summary(id);
          res.write(`event: task\ndata: ${JSON.stringify(taskJson(task))}\n\n`);
          break;
        }
        res.write(': keep-alive\n\n');
        await pending;
        seen = undefined;
      }
    } finally {
      unwatch();
      res.end();
    }
  }

  async #uploadStemcell(params: Record<string, unknown>): Promise<string> {
    const location = typeof params.location === 'string' ? params.location : '';
    const fromUrl = /stemcells\/([^?]+)\?v=([\w.]+)/.exec(location);
    const name = typeof params.name === 'string' ? params.name : fromUrl?.[1];
    const version = typeof params.version === 'string' ? params.version : fromUrl?.[2];
    if (!name || !version) {
      throw new InputError(
        'location',
        'the sim registers stemcells from metadata: give name and version (or a bosh.io URL with ?v=)',
      );
    }
    const os =
      typeof params.operating_system === 'string'
        ? params.operating_system
        : (/(ubuntu-\w+|windows\w*)/.exec(name)?.[1] ?? 'ubuntu-xenial');
    const cid = await this.cpi.create_stemcell(location, {});
    await this.options.db.query(
      'INSERT INTO director.stemcells (name, version, operating_system, cid) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [name, version, os, cid],
    );
    return `/stemcells/${name}/${version}`;
  }

  async #uploadRelease(params: Record<string, unknown>): Promise<string> {
    const location = typeof params.location === 'string' ? params.location : '';
    const fromUrl = /releases\/[^/]+\/([^?/]+)\?v=([\w.]+)/.exec(location);
    const name = typeof params.name === 'string' ? params.name : fromUrl?.[1];
    const version = typeof params.version === 'string' ? params.version : fromUrl?.[2];
    if (!name || !version) {
      throw new InputError(
        'location',
        'the sim registers releases from metadata: give name and version (or a bosh.io URL with ?v=)',
      );
    }
    const jobs = Array.isArray(params.job_names) ? params.job_names.map(String) : [];
    await this.options.db.query(
      'INSERT INTO director.releases (name, version, commit_hash, job_names) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [
        name,
        version,
        typeof params.commit_hash === 'string' ? params.commit_hash : 'unknown',
        JSON.stringify(jobs),
      ],
    );
    return `/releases/${name}/${version}`;
  }

  /**
   * The serving certificate of a sim master: what its kube-apiserver job's `tls.kubernetes` property holds
   * (kubo's `((tls-kubernetes))` variable, with the external hostname and, through `consumes`, the master
   * IPs as SANs), as the real job serves it. A manifest that gives the job none gets a leaf for the VM's IP
   * signed by the deployment's CA variable.
   */
  async #kubeCredentials(instance: AgentInstance): Promise<{ cert: string; key: string }> {
    const apiserver = instance.jobs.find((job) => job.name === KUBE_APISERVER_JOB);
    const tls = apiserver?.properties.tls as { kubernetes?: unknown } | undefined;
    const given = tls?.kubernetes as { certificate?: unknown; private_key?: unknown } | undefined;
    if (typeof given?.certificate === 'string' && typeof given.private_key === 'string') {
      return { cert: given.certificate, key: given.private_key };
    }
    const { deployment, ip } = instance;
    const values = await this.#variables.all(deployment);
    const isCa = (value: VariableValue | undefined): value is Record<string, string> =>
      typeof value === 'object' &&
      value.certificate !== undefined &&
      value.ca === value.certificate &&
      value.private_key !== undefined;
    const serving = values.get('tls-kubernetes');
    const cas = [...values.values()].filter(isCa);
    let ca = cas.find((value) => typeof serving === 'object' && serving.ca === value.certificate) ?? cas[0];
    if (ca === undefined) {
      const generated = await this.#variables.ensure(deployment, [
        {
          name: 'sim-kubernetes-ca',
          type: 'certificate',
          options: { is_ca: true, common_name: 'sim kubernetes CA' },
        },
      ]);
      ca = generated.get('sim-kubernetes-ca') as Record<string, string>;
    }
    const leaf = await issueCertificate(
      { certificatePem: ca.certificate!, privateKeyPem: ca.private_key! },
      {
        commonName: 'kube-apiserver (sim)',
        hostnames: [ip, 'localhost', 'kubernetes', 'kubernetes.default', 'master.cfcr.internal'],
      },
    );
    return { cert: leaf.certificatePem, key: leaf.privateKeyPem };
  }

  async #workerNodes(deployment: string): Promise<SimNode[]> {
    const { rows } = await this.options.db.query<{
      vm_cid: string;
      ips: string[];
      uuid: string;
      vm_created_at: Date;
    }>(
      `SELECT vm_cid, ips, uuid, vm_created_at FROM director.instances
       WHERE deployment = $1 AND vm_cid IS NOT NULL AND config_hash IS NOT NULL AND jobs @> '[{"name":"kubelet"}]'::jsonb
       ORDER BY instance_group, index`,
      [deployment],
    );
    return rows.map((row) => ({
      name: row.vm_cid,
      ip: row.ips[0] ?? '',
      uuid: row.uuid,
      createdAt: new Date(row.vm_created_at),
    }));
  }
}

/** A deployment's releases and stemcells as `name/version`, as BOSH's deploy events carry them. */
function artifactsOf(manifest: Manifest | undefined): { releases: string[]; stemcells: string[] } {
  return {
    releases: (manifest?.releases ?? []).map((r) => `${r.name}/${r.version}`),
    stemcells: (manifest?.stemcells ?? []).map((s) => `${s.name ?? s.os}/${s.version}`),
  };
}
