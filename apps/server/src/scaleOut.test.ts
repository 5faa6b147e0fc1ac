import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { issueCertificate } from '@openpks/pki';
import { runAdminCli } from './admin/adminCli.js';

// Issue 20, "e2e through the load balancer": the roles as separate `pks-server start --roles …`
// processes on one PostgreSQL, each machine given only the files `pks-admin init` prepared, and Debian's
// haproxy in front of two API replicas, and of the UAA, the broker and the Director, each of which runs in
// processes of its own (a second broker and Director join in the test of two, a second UAA in the last
// test). Every call goes through haproxy with real UAA tokens, as a client of a scaled-out installation
// makes it. Only PostgreSQL can be shared between processes, so the file runs where
// PKS_TEST_DATABASE_URL is set (CI sets it, and installs haproxy).

const BIN = resolve(import.meta.dirname, '../dist/bin/pks-server.js');
const HAPROXY = '/usr/sbin/haproxy';
const postgres = testDatabaseBackends().find((b) => b.kind === 'postgres');

/** Generous: conditions are waited for, never slept on; these only end a test that went wrong. */
const START_MS = 90_000;
const OPERATION_MS = 150_000;

async function freePorts(count: number): Promise<number[]> {
  // All held at once, so no two are the same; released just before the processes bind them.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => ok(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

/** Polls `check` until it returns something other than undefined (errors count as "not yet"). */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = OPERATION_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError === undefined ? '' : `; last error: ${(lastError as Error).message ?? lastError}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The log lines in which a role that leases its work says its holder name. */
const STARTED = ['PKS API listening', 'PKS broker started', 'embedded BOSH Director started'];

interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

/** One `pks-server start --roles …` process, as an operator runs it on one machine. */
class PksProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  out = '';
  err = '';
  /** Every name its leases carried (as an API replica, a broker or a Director), in the order of its starts. */
  readonly holders: string[] = [];

  constructor(
    readonly name: string,
    readonly roles: string,
    readonly env: Record<string, string>,
  ) {}

  /** How its last run ended, if it did: an exit code, or the signal that ended it. */
  get ended(): string | undefined {
    if (this.#child === undefined || this.running) return undefined;
    return this.#child.signalCode ?? `exit ${this.#child.exitCode}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    this.out = '';
    this.err = '';
    const child = spawn(process.execPath, [BIN, 'start', '--roles', this.roles], {
      // Production mode, as an operator runs it; nothing of the test's own environment leaks in.
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PKS_LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
    child.stdout!.on('data', (c) => (this.out += c));
    child.stderr!.on('data', (c) => (this.err += c));
    await waitFor(
      `${this.name} (${this.roles}) to print its banner`,
      () => {
        if (child.exitCode !== null) {
          throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.out}\n${this.err}`);
        }
        return this.out.includes('Press Ctrl-C to stop.') ? true : undefined;
      },
      START_MS,
    );
    // Each API replica, broker and Director names itself in its log: the name its leases carry in the database.
    for (const started of this.logs()) {
      if (STARTED.includes(started.msg) && typeof started.holder === 'string')
        this.holders.push(started.holder);
    }
  }

  /** Ctrl-C as an operator gives it: the roles drain and the process exits. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.#child?.exitCode ?? null;
    this.#child!.kill('SIGTERM');
    return this.#exited!;
  }

  /** `kill -9`: no draining, its leases are left to expire. */
  async kill(): Promise<void> {
    this.#child!.kill('SIGKILL');
    await this.#exited;
  }

  logs(): LogLine[] {
    return this.err
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }
}

interface BackendSpec {
  port: number;
  servers: Record<string, number>;
  /**
   * tcp: TLS passes through, each connection goes to one replica for its life (the API: its clients
   * open a connection per request or per subscription). http: haproxy ends TLS with its own certificate
   * and opens TLS to the replica again, balancing each request (the broker and the Director, whose
   * callers keep connections alive, so per-connection balancing would pin them to one replica).
   */
  mode: 'tcp' | 'http';
}

/** Debian's haproxy: TCP passthrough of TLS (the replicas' certificates come from the shared CA). */
class Haproxy {
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  output = '';
  readonly socket: string;
  readonly config: string;

  constructor(
    readonly dir: string,
    backends: Record<string, BackendSpec>,
    files: { caFile: string; certFile: string },
  ) {
    this.socket = join(dir, 'haproxy.sock');
    this.config = haproxyConfig(backends, files, this.socket);
  }

  async start(): Promise<void> {
    const file = join(this.dir, 'haproxy.cfg');
    writeFileSync(file, this.config);
    const check = spawn(HAPROXY, ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    check.stdout!.on('data', (c) => (said += c));
    check.stderr!.on('data', (c) => (said += c));
    const valid = await new Promise<number | null>((ok) => check.once('exit', ok));
    if (valid !== 0) throw new Error(`haproxy rejects its configuration:\n${said}\n${this.config}`);
    // -db: in the foreground, so the test owns the process (and stops it at the end).
    const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((ok) => child.once('exit', ok));
    child.stdout!.on('data', (c) => (this.output += c));
    child.stderr!.on('data', (c) => (this.output += c));
    await waitFor('haproxy to answer on its stats socket', () => this.stats().catch(() => undefined), 10_000);
  }

  /** Each server as haproxy sees it (`backend/server`): its health-check state and open connections. */
  async stats(): Promise<Record<string, { status: string; current: number; total: number }>> {
    const csv = await new Promise<string>((ok, fail) => {
      const socket = connect(this.socket);
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('end', () => ok(text));
      socket.on('error', fail);
      socket.end('show stat\n');
    });
    const [header, ...rows] = csv.trim().split('\n');
    const columns = header!.replace(/^# /, '').split(',');
    const cell = (cells: string[], name: string) => cells[columns.indexOf(name)]!;
    const stats: Record<string, { status: string; current: number; total: number }> = {};
    for (const row of rows) {
      const cells = row.split(',');
      const server = cell(cells, 'svname');
      if (server === 'FRONTEND' || server === 'BACKEND') continue;
      stats[`${cell(cells, 'pxname')}/${server}`] = {
        status: cell(cells, 'status').split(' ')[0]!,
        current: Number(cell(cells, 'scur')),
        total: Number(cell(cells, 'stot')),
      };
    }
    return stats;
  }

  async waitForStatus(expected: Record<string, 'UP' | 'DOWN'>): Promise<void> {
    await waitFor(
      `haproxy to see ${JSON.stringify(expected)}`,
      async () => {
        const stats = await this.stats();
        return Object.entries(expected).every(([server, status]) => stats[server]?.status === status)
          ? true
          : undefined;
      },
      START_MS,
    );
  }

  async stop(): Promise<void> {
    if (this.#child === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    await this.#exited;
  }
}

/**
 * The haproxy configuration the test runs (docs/production.md shows it): round robin over the replicas of
 * each role, each health-checked with `GET /healthz` over TLS verified against the installation's CA.
 */
function haproxyConfig(
  backends: Record<string, BackendSpec>,
  { caFile, certFile }: { caFile: string; certFile: string },
  socket: string,
): string {
  return [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    '',
    'defaults',
    '  timeout connect 2s',
    '  timeout client 10m',
    '  timeout server 10m',
    // graphql-ws subscriptions are long-lived (and quiet while nothing happens).
    '  timeout tunnel 1h',
    // A connection that a replica which just died refuses is sent to another one.
    '  retries 3',
    '  option redispatch',
    '',
    ...Object.entries(backends).flatMap(([name, { port, servers, mode }]) => [
      `frontend ${name}`,
      `  mode ${mode}`,
      mode === 'http' ? `  bind 127.0.0.1:${port} ssl crt ${certFile}` : `  bind 127.0.0.1:${port}`,
      `  default_backend ${name}`,
      '',
      `backend ${name}`,
      `  mode ${mode}`,
      '  balance roundrobin',
      '  option httpchk',
      '  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost',
      '  http-check expect status 200',
      mode === 'http'
        ? `  default-server ssl verify required ca-file ${caFile} sni str(localhost) verifyhost localhost check inter 300ms fall 2 rise 2`
        : `  default-server check check-ssl verify required ca-file ${caFile} check-sni localhost verifyhost localhost inter 300ms fall 2 rise 2`,
      ...Object.entries(servers).map(([server, serverPort]) => `  server ${server} 127.0.0.1:${serverPort}`),
      '',
    ]),
  ].join('\n');
}

/** An HTTPS request that trusts only the installation's CA, on a connection of its own (no keep-alive). */
function https(
  url: string,
  ca: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', ca, agent: false, headers: options.headers ?? {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface FeedItem {
  type: string;
  cursor: string;
  clusterName: string | null;
  cluster: { name: string; lastAction: string; lastActionState: string } | null;
  event: { kind: string; lastAction: string; lastActionState: string } | null;
  task: { id: string; status: string; clusters: { clusterName: string; lastActionState: string }[] } | null;
}

const FEED = `subscription($after: String) { clusterFeed(after: $after) {
  type cursor clusterName
  cluster { name lastAction lastActionState }
  event { kind lastAction lastActionState }
  task { id status clusters { clusterName lastActionState } }
} }`;

/** The id of the cluster event a feed cursor names (`feed:<id>`, base64url). */
function eventIdOf(cursor: string): bigint {
  return BigInt(
    Buffer.from(cursor, 'base64url')
      .toString('utf8')
      .replace(/^feed:/, ''),
  );
}

/**
 * A subscriber of the fleet feed through the load balancer. When its connection drops (its replica was
 * killed or restarted) it subscribes again through the load balancer with the last cursor it got, as the
 * console does. Every message of every connection is kept, marked with its connection.
 */
class FeedSubscriber {
  readonly items: (FeedItem & { connection: number })[] = [];
  /** Why each connection ended. */
  readonly drops: unknown[] = [];
  connections = 0;
  #client: Client | undefined;
  #stopped = false;

  constructor(
    private readonly url: string,
    private readonly ca: string,
    private readonly token: string,
  ) {}

  /** Subscribes (again): after the last cursor received, or from the start with the full list. */
  open(): void {
    if (this.#stopped) return;
    const connection = ++this.connections;
    const after = this.items.at(-1)?.cursor;
    const ca = this.ca;
    const client = createClient({
      url: this.url,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { ca });
        }
      },
      connectionParams: { authorization: `Bearer ${this.token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
    });
    this.#client = client;
    let dropped = false;
    const reconnect = (why: unknown) => {
      if (dropped || this.#stopped) return;
      dropped = true;
      this.drops.push(why);
      void client.dispose();
      // Through the load balancer again, which sends it to a replica that is up.
      setTimeout(() => this.open(), 100);
    };
    client.subscribe<{ clusterFeed: FeedItem }>(
      { query: FEED, variables: after === undefined ? {} : { after } },
      {
        next: (value) => {
          if (value.errors) return reconnect(value.errors);
          if (value.data) this.items.push({ ...value.data.clusterFeed, connection });
        },
        error: reconnect,
        complete: () => reconnect('completed'),
      },
    );
  }

  async until(what: string, check: (item: FeedItem) => boolean): Promise<FeedItem> {
    return waitFor(`the feed to send ${what}`, () => this.items.find(check)).catch((error: Error) => {
      throw new Error(`${error.message}; it got ${this.describe()}`);
    });
  }

  describe(): string {
    return JSON.stringify(
      this.items.map((i) => [
        i.connection,
        i.type,
        String(eventIdOf(i.cursor)),
        i.clusterName,
        i.event?.lastActionState ?? i.task?.status ?? null,
      ]),
    );
  }

  /** The cluster events it was sent, by id, in the order they came. */
  eventIds(): bigint[] {
    return this.items.filter((i) => i.event !== null).map((i) => eventIdOf(i.cursor));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client?.dispose();
  }
}

describe.skipIf(postgres === undefined)(
  'openpks scaled out: roles in separate processes behind haproxy',
  () => {
    let db: TestDatabase;
    let dir: string;
    let installation: string;
    let ca: string;
    let lb: Haproxy;
    let lbUrl: string;
    /** The UAA and the NSX simulator. */
    let core: PksProcess;
    let apis: PksProcess[];
    /** broker1 from the start, broker2 from the test of two; likewise the Directors. */
    let brokers: PksProcess[];
    let directors: PksProcess[];
    let token: string;
    let ports: Record<string, number>;
    let env: Record<string, string>;
    const processes: PksProcess[] = [];
    const subscribers: FeedSubscriber[] = [];

    /**
     * pks.yaml: what `pks-admin init` prepared, plus this test's sim Director and one plan. One Director
     * worker per process, so that with two Director processes both must take tasks.
     */
    const writeConfig = (plan: { workerVmType: string; createVmMs: number }) => {
      const prepared = readFileSync(join(installation, 'pks.prepared.yaml'), 'utf8');
      writeFileSync(
        join(installation, 'pks.yaml'),
        `${prepared}
director:
  type: embedded
  workers: 1
  sim:
    ip_range: 127.1.220.0/24
    latency_ms: { create_vm: ${plan.createVmMs}, delete_vm: 100 }
plans:
  small:
    master: { instances: 1 }
    worker: { instances: 1, max_instances: 3, vm_type: ${plan.workerVmType} }
`,
      );
    };

    /** A process of this installation: its own data directory and database sessions named after it. */
    const pksProcess = (name: string, roles: string, extra: Record<string, string> = {}) => {
      const url = new URL(db.url!);
      url.searchParams.set('application_name', name);
      const p = new PksProcess(name, roles, {
        ...env,
        PKS_DATA_DIR: join(dir, name),
        DATABASE_URL: url.href,
        ...extra,
      });
      processes.push(p);
      return p;
    };

    const graphql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
      const res = await https(`${lbUrl}/graphql`, ca, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      if (res.status !== 200) throw new Error(`POST /graphql through haproxy: ${res.status} ${res.text}`);
      return JSON.parse(res.text) as GraphQLAnswer<T>;
    };
    /** A read through the load balancer, asked again if its connection broke (its replica went away). */
    const read = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const answer = await waitFor(`an answer to ${query}`, () => graphql<T>(query, variables), 30_000);
      if (answer.errors) throw new Error(`${query}: ${JSON.stringify(answer.errors)}`);
      return answer.data!;
    };
    const clusterState = async (name: string) =>
      (
        await read<{
          cluster: { lastAction: string; lastActionState: string; lastActionDescription: string };
        }>(
          'query($name: String!) { cluster(name: $name) { lastAction lastActionState lastActionDescription } }',
          { name },
        )
      ).cluster;
    const createCluster = async (name: string) => {
      const answer = await graphql<{ createCluster: { name: string } }>(
        'mutation($name: String!) { createCluster(input: {name: $name, planName: "small", externalHostname: $name}) { name } }',
        { name },
      );
      expect(answer.errors).toBeUndefined();
    };
    const settled = (name: string, action: string) =>
      waitFor(`${name} to finish ${action}`, async () => {
        const c = await clusterState(name);
        return c.lastAction === action && c.lastActionState !== 'in progress' ? c : undefined;
      });
    const uuidOf = async (name: string) =>
      (await db.query<{ uuid: string }>('SELECT uuid FROM api.clusters WHERE name = $1', [name])).rows[0]!
        .uuid;

    /** Subscribers opened one after the other: haproxy's round robin puts them on different replicas. */
    const subscribeOnEachReplica = async (): Promise<FeedSubscriber[]> => {
      // The earlier tests' subscribers leave first, so haproxy's count is of these alone.
      for (const feed of subscribers.splice(0)) await feed.stop();
      await waitFor('the earlier subscribers to be gone', async () => {
        const stats = await lb.stats();
        return stats['api/api1']?.current === 0 && stats['api/api2']?.current === 0 ? true : undefined;
      });
      const feeds: FeedSubscriber[] = [];
      for (let i = 0; i < apis.length; i++) {
        const feed = new FeedSubscriber(`${lbUrl.replace(/^https/, 'wss')}/graphql`, ca, token);
        subscribers.push(feed);
        feeds.push(feed);
        feed.open();
        await feed.until('SYNCED', (item) => item.type === 'SYNCED');
      }
      await waitFor('one subscriber on each API replica (haproxy: one open connection each)', async () => {
        const stats = await lb.stats();
        return stats['api/api1']?.current === 1 && stats['api/api2']?.current === 1 ? true : undefined;
      });
      return feeds;
    };

    const sessionsOf = async (p: PksProcess) =>
      (
        await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [p.name],
        )
      ).rows[0]!.n;
    /** Until PostgreSQL has ended every session of a process that died (its statements ended with them). */
    const sessionsGone = (p: PksProcess) =>
      waitFor(`PostgreSQL to end the sessions of ${p.name}`, async () =>
        (await sessionsOf(p)) === 0 ? true : undefined,
      );

    /**
     * The cluster events recorded after `from`, up to the last one the subscriber got, that it was not sent;
     * and whether what it was sent came once each, in order.
     */
    const missedBy = async (feed: FeedSubscriber, from: bigint) => {
      const sent = feed.eventIds().filter((id) => id > from);
      const { rows } = await db.query<{ id: string }>(
        // Ordered by the column, not by its text (which puts 10 before 9).
        'SELECT e.id::text AS id FROM api.cluster_events e WHERE e.id > $1 AND e.id <= $2 ORDER BY e.id',
        [from.toString(), (sent.at(-1) ?? from).toString()],
      );
      const recorded = rows.map((r) => BigInt(r.id));
      const inOrderOnce = sent.every((id, i) => i === 0 || id > sent[i - 1]!);
      return { missed: recorded.filter((id) => !sent.includes(id)), inOrderOnce, sent };
    };

    /** Every API replica runs and haproxy sends it traffic (after a test that killed one). */
    const everyReplicaUp = async () => {
      for (const api of apis) if (!api.running) await api.start();
      await lb.waitForStatus({ 'api/api1': 'UP', 'api/api2': 'UP' });
    };

    /** Both broker and both Director processes run and haproxy sends them calls. */
    const everyBrokerAndDirectorUp = async () => {
      await Promise.all([...brokers, ...directors].filter((p) => !p.running).map((p) => p.start()));
      await lb.waitForStatus({
        'broker/broker1': 'UP',
        'broker/broker2': 'UP',
        'director/director1': 'UP',
        'director/director2': 'UP',
      });
    };

    /**
     * Each Director task of the broker operations of `name`'s cluster (one operation, each of its steps one
     * task), with the Directors that started or resumed it, in order; and the sim VMs of its deployment.
     */
    const brokerWork = async (name: string) => {
      const uuid = await uuidOf(name);
      const { rows: operations } = await db.query<{ id: string; state: string }>(
        'SELECT id, state FROM broker.operations WHERE instance_id = $1',
        [uuid],
      );
      const { rows: tasks } = await db.query<{ type: string; state: string; runs: string[] }>(
        `SELECT t.type, t.state,
           ARRAY(SELECT m[1] FROM director.task_output o,
                   regexp_matches(o.text, 'started by (director-[0-9a-f-]+)', 'g') AS m
                 WHERE o.task_id = t.id AND o.type = 'debug' ORDER BY o.id) AS runs
         FROM director.tasks t WHERE t.context_id = ANY($1::text[]) ORDER BY t.id`,
        [operations.map((o) => o.id)],
      );
      const { rows: vms } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM director.sim_vms WHERE deployment = $1',
        [`service-instance_${uuid}`],
      );
      return { uuid, operations, tasks, vms: vms[0]!.n };
    };

    beforeAll(async () => {
      expect(existsSync(BIN), `${BIN} is missing: build first (npm test does)`).toBe(true);
      expect(existsSync(HAPROXY), `${HAPROXY} is missing: install Debian's haproxy (.ci/run does)`).toBe(
        true,
      );
      db = await postgres!.open();
      dir = mkdtempSync(join(tmpdir(), 'pks-scale-out-'));
      installation = join(dir, 'installation');

      // The files every machine is given, and nothing else: no process reads another one's data directory.
      const stdout = new PassThrough();
      let said = '';
      stdout.on('data', (c) => (said += c));
      const code = await runAdminCli(
        ['--data-dir', join(dir, 'first'), 'init', '--out', installation, '--database-url', db.url!],
        { stdout, stderr: stdout, env: {} },
      );
      expect(code, said).toBe(0);
      writeFileSync(join(installation, 'pks.prepared.yaml'), readFileSync(join(installation, 'pks.yaml')));
      writeConfig({ workerVmType: 'medium', createVmMs: 700 });
      ca = readFileSync(join(installation, 'ca.crt'), 'utf8');
      // haproxy's own certificate (where it ends TLS), from the installation's CA like every role's.
      const issued = await issueCertificate(
        { certificatePem: ca, privateKeyPem: readFileSync(join(installation, 'ca.key'), 'utf8') },
        { commonName: 'localhost', hostnames: ['localhost', '127.0.0.1'] },
      );
      const certFile = join(dir, 'haproxy.pem');
      writeFileSync(certFile, `${issued.certificatePem.trim()}\n${issued.privateKeyPem.trim()}\n`, {
        mode: 0o600,
      });

      const names = ['uaa', 'uaa2', 'nsx', 'broker1', 'broker2', 'director1', 'director2', 'api1', 'api2'];
      const frontends = ['lbApi', 'lbUaa', 'lbBroker', 'lbDirector'];
      const picked = await freePorts(names.length + frontends.length);
      ports = Object.fromEntries([...names, ...frontends].map((n, i) => [n, picked[i]!]));
      lbUrl = `https://localhost:${ports.lbApi}`;
      lb = new Haproxy(
        dir,
        {
          api: { mode: 'tcp', port: ports.lbApi!, servers: { api1: ports.api1!, api2: ports.api2! } },
          // Like the API's: tokens, logins and SCIM are requests on connections of their own.
          uaa: { mode: 'tcp', port: ports.lbUaa!, servers: { uaa1: ports.uaa!, uaa2: ports.uaa2! } },
          broker: {
            mode: 'http',
            port: ports.lbBroker!,
            servers: { broker1: ports.broker1!, broker2: ports.broker2! },
          },
          director: {
            mode: 'http',
            port: ports.lbDirector!,
            servers: { director1: ports.director1!, director2: ports.director2! },
          },
        },
        { caFile: join(installation, 'ca.crt'), certFile },
      );
      await lb.start();

      // Where each role is reached: the UAA, the API, the broker and the Director through haproxy (the UAA's
      // address names the issuer of every replica's tokens); the NSX simulator (one) directly.
      env = {
        PKS_CONFIG: join(installation, 'pks.yaml'),
        PKS_UAA_PORT: String(ports.uaa),
        PKS_NSX_PORT: String(ports.nsx),
        PKS_UAA_URL: `https://localhost:${ports.lbUaa}`,
        PKS_NSX_URL: `https://localhost:${ports.nsx}`,
        PKS_BROKER_URL: `https://localhost:${ports.lbBroker}`,
        PKS_DIRECTOR_URL: `https://localhost:${ports.lbDirector}`,
        PKS_API_URL: lbUrl,
      };
      // The broker and the Director each in processes of their own, so that one can be killed alone.
      core = pksProcess('core', 'uaa,nsx');
      await core.start();
      brokers = [1, 2].map((n) =>
        pksProcess(`broker${n}`, 'broker', { PKS_BROKER_PORT: String(ports[`broker${n}`]) }),
      );
      directors = [1, 2].map((n) =>
        pksProcess(`director${n}`, 'director', { PKS_DIRECTOR_PORT: String(ports[`director${n}`]) }),
      );
      await directors[0]!.start();
      apis = [1, 2].map((n) => pksProcess(`api${n}`, 'api', { PKS_API_PORT: String(ports[`api${n}`]) }));
      await Promise.all([brokers[0]!, ...apis].map((p) => p.start()));
      await lb.waitForStatus({
        'api/api1': 'UP',
        'api/api2': 'UP',
        'uaa/uaa1': 'UP',
        'uaa/uaa2': 'DOWN',
        'broker/broker1': 'UP',
        'broker/broker2': 'DOWN',
        'director/director1': 'UP',
        'director/director2': 'DOWN',
      });

      const adminPassword = /admin password +(\S+)/.exec(core.out)![1]!;
      const granted = await https(`https://localhost:${ports.uaa}/oauth/token`, ca, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'pks_cli',
          username: 'admin',
          password: adminPassword,
        }).toString(),
      });
      expect(granted.status, granted.text).toBe(200);
      token = (JSON.parse(granted.text) as { access_token: string }).access_token;
    }, 240_000);

    // When a test fails, what the processes warned about says why.
    beforeEach(() => {
      onTestFailed(() => {
        for (const p of processes) {
          const bad = p.logs().filter((l) => l.level >= 40);
          if (bad.length > 0) console.error(`${p.name}:\n${bad.map((l) => JSON.stringify(l)).join('\n')}`);
          // A process that ended when the test did not end it (another one's test, the machine) says so.
          if (p.ended !== undefined) console.error(`${p.name} ended (${p.ended}):\n${p.err.slice(-2000)}`);
        }
      });
    });

    afterAll(async () => {
      for (const feed of subscribers) await feed.stop();
      for (const p of [...processes].reverse()) await p.stop();
      await lb?.stop();
      await db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('kill -9 of the API replica driving a create: the other replica finishes it, and each subscriber sees it succeed', async () => {
      await everyReplicaUp();
      const feeds = await subscribeOnEachReplica();
      await createCluster('kill-nine');
      const uuid = await uuidOf('kill-nine');
      // Mid-create: the broker has accepted it and the Director task runs.
      const driving = await waitFor('a replica to drive the create', async () => {
        const { rows } = await db.query<{ holder: string | null; director_task_id: number | null }>(
          `SELECT holder, director_task_id FROM api.operations WHERE cluster_uuid = $1 AND state = 'in progress'`,
          [uuid],
        );
        return rows[0]?.holder && rows[0].director_task_id !== null ? rows[0].holder : undefined;
      });
      const victim = apis.find((api) => api.holders.at(-1) === driving)!;
      expect(victim, `no API process is ${driving}`).toBeDefined();
      const survivor = apis.find((api) => api !== victim)!;
      // Its database sessions carry its name (DATABASE_URL's application_name), so their end can be seen.
      expect(await sessionsOf(victim)).toBeGreaterThan(0);
      await victim.kill();
      await sessionsGone(victim);
      // Everything the dead replica wrote is in by now; what follows is the survivor's.
      const diedAfter = BigInt(
        (await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM api.cluster_events'))
          .rows[0]!.id,
      );

      const done = await settled('kill-nine', 'CREATE');
      expect(done.lastActionState, done.lastActionDescription).toBe('succeeded');
      // Only API replicas drive API operations, and the survivor is the only one left.
      expect(victim.running).toBe(false);
      expect(survivor.running).toBe(true);
      const { rows } = await db.query<{ state: string }>(
        'SELECT state FROM api.operations WHERE cluster_uuid = $1',
        [uuid],
      );
      expect(rows).toEqual([{ state: 'succeeded' }]);

      for (const feed of feeds) {
        await feed.until(
          'kill-nine succeeded',
          (i) => i.clusterName === 'kill-nine' && i.event?.lastActionState === 'succeeded',
        );
        // Nothing the survivor recorded is missing, nothing came twice or out of order. (What the dead
        // replica recorded in its last moment may be: see the next test.)
        const { missed, inOrderOnce } = await missedBy(feed, diedAfter);
        expect(missed, feed.describe()).toEqual([]);
        expect(inOrderOnce, feed.describe()).toBe(true);
        expect(feed.items.filter((i) => i.type === 'RESYNC')).toEqual([]);
      }
      // The subscriber on the killed replica lost its connection and resumed through haproxy with its cursor.
      expect(feeds.map((f) => f.connections).sort()).toEqual([1, 2]);
      const resumed = feeds.find((f) => f.connections === 2)!;
      expect(resumed.items.filter((i) => i.connection === 2).map((i) => i.type)).toContain('SYNCED');
    }, 240_000);

    // A progress event and its announcement (`pg_notify`) commit together (`recordClusterEvent`). They were
    // two statements: a replica killed between them left an event in the table that no replica ever
    // announced, which a live subscriber on another replica never got (the test above hit that moment in
    // about half of its runs). Here the moment is made certain: a trigger holds the driving replica's first
    // progress INSERT on an advisory lock the test holds, the test kills the replica, then lets it go on.
    describe('a replica killed between recording a progress event and announcing it', () => {
      const HOLD = 20020;
      let feeds: FeedSubscriber[] | undefined;

      it('leaves nothing recorded of that event, and the other replica finishes the create', async () => {
        await everyReplicaUp();
        feeds = await subscribeOnEachReplica();
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => (locked = r));
        const holding = db.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [HOLD]);
          locked();
          await released;
        });
        await isLocked;
        await db.exec(`
        CREATE FUNCTION public.pks_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock_shared(${HOLD}); RETURN NEW; END $$;
        CREATE TRIGGER pks_test_hold AFTER INSERT ON api.cluster_events FOR EACH ROW
          WHEN (NEW.event->>'clusterName' = 'unannounced' AND NEW.event->>'kind' = 'PROGRESS')
          EXECUTE FUNCTION public.pks_test_hold();`);
        try {
          await createCluster('unannounced');
          const waiting = await waitFor(
            'the driving replica to insert its first progress event',
            async () => {
              // The backend waiting for this test's lock (only the trigger asks for it), by the lock
              // itself rather than the statement's text.
              const { rows } = await db.query<{ application_name: string }>(
                `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND NOT l.granted AND l.database = (
                   SELECT oid FROM pg_database WHERE datname = current_database())
                   AND l.objid = $1`,
                [HOLD],
              );
              return rows[0]?.application_name;
            },
          );
          const victim = apis.find((api) => api.name === waiting)!;
          expect(victim, `no API process is ${waiting}`).toBeDefined();
          const { rows: ops } = await db.query<{ holder: string }>(
            `SELECT holder FROM api.operations WHERE cluster_uuid = $1 AND state = 'in progress'`,
            [await uuidOf('unannounced')],
          );
          expect(ops[0]?.holder).toBe(victim.holders.at(-1));
          await victim.kill();
          release();
          await holding;
          // Its INSERT went on without it, and was rolled back with the transaction it shared with the
          // announcement that never came.
          await sessionsGone(victim);
        } finally {
          release();
          await holding;
          await db.exec(
            'DROP TRIGGER pks_test_hold ON api.cluster_events; DROP FUNCTION public.pks_test_hold();',
          );
        }
        // Before the other replica takes the operation over (its lease has 15 s), no progress is recorded.
        const { rows } = await db.query<{ id: string }>(
          `SELECT e.id::text AS id FROM api.cluster_events e
         WHERE e.event->>'clusterName' = 'unannounced' AND e.event->>'kind' = 'PROGRESS' ORDER BY e.id LIMIT 1`,
        );
        expect(rows).toEqual([]);

        const done = await settled('unannounced', 'CREATE');
        expect(done.lastActionState, done.lastActionDescription).toBe('succeeded');
        for (const feed of feeds) {
          await feed.until(
            'unannounced succeeded',
            (i) => i.clusterName === 'unannounced' && i.event?.lastActionState === 'succeeded',
          );
        }
        expect(feeds.map((f) => f.connections).sort()).toEqual([1, 2]);
        await everyReplicaUp();
      }, 240_000);

      it('…and every subscriber is sent every event that was recorded', async () => {
        expect(feeds, 'the test above did not get as far as subscribing').toBeDefined();
        for (const feed of feeds!) {
          const from = eventIdOf(feed.items.find((i) => i.type === 'SYNCED')!.cursor);
          const { missed } = await missedBy(feed, from);
          expect(missed, `recorded but never announced; ${feed.describe()}`).toEqual([]);
        }
      });
    });

    it('restarts every API replica one by one during an upgrade run: the run completes, and the subscribers miss nothing', async () => {
      await everyReplicaUp();
      for (const name of ['upgrade-a', 'upgrade-b']) await createCluster(name);
      for (const name of ['upgrade-a', 'upgrade-b']) {
        expect((await settled(name, 'CREATE')).lastActionState).toBe('succeeded');
      }
      // Every cluster there is (the earlier tests' too: a longer run).
      const clusters = (await read<{ clusters: { name: string }[] }>('{ clusters { name } }')).clusters.map(
        (c) => c.name,
      );
      expect(clusters).toEqual(expect.arrayContaining(['upgrade-a', 'upgrade-b']));

      // The new version of the installation: the plan's workers change VM type, which every cluster's
      // upgrade rolls out (slow VM creation, so that the run outlasts two replica restarts). The broker and
      // the Director go first; the API replicas follow one by one during the run, as an operator upgrades.
      writeConfig({ workerVmType: 'large', createVmMs: 3000 });
      for (const p of [directors[0]!, brokers[0]!]) {
        expect(await p.stop()).toBe(0);
        await p.start();
      }
      await lb.waitForStatus({ 'broker/broker1': 'UP', 'director/director1': 'UP' });

      const feeds = await subscribeOnEachReplica();
      const started = await graphql<{ upgradeClusters: { id: string } }>(
        'mutation($clusters: [String!]!) { upgradeClusters(input: {clusters: $clusters, maxInFlight: 1}) { id } }',
        { clusters },
      );
      expect(started.errors).toBeUndefined();
      const id = started.data!.upgradeClusters.id;
      const task = async () =>
        (
          await read<{
            task: { status: string; clusters: { clusterName: string; lastActionState: string }[] };
          }>('query($id: ID!) { task(id: $id) { status clusters { clusterName lastActionState } } }', {
            id,
          })
        ).task;
      await waitFor('the run to upgrade its first cluster', async () =>
        (await task()).clusters.some((c) => c.lastActionState === 'in progress') ? true : undefined,
      );

      const statusWhenStopped: string[] = [];
      for (const api of apis) {
        statusWhenStopped.push((await task()).status);
        expect(await api.stop(), `${api.name} did not drain:\n${api.err.slice(-3000)}`).toBe(0);
        await api.start();
        await lb.waitForStatus({ 'api/api1': 'UP', 'api/api2': 'UP' });
      }
      // Both restarts happened while the run was going on.
      expect(statusWhenStopped).toEqual(['in progress', 'in progress']);

      const finished = await waitFor('the run to end', async () => {
        const t = await task();
        return t.status === 'in progress' || t.status === 'not started' ? undefined : t;
      });
      expect(finished).toEqual({
        status: 'done',
        clusters: clusters.map((clusterName) => ({ clusterName, lastActionState: 'succeeded' })),
      });
      for (const name of clusters) {
        expect(await clusterState(name)).toMatchObject({
          lastAction: 'UPGRADE',
          lastActionState: 'succeeded',
        });
      }
      // The upgrade did roll the new VM type out to every cluster.
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM director.deployments WHERE manifest LIKE '%vm_type: large%'`,
      );
      expect(rows[0]!.n).toBe(clusters.length);

      for (const feed of feeds) {
        await feed.until(
          'the run done',
          (i) => i.type === 'TASK' && i.task?.id === id && i.task.status === 'done',
        );
        for (const name of clusters) {
          await feed.until(
            `${name} upgraded`,
            (i) =>
              i.clusterName === name &&
              i.event?.lastAction === 'UPGRADE' &&
              i.event.lastActionState === 'succeeded',
          );
        }
        const from = eventIdOf(feed.items.find((i) => i.type === 'SYNCED')!.cursor);
        const { missed, inOrderOnce } = await missedBy(feed, from);
        expect(missed, feed.describe()).toEqual([]);
        expect(inOrderOnce, feed.describe()).toBe(true);
        expect(feed.items.filter((i) => i.type === 'RESYNC')).toEqual([]);
        // Its replica was restarted under it, and it resumed through haproxy.
        expect(feed.connections).toBeGreaterThanOrEqual(2);
      }
    }, 300_000);

    it('two broker processes and two Director processes on one database: no operation is driven twice', async () => {
      await everyReplicaUp();
      await everyBrokerAndDirectorUp();
      const before = await lb.stats();

      const names = ['pair-1', 'pair-2', 'pair-3', 'pair-4'];
      for (const name of names) await createCluster(name);
      for (const name of names) {
        const done = await settled(name, 'CREATE');
        expect(done.lastActionState, `${name}: ${done.lastActionDescription}`).toBe('succeeded');
      }

      const after = await lb.stats();
      // haproxy sent broker and Director calls to both processes of each.
      for (const server of ['broker/broker1', 'broker/broker2', 'director/director1', 'director/director2']) {
        expect(after[server]!.total, server).toBeGreaterThan(before[server]!.total);
      }
      for (const name of names) {
        const uuid = await uuidOf(name);
        // One broker operation, whose steps (the deploy, then the post-deploy errand) each made exactly one
        // Director task, each run once by one Director worker (never resumed, never run twice).
        const { rows: operations } = await db.query<{ id: string; state: string }>(
          'SELECT id, state FROM broker.operations WHERE instance_id = $1',
          [uuid],
        );
        expect(operations).toEqual([{ id: expect.any(String), state: 'succeeded' }]);
        const { rows: tasks } = await db.query<{ id: number; type: string; state: string; starts: number }>(
          `SELECT t.id, t.type, t.state,
           (SELECT count(*)::int FROM director.task_output o
            WHERE o.task_id = t.id AND o.type = 'debug' AND o.text LIKE '%started by director-%') AS starts
         FROM director.tasks t WHERE t.context_id = $1 ORDER BY t.id`,
          [operations[0]!.id],
        );
        expect(
          tasks.map(({ type, state, starts }) => ({ type, state, starts })),
          name,
        ).toEqual([
          { type: expect.stringMatching(/deploy/), state: 'done', starts: 1 },
          { type: expect.stringMatching(/errand/), state: 'done', starts: 1 },
        ]);
        // The sim CPI made the deployment's VMs once: a master and a worker (the errand's VM is gone again).
        const { rows: vms } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM director.sim_vms WHERE deployment = $1',
          [`service-instance_${uuid}`],
        );
        expect(vms[0]!.n, name).toBe(2);
      }
      // Both Director processes ran tasks (one worker each, four creates at once).
      const { rows: starters } = await db.query<{ holder: string }>(
        `SELECT DISTINCT substring(o.text from 'started by (director-[0-9a-f-]+)') AS holder
       FROM director.task_output o JOIN director.tasks t ON t.id = o.task_id
       WHERE o.type = 'debug' AND o.text LIKE '%started by director-%' AND t.deployment = ANY($1::text[])`,
        [await Promise.all(names.map(async (n) => `service-instance_${await uuidOf(n)}`))],
      );
      expect(starters.length).toBe(2);
    }, 300_000);

    // Issue 20, "broker and Director: their leases must make two workers safe". A broker and a Director
    // that die mid-create (kill -9: no hand-back) leave their leases to expire (15 s); the other process
    // takes the work over where it stood. Each role runs in a process of its own, so the one killed is the
    // only one of its kind that goes.
    it('kill -9 of the broker driving a create: the other broker takes the operation over and finishes it, driving no step twice', async () => {
      await everyReplicaUp();
      await everyBrokerAndDirectorUp();
      await createCluster('broker-kill');
      const uuid = await uuidOf('broker-kill');
      // Mid-create: the broker operation is leased, and its deploy task runs at a Director.
      const driving = await waitFor('a broker to drive the create while its deploy task runs', async () => {
        const { rows } = await db.query<{ id: string; lease_holder: string | null }>(
          `SELECT o.id, o.lease_holder FROM broker.operations o
           WHERE o.instance_id = $1 AND o.state = 'in progress' AND o.lease_holder IS NOT NULL
             AND EXISTS (SELECT 1 FROM director.tasks t WHERE t.context_id = o.id AND t.state = 'processing')`,
          [uuid],
        );
        return rows[0];
      });
      const victim = brokers.find((b) => b.holders.at(-1) === driving.lease_holder)!;
      expect(victim, `no broker process is ${driving.lease_holder}`).toBeDefined();
      const survivor = brokers.find((b) => b !== victim)!;
      await victim.kill();
      await sessionsGone(victim);

      const done = await settled('broker-kill', 'CREATE');
      expect(done.lastActionState, done.lastActionDescription).toBe('succeeded');
      expect(victim.running).toBe(false);
      // The survivor took the operation up once the lease ran out, and ended it.
      const said = survivor
        .logs()
        .filter((l) => l.operation === driving.id)
        .map((l) => l.msg);
      expect(said).toEqual(
        expect.arrayContaining(['driving an operation nobody drove', 'operation finished']),
      );
      const work = await brokerWork('broker-kill');
      expect(work.operations).toEqual([{ id: driving.id, state: 'succeeded' }]);
      // The deploy the dead broker started was followed, not started again; the errand was started once.
      expect(work.tasks.map(({ type, state, runs }) => ({ type, state, runs: runs.length }))).toEqual([
        { type: expect.stringMatching(/deploy/), state: 'done', runs: 1 },
        { type: expect.stringMatching(/errand/), state: 'done', runs: 1 },
      ]);
      expect(work.vms).toBe(2);
    }, 240_000);

    // The moment that matters is made certain, as for the API replica above: the CPI has made the VMs and
    // the Director has not recorded their cids yet. A trigger holds the Director's recording of each VM
    // on an advisory lock the test holds; the test kills that Director there, then lets go, and its
    // recording rolls back with it. (Killed at a moment found by polling instead, the test hit it in one
    // run of three, and then found 4 VMs for a deployment of 2.)
    it('kill -9 of the Director running a create’s deploy: the other Director resumes the task, and no VM is made twice', async () => {
      const HOLD = 20021;
      await everyReplicaUp();
      await everyBrokerAndDirectorUp();
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holding = db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [HOLD]);
        locked();
        await released;
      });
      await isLocked;
      await db.exec(`
        CREATE FUNCTION public.pks_test_hold_vm() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock_shared(${HOLD}); RETURN NEW; END $$;
        CREATE TRIGGER pks_test_hold_vm AFTER UPDATE ON director.instances FOR EACH ROW
          WHEN (OLD.vm_cid IS NULL AND NEW.vm_cid IS NOT NULL AND NEW.lifecycle = 'service')
          EXECUTE FUNCTION public.pks_test_hold_vm();`);
      let deployment!: string;
      let running!: { id: number; holder: string };
      let victim!: PksProcess;
      let before: string[] | undefined;
      try {
        await createCluster('director-kill');
        deployment = `service-instance_${await uuidOf('director-kill')}`;
        const waiting = await waitFor('the Director to record a VM the CPI made', async () => {
          const { rows } = await db.query<{ application_name: string }>(
            `SELECT application_name FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND application_name LIKE 'director%'`,
          );
          return rows[0]?.application_name;
        });
        victim = directors.find((d) => d.name === waiting)!;
        expect(victim, `no Director process is ${waiting}`).toBeDefined();
        const { rows: tasks } = await db.query<{ id: number; holder: string }>(
          `SELECT id, holder FROM director.tasks WHERE deployment = $1 AND state = 'processing'`,
          [deployment],
        );
        running = tasks[0]!;
        expect(running.holder).toBe(victim.holders.at(-1));
        await victim.kill();
        // Its statements waiting on the lock would go on and commit once let go (each is a statement of
        // its own, and PostgreSQL notices a dead client only when it next talks to it): its sessions are
        // ended first, as they are when the dead machine's connections time out.
        await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          victim.name,
        ]);
        await sessionsGone(victim);
        release();
        await holding;
        // The CPI made VMs that no instance records.
        const { rows: made } = await db.query<{ cid: string }>(
          'SELECT cid FROM director.sim_vms WHERE deployment = $1',
          [deployment],
        );
        const { rows: recorded } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM director.instances WHERE deployment = $1 AND vm_cid IS NOT NULL',
          [deployment],
        );
        expect(made.length).toBeGreaterThan(0);
        expect(recorded[0]!.n).toBe(0);
        before = made.map((r) => r.cid);
      } finally {
        release();
        await holding;
        await db.exec(
          'DROP TRIGGER pks_test_hold_vm ON director.instances; DROP FUNCTION public.pks_test_hold_vm();',
        );
      }
      const survivor = directors.find((d) => d !== victim)!;

      const done = await settled('director-kill', 'CREATE');
      expect(done.lastActionState, done.lastActionDescription).toBe('succeeded');
      expect(victim.running).toBe(false);
      const work = await brokerWork('director-kill');
      expect(work.operations).toEqual([{ id: expect.any(String), state: 'succeeded' }]);
      // The deploy ran at the dead Director, then at the survivor (resumed from its recorded progress,
      // once its lease ran out); the errand at the survivor alone.
      expect(work.tasks).toEqual([
        {
          type: expect.stringMatching(/deploy/),
          state: 'done',
          runs: [running.holder, survivor.holders.at(-1)],
        },
        { type: expect.stringMatching(/errand/), state: 'done', runs: [survivor.holders.at(-1)] },
      ]);
      // The VMs made before the kill are the deployment's still: nothing was made again.
      expect(work.vms).toBe(2);
      const { rows: after } = await db.query<{ cid: string }>(
        'SELECT cid FROM director.sim_vms WHERE deployment = $1',
        [deployment],
      );
      expect(after.map((r) => r.cid)).toEqual(expect.arrayContaining(before!));
    }, 240_000);

    // Issue 20, "UAA: stateless on the database; the lockout and revocation hold across replicas". A second
    // `pks-server --roles uaa` process joins behind haproxy; each replica is addressed directly here, so
    // that which one is asked is certain.
    it('two UAA replicas: wrong passwords at one lock the user out at the other, and a token revoked at one is refused by the other and by the API', async () => {
      await everyReplicaUp();
      const uaa2 = pksProcess('uaa2', 'uaa', { PKS_UAA_PORT: String(ports.uaa2) });
      await uaa2.start();
      await lb.waitForStatus({ 'uaa/uaa1': 'UP', 'uaa/uaa2': 'UP' });
      const [a, b] = [`https://localhost:${ports.uaa}`, `https://localhost:${ports.uaa2}`];
      const form = (url: string, path: string, body: Record<string, string>, headers = {}) =>
        https(`${url}${path}`, ca, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
            ...headers,
          },
          body: new URLSearchParams(body).toString(),
        });
      const login = (url: string, username: string, password: string) =>
        form(url, '/oauth/token', { grant_type: 'password', client_id: 'pks_cli', username, password });
      // The admin client's secret, from the new machine's own data directory (it read it from the database).
      const adminSecret = readFileSync(
        join(dir, 'uaa2', 'secrets', 'uaa-admin-client-secret'),
        'utf8',
      ).trim();
      const basicAdmin = `Basic ${Buffer.from(`admin:${adminSecret}`).toString('base64')}`;
      const adminGrant = await form(
        a,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { Authorization: basicAdmin },
      );
      expect(adminGrant.status, adminGrant.text).toBe(200);
      const adminToken = (JSON.parse(adminGrant.text) as { access_token: string }).access_token;
      const scim = async (method: string, path: string, body?: unknown) => {
        const res = await https(`${a}${path}`, ca, {
          method,
          headers: {
            Authorization: `Bearer ${adminToken}`,
            'Content-Type': 'application/json',
            Accept: 'application/json',
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        expect([200, 201], `${method} ${path}: ${res.text}`).toContain(res.status);
        return JSON.parse(res.text) as Record<string, unknown>;
      };
      const user = await scim('POST', '/Users', {
        userName: 'ursula',
        password: 'ursula-password',
        emails: [{ value: 'ursula@example.com', primary: true }],
      });
      const groups = await scim(
        'GET',
        `/Groups?filter=${encodeURIComponent('displayName eq "pks.clusters.manage"')}`,
      );
      const group = (groups.resources as { id: string }[])[0]!;
      await scim('POST', `/Groups/${group.id}/members`, { value: user.id, type: 'USER', origin: 'uaa' });

      // A token replica B issued is the API's too (both replicas name the issuer after roles.uaa.url).
      const granted = await login(b, 'ursula', 'ursula-password');
      expect(granted.status, granted.text).toBe(200);
      const ursula = (JSON.parse(granted.text) as { access_token: string }).access_token;
      const asUrsula = (port: number) =>
        https(`https://localhost:${port}/graphql`, ca, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ursula}` },
          body: JSON.stringify({ query: '{ clusters { name } }' }),
        });
      for (const port of [ports.api1!, ports.api2!, ports.lbApi!]) {
        const answer = await asUrsula(port);
        expect(answer.status, answer.text).toBe(200);
        expect(JSON.parse(answer.text)).toEqual({ data: { clusters: [] } });
      }

      // Five wrong passwords at A; the right one at B is refused.
      for (let i = 0; i < 5; i++) expect((await login(a, 'ursula', `wrong-${i}`)).status).toBe(401);
      const locked = await login(b, 'ursula', 'ursula-password');
      expect({ status: locked.status, body: JSON.parse(locked.text) }).toEqual({
        status: 401,
        body: {
          error: 'unauthorized',
          error_description: 'Your account has been locked because of too many failed attempts to login.',
        },
      });

      // Her token revoked by its id at A: B's check_token and introspection refuse it, and so do both API
      // replicas (they learn of it from the database, not from the UAA that revoked it).
      const { jti } = JSON.parse(Buffer.from(ursula.split('.')[1]!, 'base64url').toString()) as {
        jti: string;
      };
      const revoked = await https(`${a}/oauth/token/revoke/${jti}`, ca, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${adminToken}` },
      });
      expect(revoked.status, revoked.text).toBe(200);
      const checked = await form(b, '/check_token', { token: ursula }, { Authorization: basicAdmin });
      expect({ status: checked.status, body: JSON.parse(checked.text) }).toEqual({
        status: 400,
        body: { error: 'invalid_token', error_description: 'Token has been revoked' },
      });
      const introspected = await form(
        b,
        '/introspect',
        { token: ursula },
        { Authorization: `Bearer ${adminToken}` },
      );
      expect(JSON.parse(introspected.text)).toEqual({ active: false });
      const revokedAt = Date.now();
      for (const port of [ports.api1!, ports.api2!]) {
        await waitFor(
          `the API replica on ${port} to refuse the revoked token`,
          async () => ((await asUrsula(port)).status === 401 ? true : undefined),
          5_000,
        );
      }
      console.info(`both API replicas refused the revoked token within ${Date.now() - revokedAt} ms`);
      // Only that token: the test's admin token still works.
      expect((await read<{ clusters: unknown[] }>('{ clusters { name } }')).clusters.length).toBeGreaterThan(
        0,
      );
    }, 240_000);
  },
);
