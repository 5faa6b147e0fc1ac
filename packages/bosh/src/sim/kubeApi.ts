import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { TokenVerifier } from '@openpks/auth';
import { isClusterAdmin, MemoryClusterRoleBindings, type ClusterRoleBindings, type SimUser } from './rbac.js';

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
  /**
   * The apiserver's `--client-ca-file`: client certificates signed by one of these authenticate as their
   * CN (user) and O (groups), and are then authorised by RBAC. None: client certificates are not asked for.
   */
  clientCas?: readonly string[] | undefined;
  /** The cluster's ClusterRoleBindings (shared by its masters); a fresh, empty set when not given. */
  rbac?: ClusterRoleBindings | undefined;
  nodes: () => Promise<SimNode[]>;
}

/** How a request authenticated. OIDC users are authorised for everything, as the sim always did. */
type Caller =
  { kind: 'anonymous' } | { kind: 'oidc' } | { kind: 'certificate'; user: SimUser } | { kind: 'rejected' };

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_PATH = `/apis/${RBAC_GROUP}/v1/clusterrolebindings`;
/** What Kubernetes lets every authenticated user read (system:discovery, system:public-info-viewer). */
const DISCOVERY_PATHS = new Set([
  '/api',
  '/apis',
  '/api/v1',
  `/apis/${RBAC_GROUP}`,
  `/apis/${RBAC_GROUP}/v1`,
]);

/** Kubernetes version the sim reports: PKS 1.6 shipped Kubernetes 1.15.5. */
export const SIM_KUBERNETES_VERSION = 'v1.15.5';

const NAMESPACES = ['default', 'kube-system', 'kube-public'];
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details !== undefined ? { details } : {}),
    code,
  };
}

