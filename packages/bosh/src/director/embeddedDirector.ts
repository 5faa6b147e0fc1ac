import type { IncomingMessage, ServerResponse } from 'node:http';
import { migrate, type Database, type Unlisten } from '@openpks/db';
import type { SecretBox, ServerCredentials } from '@openpks/pki';
import { listenHttps, type HttpsListener, type Logger } from '@openpks/role';
import { followRevocations, RevocationList, UaaTokenVerifier, type TokenVerifier } from '@openpks/auth';
import { SimCpi, type SimCpiOptions } from '../cpi/simCpi.js';
import type { ErrandOutcome } from '../cpi/agent.js';
import type { SimAgent } from '../sim/simAgent.js';
import { createConfigServerApi } from './configServerApi.js';
import { Deployer } from './deployer/deployer.js';
import { DirectorAuth } from './directorAuth.js';
import { directorJobs } from './jobs.js';
import { directorMigrations } from './migrations.js';
import { directorRequestHandler } from './requestHandler.js';
import { contextIdOf, directorRouter, TaskWatchers, userOf, type RouteContext } from './routes/index.js';
import { TaskRunner } from './runner.js';
import { createSimAgent, restartSimMasters } from './simMasters.js';
import type { EventStore } from './store/eventStore.js';
import { directorStores, type DirectorStores } from './store/index.js';
import type { TaskStore } from './store/taskStore.js';
import { TASK_EVENTS_CHANNEL } from './tasks.js';

export const DEFAULT_DIRECTOR_WORKERS = 5;
export { DIRECTOR_VERSION, TASK_EVENT_STREAM_FEATURE } from './routes/index.js';

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

/** The client kubeconfigs name: sim masters accept id tokens issued to it. */
const KUBE_CLIENT_ID = 'pks_cluster_client';

/**
 * The embedded BOSH Director, wired: the Director HTTP API over HTTPS (`routes/`, behind the door in
 * `directorAuth.ts` and `requestHandler.ts`), durable tasks run by a worker pool (`runner.ts`, the task
 * types in `jobs.ts`), deploy semantics (`deployer/`), a config server for variables, the stores of the
 * `director` schema (`store/`), and the sim CPI and agent (`simMasters.ts`). Driven by the same
 * DirectorClient as a real Director.
 */
export class EmbeddedDirector {
  readonly cpi: SimCpi;
  readonly agent: SimAgent;
  readonly tasks: TaskStore;
  /** The Director's audit trail (`GET /events`). */
  readonly events: EventStore;
  readonly #stores: DirectorStores;
  readonly #deployer: Deployer;
  readonly #runner: TaskRunner;
  readonly #handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readonly #watchers = new TaskWatchers();
  #listener: HttpsListener | undefined;
  #unlisten: Unlisten | undefined;
  /** UAA's published revocations, so a revoked token stops working here too, not only at UAA. */
  readonly #revocations = new RevocationList();
  #stopFollowingRevocations: (() => Promise<void>) | undefined;
  #uuid = '';
  #stopped: Promise<void> | undefined;

