import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TokenVerifier } from '@openpks/auth';

/** What the sim master shows for a worker: one Ready node per worker VM, named after the VM. */
export interface SimNode {
  name: string;
  ip: string;
  uuid: string;
  createdAt: Date;
}

export interface SimKubeApiOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  /** Checks the kubeconfig's credential (UAA OIDC id tokens issued to pks_cluster_client). */
  verifier: TokenVerifier;
  nodes: () => Promise<SimNode[]>;
}

/** Kubernetes version the sim reports: PKS 1.6 shipped Kubernetes 1.15.5. */
export const SIM_KUBERNETES_VERSION = 'v1.15.5';

const NAMESPACES = ['default', 'kube-system', 'kube-public'];
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function age(since: Date): string {
  const seconds = Math.max(0, Math.floor((Date.now() - since.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}

function node(n: SimNode) {
  const now = new Date().toISOString();
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name: n.name,
      uid: n.uuid,
      creationTimestamp: n.createdAt.toISOString(),
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'bosh.id': n.uuid,
        'spec.ip': n.ip,
      },
    },
    spec: {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status (sim)',
          lastHeartbeatTime: now,
          lastTransitionTime: n.createdAt.toISOString(),
        },
      ],
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: {
        kubeletVersion: SIM_KUBERNETES_VERSION,
        kubeProxyVersion: SIM_KUBERNETES_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
        osImage: 'Ubuntu 16.04.6 LTS (sim)',
        containerRuntimeVersion: 'docker://18.9.9',
        kernelVersion: '4.15.0-sim',
      },
    },
  };
}

function namespace(name: string, createdAt: Date) {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name, uid: `sim-ns-${name}`, creationTimestamp: createdAt.toISOString() },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function table(
  columns: { name: string; type: string; format?: string }[],
  rows: { cells: unknown[]; metadata: Record<string, unknown> }[],
) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '1' },
    columnDefinitions: columns.map((c, i) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.name,
      priority: i > 4 ? 1 : 0,
    })),
    rows: rows.map((r) => ({
      cells: r.cells,
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: r.metadata },
    })),
  };
}

/**
 * The sim master's Kubernetes API: enough for real kubectl and @kubernetes/client-node to check a
 * kubeconfig (`version`, `cluster-info`, `get nodes`, `get namespaces`). Labelled sim in its answers.
 */
export class SimKubeApi {
  readonly #server: Server;
  readonly #sockets = new Set<Duplex>();
  readonly #startedAt = new Date();

  private constructor(private readonly options: SimKubeApiOptions) {
    this.#server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
      void this.#handle(req, res).catch(() => {
        if (!res.headersSent) this.#send(res, 500, status(500, 'InternalError', 'sim kube-apiserver failed'));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: SimKubeApiOptions): Promise<SimKubeApi> {
    const api = new SimKubeApi(options);
    await new Promise<void>((resolve, reject) => {
      api.#server.once('error', reject);
      api.#server.listen(options.port, options.host, () => {
        api.#server.off('error', reject);
        resolve();
      });
    });
    return api;
  }

  get url(): string {
    return `https://${this.options.host}:${this.options.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  async #authenticated(req: IncomingMessage, path: string): Promise<boolean> {
    const header = req.headers.authorization;
    if (header === undefined) return ANONYMOUS_PATHS.has(path);
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return false;
    try {
      await this.options.verifier.verify(match[1]!);
      return true;
    } catch {
      return false;
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://sim').pathname.replace(/\/+$/, '') || '/';
    if (!(await this.#authenticated(req, path))) {
      this.#send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (req.method !== 'GET') {
      this.#send(res, 405, status(405, 'MethodNotAllowed', 'the sim Kubernetes API is read-only'));
      return;
    }
    const address = `${this.options.host}:${this.options.port}`;
    switch (path) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      case '/version': {
        const [major, minor] = SIM_KUBERNETES_VERSION.slice(1).split('.');
        this.#send(res, 200, {
          major,
          minor,
          gitVersion: SIM_KUBERNETES_VERSION,
          gitCommit: 'sim',
          gitTreeState: 'clean',
          buildDate: '2019-10-15T12:02:12Z',
          goVersion: 'go1.12.10',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
        return;
      }
      case '/api':
        this.#send(res, 200, {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
        });
        return;
      case '/apis':
        this.#send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
        return;
      case '/api/v1':
        this.#send(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [
            {
              name: 'nodes',
              singularName: 'node',
              namespaced: false,
              kind: 'Node',
              verbs: ['get', 'list'],
              shortNames: ['no'],
            },
            {
              name: 'namespaces',
              singularName: 'namespace',
              namespaced: false,
              kind: 'Namespace',
              verbs: ['get', 'list'],
              shortNames: ['ns'],
            },
          ],
        });
        return;
      case '/api/v1/nodes': {
        const nodes = await this.options.nodes();
        if (wantsTable(req)) {
          this.#send(
            res,
            200,
            table(
              [
                { name: 'Name', type: 'string', format: 'name' },
                { name: 'Status', type: 'string' },
                { name: 'Roles', type: 'string' },
                { name: 'Age', type: 'string' },
                { name: 'Version', type: 'string' },
              ],
              nodes.map((n) => ({
                cells: [n.name, 'Ready', '<none>', age(n.createdAt), SIM_KUBERNETES_VERSION],
                metadata: { name: n.name, uid: n.uuid, creationTimestamp: n.createdAt.toISOString() },
              })),
            ),
          );
        } else {
          this.#send(res, 200, {
            kind: 'NodeList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '1' },
            items: nodes.map(node),
          });
        }
        return;
      }
      case '/api/v1/namespaces':
        if (wantsTable(req)) {
          this.#send(
            res,
            200,
            table(
              [
                { name: 'Name', type: 'string', format: 'name' },
                { name: 'Status', type: 'string' },
                { name: 'Age', type: 'string' },
              ],
              NAMESPACES.map((name) => ({
                cells: [name, 'Active', age(this.#startedAt)],
                metadata: { name, creationTimestamp: this.#startedAt.toISOString() },
              })),
            ),
          );
        } else {
          this.#send(res, 200, {
            kind: 'NamespaceList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '1' },
            items: NAMESPACES.map((name) => namespace(name, this.#startedAt)),
          });
        }
        return;
    }
    const single = /^\/api\/v1\/(nodes|namespaces)\/([^/]+)$/.exec(path);
    if (single) {
      const [, kind, name] = single;
      if (kind === 'nodes') {
        const found = (await this.options.nodes()).find((n) => n.name === name);
        if (found) return this.#send(res, 200, node(found));
      } else if (NAMESPACES.includes(name!)) {
        return this.#send(res, 200, namespace(name!, this.#startedAt));
      }
      this.#send(res, 404, status(404, 'NotFound', `${kind} "${name}" not found`));
      return;
    }
    this.#send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource (sim)'));
  }
}