/** The user a verified client certificate names (Node gives several O values as an array). */
function certificateUser(socket: TLSSocket): SimUser | undefined {
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[]> | undefined;
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (name === undefined || name === '') return undefined;
  const o = subject?.O;
  return { name, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

/** The resource, verb and API group of a request, for Kubernetes' "forbidden" message. */
function attributesOf(method: string, path: string): { resource: string; verb: string; group: string } {
  const parts = path.split('/').filter(Boolean);
  const core = parts[0] === 'api';
  const rest = core ? parts.slice(2) : parts.slice(3);
  const resource = rest[0] ?? 'unknown';
  const named = rest.length > 1;
  const verb =
    method === 'POST'
      ? 'create'
      : method === 'DELETE'
        ? 'delete'
        : method === 'PUT'
          ? 'update'
          : named
            ? 'get'
            : 'list';
  return { resource, verb, group: core ? '' : (parts[1] ?? '') };
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
  readonly #rbac: ClusterRoleBindings;

  private constructor(private readonly options: SimKubeApiOptions) {
    this.#rbac = options.rbac ?? new MemoryClusterRoleBindings();
    const clientCas = options.clientCas ?? [];
    // As kube-apiserver does: a certificate is asked for but not required (tokens authenticate too), and one
    // that does not chain to the client CAs leaves the request unauthenticated rather than failing the TLS.
    const tls =
      clientCas.length > 0 ? { requestCert: true, rejectUnauthorized: false, ca: [...clientCas] } : {};
    this.#server = createServer({ cert: options.cert, key: options.key, ...tls }, (req, res) => {
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

  async #caller(req: IncomingMessage): Promise<Caller> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) return { kind: 'rejected' };
      try {
        await this.options.verifier.verify(match[1]!);
        return { kind: 'oidc' };
      } catch {
        return { kind: 'rejected' };
      }
    }
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return { kind: 'anonymous' };
    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
    if (!presented) return { kind: 'anonymous' };
    const user = socket.authorized ? certificateUser(socket) : undefined;
    return user === undefined ? { kind: 'rejected' } : { kind: 'certificate', user };
  }

  /** 401 for no or a bad credential, 403 for a certificate user no ClusterRoleBinding lets in. */
  async #refusal(
    req: IncomingMessage,
    path: string,
    caller: Caller,
  ): Promise<{ code: number; body: unknown } | undefined> {
    if (caller.kind === 'oidc') return undefined;
    if (ANONYMOUS_PATHS.has(path) && caller.kind !== 'rejected') return undefined;
    if (caller.kind !== 'certificate') {
      return { code: 401, body: status(401, 'Unauthorized', 'Unauthorized') };
    }
    if (DISCOVERY_PATHS.has(path) || isClusterAdmin(await this.#rbac.list(), caller.user)) return undefined;
    const { resource, verb, group } = attributesOf(req.method ?? 'GET', path);
    return {
      code: 403,
      body: status(
        403,
        'Forbidden',
        `${resource} is forbidden: User "${caller.user.name}" cannot ${verb} resource "${resource}" in API group "${group}" at the cluster scope`,
        { kind: resource, ...(group !== '' ? { group } : {}) },
      ),
    };
  }

  async #readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) return undefined;
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /** `rbac.authorization.k8s.io/v1` ClusterRoleBindings: list, get, create and delete. */
  async #clusterRoleBindings(req: IncomingMessage, res: ServerResponse, name: string | undefined) {
    const notFound = (n: string) =>
      this.#send(
        res,
        404,
        status(404, 'NotFound', `clusterrolebindings.${RBAC_GROUP} "${n}" not found`, {
          name: n,
          group: RBAC_GROUP,
          kind: 'clusterrolebindings',
        }),
      );
    if (name === undefined && req.method === 'GET') {
      return this.#send(res, 200, {
        kind: 'ClusterRoleBindingList',
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: { resourceVersion: '1' },
        items: await this.#rbac.list(),
      });
    }
    if (name === undefined && req.method === 'POST') {
      const body = await this.#readBody(req);
      const created = await this.#rbac.create(body);
      if (created === 'exists') {
        const existing = (body as { metadata: { name: string } }).metadata.name;
        return this.#send(
          res,
          409,
          status(409, 'AlreadyExists', `clusterrolebindings.${RBAC_GROUP} "${existing}" already exists`, {
            name: existing,
            group: RBAC_GROUP,
            kind: 'clusterrolebindings',
          }),
        );
      }
      if (typeof created === 'string') {
        return this.#send(res, 422, status(422, 'Invalid', `ClusterRoleBinding is invalid: ${created}`));
      }
      return this.#send(res, 201, created);
    }
    if (name !== undefined && req.method === 'GET') {
      const found = await this.#rbac.get(name);
      return found === undefined ? notFound(name) : this.#send(res, 200, found);
    }
    if (name !== undefined && req.method === 'DELETE') {
      const deleted = await this.#rbac.delete(name);
      if (deleted === undefined) return notFound(name);
      return this.#send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: RBAC_GROUP, kind: 'clusterrolebindings', uid: deleted.metadata.uid },
      });
    }
    this.#send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not supported here (sim)`));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://sim').pathname.replace(/\/+$/, '') || '/';
    const refusal = await this.#refusal(req, path, await this.#caller(req));
    if (refusal !== undefined) {
      this.#send(res, refusal.code, refusal.body);
      return;
    }
    const rbac =
      path === RBAC_PATH
        ? ''
        : path.startsWith(`${RBAC_PATH}/`)
          ? path.slice(RBAC_PATH.length + 1)
          : undefined;
    if (rbac !== undefined && !rbac.includes('/')) {
      await this.#clusterRoleBindings(req, res, rbac === '' ? undefined : decodeURIComponent(rbac));
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
      case '/apis': {
        const version = { groupVersion: `${RBAC_GROUP}/v1`, version: 'v1' };
        this.#send(res, 200, {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: [{ name: RBAC_GROUP, versions: [version], preferredVersion: version }],
        });
        return;
      }
      case `/apis/${RBAC_GROUP}/v1`:
        this.#send(res, 200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: `${RBAC_GROUP}/v1`,
          resources: [
            {
              name: 'clusterrolebindings',
              singularName: 'clusterrolebinding',
              namespaced: false,
              kind: 'ClusterRoleBinding',
              verbs: ['create', 'delete', 'get', 'list'],
            },
          ],
        });
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