  private constructor(private readonly options: EmbeddedDirectorOptions) {
    const { db, logger } = options;
    const issuer = options.uaa.issuer ?? `${options.uaa.url}/oauth/token`;
    const uaaVerifier = (audience?: string) =>
      new UaaTokenVerifier({
        issuer,
        jwksUrl: `${options.uaa.url}/token_keys`,
        ...(audience ? { audience } : {}),
        revocations: this.#revocations,
        ...(options.uaa.ca ? { ca: options.uaa.ca } : {}),
      });
    const verifier = options.verifier ?? uaaVerifier();
    const kubePort = options.sim?.kubePort ?? 8443;
    this.#stores = directorStores(db, options.secrets);
    this.tasks = this.#stores.tasks;
    this.events = this.#stores.events;
    this.cpi = new SimCpi(db, options.sim ?? {});
    this.agent = createSimAgent({
      db,
      stores: this.#stores,
      kubeVerifier: options.kubeVerifier ?? uaaVerifier(KUBE_CLIENT_ID),
      kubePort,
      errands: options.sim?.errands,
      logger,
    });
    this.#deployer = new Deployer(this.#stores, this.cpi, this.agent, {
      directorName: this.name,
      maxThreads: 10,
      cpiTimeoutMs: options.sim?.cpiTimeoutMs ?? 60_000,
      autoRegisterArtifacts: options.autoRegisterArtifacts ?? true,
    });
    this.#runner = new TaskRunner(
      db,
      this.tasks,
      directorJobs({ stores: this.#stores, deployer: this.#deployer, cpi: this.cpi, kubePort }),
      {
        workers: options.workers ?? DEFAULT_DIRECTOR_WORKERS,
        leaseMs: options.leaseMs ?? 15_000,
        pollMs: options.pollMs ?? 1_000,
        maxResumes: options.maxResumes ?? 3,
      },
      logger,
    );
    const routes: RouteContext = {
      stores: this.#stores,
      name: this.name,
      uuid: () => this.#uuid,
      uaaUrl: options.uaa.url,
      url: () => this.url,
      kubePort,
      certificates: () => [
        { path: 'director.ssl.cert', pem: options.credentials.cert },
        { path: 'director.ssl.ca', pem: options.credentials.ca },
      ],
      enqueue: (req, res, type, description, deployment, params) =>
        this.#enqueue(req, res, type, description, deployment, params),
      stopping: () => this.#stopped !== undefined,
    };
    this.#handler = directorRequestHandler({
      router: directorRouter(routes, this.#watchers),
      auth: new DirectorAuth(verifier, () => this.#uuid, logger),
      configServer: createConfigServerApi({
        variables: this.#stores.variables,
        directorName: this.name,
        verifier,
        uuid: () => this.#uuid,
        logger,
      }),
      logger,
    });
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
    this.#uuid = await this.#stores.settings.uuid();
    this.#stopFollowingRevocations = await followRevocations(db, this.#revocations, {
      onError: (error) =>
        logger.warn({ err: error }, 'reading UAA revocations failed; retrying every second'),
    });
    this.#unlisten = await db.listen(TASK_EVENTS_CHANNEL, (payload) => this.#watchers.notice(payload));
    await restartSimMasters({
      agent: this.agent,
      deployer: this.#deployer,
      deployments: this.#stores.deployments,
      logger,
    });
    this.#listener = await listenHttps({
      role: 'director',
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 25555,
      credentials: this.options.credentials,
      handler: this.#handler,
      logger,
      healthChecks: { database: async () => void (await db.query('SELECT 1')) },
      drainTimeoutMs: 2_000,
    });
    await this.#runner.start();
    logger.info(
      // The holder names this Director on the leases of the tasks it runs, for telling replicas apart.
      { url: this.#listener.url, cpi: 'sim', ipRange: this.cpi.ipRange, holder: this.#runner.holder },
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
    this.#watchers.wakeAll();
    await this.#listener?.close();
    this.cpi.releaseHangs();
    await this.#runner.stop({ release });
    this.cpi.releaseHangs();
    await this.agent.close();
    await this.#unlisten?.();
    await this.#stopFollowingRevocations?.();
  }

  /** Records a task and answers 302 to it; a worker of this Director runs it at once if one is free. */
  async #enqueue(
    req: IncomingMessage,
    res: ServerResponse,
    type: Parameters<RouteContext['enqueue']>[2],
    description: string,
    deployment: string | undefined,
    params: Record<string, unknown>,
  ): Promise<void> {
    const task = await this.tasks.create({
      type,
      description,
      deployment,
      contextId: contextIdOf(req),
      username: userOf(req),
      params,
    });
    // Runs at once, without waiting for the notification where it comes late (PostgreSQL's LISTEN).
    this.#runner.wake(task.id);
    res.writeHead(302, {
      Location: `https://${req.headers.host ?? '127.0.0.1'}/tasks/${task.id}`,
      'Content-Length': '0',
    });
    res.end();
  }
}
