import {
  ClientCredentialsTokenSource,
  HttpsJsonClient,
  type HttpStatusError,
  type TokenSource,
} from '@openpks/auth';
import { PksError } from '@openpks/domain';

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
 * (client credentials; a token the UAA stops taking is fetched anew once). HTTPS only, trusting the
 * installation's CA.
 */
export class UaaAdminClient {
  readonly #http: HttpsJsonClient;

  constructor(target: UaaTarget) {
    this.#http = new HttpsJsonClient({
      url: target.url,
      peer: 'the UAA',
      ca: target.caPem,
      auth: { bearer: adminTokens(target) },
      refusal: uaaError,
      // pks-admin runs a command and ends: a kept-alive socket would hold the process open.
      keepAlive: false,
    });
  }

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

  private send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#http.json<T>(method, path, body !== undefined ? { json: body } : {});
  }
}

/**
 * The `admin` client's tokens; a refusal of the client is said in UAA's own words (`Bad credentials
 * (invalid_client, HTTP 401)`), as every other UAA refusal pks-admin reports.
 */
function adminTokens(target: UaaTarget): TokenSource {
  const source = new ClientCredentialsTokenSource({
    tokenUrl: `${target.url.replace(/\/+$/, '')}/oauth/token`,
    clientId: target.clientId,
    clientSecret: target.clientSecret,
    ...(target.caPem !== undefined ? { ca: target.caPem } : {}),
  });
  return {
    token: () =>
      source.token().catch((error: unknown) => {
        const details = error instanceof PksError ? error.details : {};
        if (typeof details.status !== 'number' || typeof details.description !== 'string') throw error;
        throw new UaaRequestError(
          details.status,
          typeof details.error === 'string' ? details.error : 'http_error',
          details.description,
        );
      }),
    invalidate: () => source.invalidate(),
  };
}

/** A refusal with UAA's `error` and `error_description` (SCIM says `message`). */
function uaaError(refused: HttpStatusError): Error {
  const body = (typeof refused.body === 'object' && refused.body !== null ? refused.body : {}) as {
    error?: unknown;
    error_description?: unknown;
    message?: unknown;
  };
  const said = [body.error_description, body.message].find((value) => typeof value === 'string');
  return new UaaRequestError(
    refused.status,
    typeof body.error === 'string' ? body.error : 'http_error',
    (said as string | undefined) ??
      `${refused.method} ${refused.path.split('?')[0]} answered HTTP ${refused.status}`,
  );
}
