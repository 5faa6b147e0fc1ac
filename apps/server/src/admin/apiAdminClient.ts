import { HttpsJsonClient, type TokenSource } from '@openpks/auth';

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

/** An owner's limits, in PKS's quota model's units (memory in GB); null is no limit on that resource. */
export interface QuotaLimit {
  cluster: number | null;
  cpu: number | null;
  memory: number | null;
}

export interface OwnerQuota {
  owner: string;
  limit: QuotaLimit;
}

/** An owner's totals over their live clusters. */
export interface OwnerUsage {
  owner: string;
  totals: { cluster: number; cpu: number; memory: number };
}

const QUOTA_FIELDS = 'owner limit { cluster cpu memory }';

const OPERATION_FIELDS =
  'id clusterName kind phase state description originatingUser driver taskId createdAt finishedAt';
const CLUSTER_FIELDS = 'name lastAction lastActionState lastActionDescription';

/**
 * The PKS API's GraphQL as an operator uses it from the installation's machine: the admin user signs in
 * at UAA with the password grant on `pks_cli` (as `pks login` does), and the token goes to `/graphql`; a
 * token the API stops taking (revoked, its key rotated) makes the user sign in again, once.
 */
export class ApiAdminClient {
  readonly #uaa: HttpsJsonClient;
  readonly #api: HttpsJsonClient;
  #token: Promise<string> | undefined;

  constructor(private readonly target: ApiTarget) {
    // pks-admin runs a command and ends: a kept-alive socket would hold the process open.
    this.#uaa = new HttpsJsonClient({
      url: target.uaaUrl,
      peer: 'the UAA',
      ca: target.caPem,
      // `pks_cli` is a public client: its id, and no secret.
      auth: { basic: { username: 'pks_cli', password: '' } },
      keepAlive: false,
    });
    const tokens: TokenSource = {
      token: () => this.#accessToken(),
      invalidate: () => (this.#token = undefined),
    };
    this.#api = new HttpsJsonClient({
      url: target.apiUrl,
      peer: 'the PKS API',
      ca: target.caPem,
      auth: { bearer: tokens },
      keepAlive: false,
    });
  }

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

  /**
   * All three limits: create or replace. Some: change those of the existing quota, or create one with
   * only those (the others no limit) when the owner has none. A create that finds a quota made meanwhile
   * by someone else changes it instead: never replaces limits this call was not given.
   */
  async setQuota(owner: string, limit: Partial<QuotaLimit>): Promise<OwnerQuota> {
    const whole = limit.cluster !== undefined && limit.cpu !== undefined && limit.memory !== undefined;
    if (whole) return this.#quotaMutation('setQuota', owner, limit);
    try {
      return await this.#quotaMutation('updateQuota', owner, limit);
    } catch (error) {
      if (!(error instanceof ApiRequestError && error.code === 'NOT_FOUND')) throw error;
    }
    try {
      return await this.#quotaMutation('createQuota', owner, limit);
    } catch (error) {
      if (!(error instanceof ApiRequestError && error.code === 'CONFLICT')) throw error;
      return this.#quotaMutation('updateQuota', owner, limit);
    }
  }

  async #quotaMutation(
    field: 'setQuota' | 'createQuota' | 'updateQuota',
    owner: string,
    limit: Partial<QuotaLimit>,
  ): Promise<OwnerQuota> {
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
    // GraphQL says what went wrong in its `errors`, whatever the status: every status is read here.
    const response = await this.#api.send('POST', '/graphql', {
      json: { query, variables },
      expect: 'any',
    });
    const { status } = response;
    const body = response.body.toString('utf8');
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
      const response = await this.#uaa.send('POST', '/oauth/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          username: this.target.username,
          password: this.target.password,
        }).toString(),
        expect: 'any',
      });
      let token: { access_token?: string; error_description?: string } = {};
      try {
        token = JSON.parse(response.body.toString('utf8') || '{}') as typeof token;
      } catch {
        // not UAA's JSON: said by the status below
      }
      if (response.status !== 200 || typeof token.access_token !== 'string') {
        throw new ApiRequestError(
          `UAA refused to sign ${this.target.username} in: ${token.error_description ?? `HTTP ${response.status}`}`,
        );
      }
      return token.access_token;
    })();
    this.#token.catch(() => (this.#token = undefined));
    return this.#token;
  }
}
