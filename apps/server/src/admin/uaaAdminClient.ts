import { request } from 'node:https';

/** A failed call to the UAA, carrying UAA's `error` and `error_description`. */
export class UaaRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${description} (${error}, HTTP ${status})`);
    this.name = 'UaaRequestError';
  }
}

export interface UaaTarget {
  url: string;
  caPem: string | undefined;
  clientId: string;
  clientSecret: string;
}

export interface ScimUser {
  id: string;
  userName: string;
  emails?: { value: string }[];
  groups?: { display: string; type: string }[];
  active: boolean;
  origin: string;
}

export interface ScimGroup {
  id: string;
  displayName: string;
  description?: string;
  members: { value: string; type: string; origin: string }[];
}

export interface UaaClient {
  client_id: string;
  scope: string[];
  authorities: string[];
  authorized_grant_types: string[];
  redirect_uri?: string[];
}

interface ListResponse<T> {
  resources: T[];
  totalResults: number;
}

const PAGE = 500;

/**
 * The UAA's SCIM and client APIs as `pks-admin` uses them, authenticated as the `admin` client
 * (client credentials). HTTPS only, trusting the installation's CA.
 */
export class UaaAdminClient {
  private token: string | undefined;

  constructor(private readonly target: UaaTarget) {}

  async findUser(userName: string): Promise<ScimUser | undefined> {
    const page = await this.get<ListResponse<ScimUser>>(
      `/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)}`,
    );
    return page.resources[0];
  }

  async listUsers(): Promise<ScimUser[]> {
    return this.all<ScimUser>('/Users?sortBy=userName');
  }

  async createUser(user: { userName: string; password: string; email: string }): Promise<ScimUser> {
    return this.send<ScimUser>('POST', '/Users', {
      userName: user.userName,
      password: user.password,
      emails: [{ value: user.email, primary: true }],
    });
  }

  async deleteUser(id: string): Promise<void> {
    await this.send('DELETE', `/Users/${encodeURIComponent(id)}`);
  }

  async setPassword(id: string, password: string): Promise<void> {
    await this.send('PUT', `/Users/${encodeURIComponent(id)}/password`, { password });
  }

  async findGroup(displayName: string): Promise<ScimGroup | undefined> {
    const page = await this.get<ListResponse<ScimGroup>>(
      `/Groups?filter=${encodeURIComponent(`displayName eq ${JSON.stringify(displayName)}`)}`,
    );
    return page.resources[0];
  }

  async listGroups(): Promise<ScimGroup[]> {
    return this.all<ScimGroup>('/Groups?sortBy=displayName');
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    await this.send('POST', `/Groups/${encodeURIComponent(groupId)}/members`, {
      value: userId,
      type: 'USER',
      origin: 'uaa',
    });
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    await this.send('DELETE', `/Groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(userId)}`);
  }

  async listClients(): Promise<UaaClient[]> {
    return this.all<UaaClient>('/oauth/clients?');
  }

  async createClient(client: Record<string, unknown>): Promise<UaaClient> {
    return this.send<UaaClient>('POST', '/oauth/clients', client);
  }

  async deleteClient(id: string): Promise<void> {
    await this.send('DELETE', `/oauth/clients/${encodeURIComponent(id)}`);
  }

  private async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    for (let start = 1; ; start += PAGE) {
      const separator = path.endsWith('?') ? '' : '&';
      const page = await this.get<ListResponse<T>>(`${path}${separator}startIndex=${start}&count=${PAGE}`);
      items.push(...page.resources);
      if (page.resources.length === 0 || items.length >= page.totalResults) return items;
    }
  }

  private get<T>(path: string): Promise<T> {
    return this.send<T>('GET', path);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.token ??= await this.fetchToken();
    const response = await this.http(method, path, {
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return response as T;
  }

  private async fetchToken(): Promise<string> {
    const { clientId, clientSecret } = this.target;
    const response = (await this.http('POST', '/oauth/token', {
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    })) as { access_token: string };
    return response.access_token;
  }

  private http(
    method: string,
    path: string,
    init: { headers: Record<string, string>; body?: string },
  ): Promise<unknown> {
    const url = new URL(path, this.target.url.replace(/\/$/, '') + '/');
    return new Promise((resolve, reject) => {
      const body = init.body === undefined ? undefined : Buffer.from(init.body);
      const req = request(
        url,
        {
          method,
          headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          ...(this.target.caPem ? { ca: this.target.caPem } : {}),
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(parsed);
              return;
            }
            const error = (parsed ?? {}) as { error?: string; error_description?: string; message?: string };
            reject(
              new UaaRequestError(
                status,
                error.error ?? 'http_error',
                error.error_description ??
                  error.message ??
                  `${method} ${url.pathname} answered HTTP ${status}`,
              ),
            );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within 30 s`)));
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            error.code === 'ECONNREFUSED'
              ? `cannot reach the UAA at ${url.origin} (connection refused): is pks-server running?`
              : `cannot reach the UAA at ${url.origin}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      req.end(body);
    });
  }
}
