import { Agent, request } from 'node:https';
import {
  ForbiddenError,
  InputError,
  InternalError,
  NotFoundError,
  UnauthenticatedError,
} from '@openpks/domain';
import { ClientCredentialsTokenSource, type TokenSource } from '@openpks/auth';
import type { DirectorClient } from './directorClient.js';
import type { DirectorInfo } from './types.js';

/** A credential version as CredHub's `GET /api/v1/data` returns it. */
export interface ConfigServerCredential {
  id: string;
  name: string;
  type: string;
  version_created_at: string;
  value: unknown;
}

/** The public parts of a certificate credential (never its private key). */
export interface CertificateValue {
  ca: string;
  certificate: string;
}

export interface ConfigServerClientOptions {
  /** The config server's API base as BOSH advertises it, e.g. `https://10.0.0.6:8844/api/`. */
  url: string;
  /** PEM of the CA that signed the config server's certificate (and UAA's). */
  ca?: string | undefined;
  /**
   * UAA client credentials (`credhub.read`, or `bosh.admin` on the embedded Director). The token URL is
   * discovered from the server's `/info` (`auth-server.url`, as CredHub answers, or the Director's
   * `user_authentication`) unless given.
   */
  client?: { id: string; secret: string; tokenUrl?: string };
  /** Any token source instead (takes precedence over `client`). */
  tokenSource?: TokenSource;
}

/** The `/info` feature through which a BOSH Director advertises its config server. */
export const CONFIG_SERVER_FEATURE = 'config_server';

/** The config-server name of a deployment's variable: `/<director name>/<deployment>/<variable>`. */
export function configServerName(directorName: string, deployment: string, variable: string): string {
  return `/${directorName}/${deployment}/${variable}`;
}

/** The config server URL a Director advertises in `/info` (`features.config_server.extras.urls[0]`). */
export function configServerUrlOf(info: DirectorInfo): string | undefined {
  const feature = info.features?.[CONFIG_SERVER_FEATURE];
  const urls = feature?.extras?.urls;
  if (feature?.status !== true || !Array.isArray(urls)) return undefined;
  const url: unknown = urls[0];
  return typeof url === 'string' && url.startsWith('https://') ? url : undefined;
}

/**
 * A read-only client of CredHub's data API (`GET /api/v1/data?name=…&current=true`), the config server BOSH
 * generates deployment variables in. It works against a real CredHub (URL + CA + UAA client) and against
 * the embedded Director's config server, which answers the same shape but never returns private keys.
 */
export class ConfigServerClient {
  readonly #options: ConfigServerClientOptions;
  readonly #base: URL;
  readonly #agent: Agent;
  #tokens: Promise<TokenSource | undefined> | undefined;

  constructor(options: ConfigServerClientOptions) {
    this.#options = options;
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    if (this.#base.protocol !== 'https:') {
      throw new InputError(
        'config_server.url',
        `the config server is reached over HTTPS, got ${options.url}`,
      );
    }
    this.#agent = new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
    if (options.tokenSource) this.#tokens = Promise.resolve(options.tokenSource);
  }

  /**
   * The config server a Director advertises in `/info`, with the Director's UAA as token issuer unless the
   * client names its own token URL.
   */
  static async fromDirector(
    director: DirectorClient,
    options: Omit<ConfigServerClientOptions, 'url'>,
  ): Promise<ConfigServerClient> {
    const info = await director.info();
    const url = configServerUrlOf(info);
    if (url === undefined) {
      throw new NotFoundError(`the BOSH Director '${info.name}' advertises no config server in /info`);
    }
    const uaa = info.user_authentication?.options?.url;
    const client =
      options.client && options.client.tokenUrl === undefined && uaa
        ? { ...options.client, tokenUrl: `${uaa.replace(/\/$/, '')}/oauth/token` }
        : options.client;
    return new ConfigServerClient({ ...options, url, ...(client ? { client } : {}) });
  }

  get url(): string {
    return this.#base.href;
  }

  close(): void {
    this.#agent.destroy();
  }

  #send(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string; json: unknown }> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.#base),
        {
          method: 'GET',
          agent: this.#agent,
          headers: { Accept: 'application/json', ...headers },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = body === '' ? undefined : JSON.parse(body);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body, json });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer from the config server`)));
      req.on('error', reject);
      req.end();
    });
  }

  #tokenSource(): Promise<TokenSource | undefined> {
    this.#tokens ??= (async () => {
      const client = this.#options.client;
      if (!client) return undefined;
      let tokenUrl = client.tokenUrl;
      if (tokenUrl === undefined) {
        // CredHub answers `/info` with `auth-server.url`; a BOSH Director with `user_authentication`.
        const { status, json } = await this.#send(new URL('/info', this.#base).href, {});
        const info = json as
          | { 'auth-server'?: { url?: string }; user_authentication?: { options?: { url?: string } } }
          | undefined;
        const uaa = info?.['auth-server']?.url ?? info?.user_authentication?.options?.url;
        if (status !== 200 || typeof uaa !== 'string') {
          throw new InternalError(`the config server at ${this.#base.origin} names no UAA in /info`);
        }
        tokenUrl = `${uaa.replace(/\/$/, '')}/oauth/token`;
      }
      return new ClientCredentialsTokenSource({
        tokenUrl,
        clientId: client.id,
        clientSecret: client.secret,
        ...(this.#options.ca ? { ca: this.#options.ca } : {}),
      });
    })();
    this.#tokens.catch(() => {
      this.#tokens = undefined;
    });
    return this.#tokens;
  }

  async #get(path: string): Promise<{ status: number; json: unknown; body: string }> {
    const tokens = await this.#tokenSource();
    const attempt = async () =>
      this.#send(path, tokens ? { Authorization: `Bearer ${await tokens.token()}` } : {});
    let response = await attempt();
    if (
      response.status === 401 &&
      tokens &&
      'invalidate' in tokens &&
      typeof tokens.invalidate === 'function'
    ) {
      (tokens as { invalidate(): void }).invalidate();
      response = await attempt();
    }
    return response;
  }

  /** The current version of a credential, or undefined when it does not exist (or may not be read). */
  async current(name: string): Promise<ConfigServerCredential | undefined> {
    const path = `v1/data?${new URLSearchParams({ name, current: 'true' })}`;
    const { status, json, body } = await this.#get(path);
    if (status === 404) return undefined;
    if (status !== 200) {
      const described = (json as { error_description?: string; error?: string } | undefined) ?? {};
      const message = `GET ${this.#base.pathname}${path}: ${described.error_description ?? described.error ?? (body || `HTTP ${status}`)}`;
      const details = { details: { status } };
      if (status === 401) throw new UnauthenticatedError(message, details);
      if (status === 403) throw new ForbiddenError(message, details);
      if (status === 400) throw new InputError('name', message, details);
      throw new InternalError(message, details);
    }
    const data = (json as { data?: ConfigServerCredential[] } | undefined)?.data;
    return Array.isArray(data) ? data[0] : undefined;
  }

  /** The `ca` and `certificate` of a certificate credential (the private key is never asked for). */
  async certificate(name: string): Promise<CertificateValue | undefined> {
    const credential = await this.current(name);
    if (credential === undefined) return undefined;
    const value = credential.value as Partial<CertificateValue> | undefined;
    if (credential.type !== 'certificate' || typeof value?.certificate !== 'string') {
      throw new InputError(
        'name',
        `config server credential ${name} is a ${credential.type}, not a certificate`,
      );
    }
    return { ca: value.ca ?? '', certificate: value.certificate };
  }
}
