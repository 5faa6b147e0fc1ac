import { request } from 'node:https';

/** A failed call to the PKS API or to UAA for its token, with the API's error code when it gave one. */
export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(code === undefined ? message : `${message} (${code})`);
    this.name = 'ApiRequestError';
  }
}

/** Where the PKS API is and who talks to it: a UAA user with pks.clusters.admin, signing in through `pks_cli`. */
export interface ApiTarget {
  apiUrl: string;
  uaaUrl: string;
  caPem: string | undefined;
  username: string;
  password: string;
}

/** An operation on a cluster, as `clusterOperations` lists it. */
export interface ClusterOperation {
  id: string;
  clusterName: string;
  kind: string;
  phase: string;
  state: string;
  description: string;
  originatingUser: string;
  driver: string | null;
  taskId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ClusterState {
  name: string;
  lastAction: string;
  lastActionState: string;
  lastActionDescription: string;
}

/** An owner's limits, in PKS's quota model's units (memory in GB). */
export interface QuotaLimit {
  cluster: number;
  cpu: number;
  memory: number;
}

export interface OwnerQuota {
  owner: string;
  limit: QuotaLimit;
}

/** An owner's totals over their live clusters. */
export interface OwnerUsage {
  owner: string;
  totals: QuotaLimit;
}

const QUOTA_FIELDS = 'owner limit { cluster cpu memory }';

const OPERATION_FIELDS =
  'id clusterName kind phase state description originatingUser driver taskId createdAt finishedAt';
const CLUSTER_FIELDS = 'name lastAction lastActionState lastActionDescription';

/**
 * The PKS API's GraphQL as an operator uses it from the installation's machine: the admin user signs in
 * at UAA with the password grant on `pks_cli` (as `pks login` does), and the token goes to `/graphql`.
 */
export class ApiAdminClient {
  #token: Promise<string> | undefined;

  constructor(private readonly target: ApiTarget) {}

  async operations(filter: {
    inProgress: boolean;
    clusterName?: string | undefined;
    limit?: number | undefined;
  }): Promise<ClusterOperation[]> {
    const { clusterOperations } = await this.graphql<{ clusterOperations: ClusterOperation[] }>(
      `query($inProgress: Boolean!, $clusterName: String, $limit: Int!) {
         clusterOperations(inProgress: $inProgress, clusterName: $clusterName, limit: $limit) { ${OPERATION_FIELDS} } }`,
      { inProgress: filter.inProgress, clusterName: filter.clusterName ?? null, limit: filter.limit ?? 50 },
    );
    return clusterOperations;
  }

  async retry(name: string): Promise<ClusterState> {
    const { retryClusterOperation } = await this.graphql<{ retryClusterOperation: ClusterState }>(
      `mutation($name: String!) { retryClusterOperation(name: $name) { ${CLUSTER_FIELDS} } }`,
      { name },
    );
    return retryClusterOperation;
  }

  async abandon(name: string, reason: string): Promise<ClusterState> {
    const { abandonClusterOperation } = await this.graphql<{ abandonClusterOperation: ClusterState }>(
      `mutation($name: String!, $reason: String) { abandonClusterOperation(name: $name, reason: $reason) { ${CLUSTER_FIELDS} } }`,
      { name, reason },
    );
    return abandonClusterOperation;
  }

  /** Every quota, with each owner's usage beside it. */
  async quotas(): Promise<{ quotas: OwnerQuota[]; usages: OwnerUsage[] }> {
    return this.graphql<{ quotas: OwnerQuota[]; usages: OwnerUsage[] }>(
      `{ quotas { ${QUOTA_FIELDS} } usages { owner totals { cluster cpu memory } } }`,
      {},
    );
  }

  /** All three limits: create or replace; some: change those of the existing quota. */
  async setQuota(owner: string, limit: Partial<QuotaLimit>): Promise<OwnerQuota> {
    const whole = limit.cluster !== undefined && limit.cpu !== undefined && limit.memory !== undefined;
    const field = whole ? 'setQuota' : 'updateQuota';
    const answer = await this.graphql<Record<string, OwnerQuota>>(
      `mutation($owner: String!, $limit: QuotaLimitInput!) { ${field}(owner: $owner, limit: $limit) { ${QUOTA_FIELDS} } }`,
      { owner, limit },
    );
    return answer[field]!;
  }

  async deleteQuota(owner: string): Promise<OwnerQuota> {
    const { deleteQuota } = await this.graphql<{ deleteQuota: OwnerQuota }>(
      `mutation($owner: String!) { deleteQuota(owner: $owner) { ${QUOTA_FIELDS} } }`,
      { owner },
    );
    return deleteQuota;
  }

  async graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const token = await this.#accessToken();
    const { status, body } = await this.#post(new URL('/graphql', this.target.apiUrl), {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    let answer: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      answer = JSON.parse(body) as typeof answer;
    } catch {
      throw new ApiRequestError(`the PKS API answered HTTP ${status}: ${body.slice(0, 200)}`);
    }
    const error = answer.errors?.[0];
    if (error !== undefined) throw new ApiRequestError(error.message, error.extensions?.code);
    if (answer.data === undefined || answer.data === null) {
      throw new ApiRequestError(`the PKS API answered HTTP ${status} without data`);
    }
    return answer.data;
  }

  #accessToken(): Promise<string> {
    this.#token ??= (async () => {
      const { status, body } = await this.#post(new URL('/oauth/token', this.target.uaaUrl), {
        headers: {
          Authorization: `Basic ${Buffer.from('pks_cli:').toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: this.target.username,
          password: this.target.password,
        }).toString(),
      });
      const token = JSON.parse(body || '{}') as { access_token?: string; error_description?: string };
      if (status !== 200 || token.access_token === undefined) {
        throw new ApiRequestError(
          `UAA refused to sign ${this.target.username} in: ${token.error_description ?? `HTTP ${status}`}`,
        );
      }
      return token.access_token;
    })();
    this.#token.catch(() => (this.#token = undefined));
    return this.#token;
  }

  #post(
    url: URL,
    options: { headers: Record<string, string>; body: string },
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: this.target.caPem,
          headers: { ...options.headers, 'Content-Length': String(Buffer.byteLength(options.body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('error', (error: Error) =>
        reject(new ApiRequestError(`cannot reach ${url.origin}: ${error.message}`)),
      );
      req.end(options.body);
    });
  }
}
