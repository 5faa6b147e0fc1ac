import {
  ForbiddenError,
  InputError,
  InternalError,
  NotFoundError,
  UnauthenticatedError,
} from '@openpks/domain';
import {
  ClientCredentialsTokenSource,
  ConnectionError,
  deferredTokenSource,
  HttpsJsonClient,
  HttpStatusError,
  type TokenSource,
} from '@openpks/auth';
import type { DirectorClient } from './directorClient.js';
import type { DirectorInfo } from '../protocol/types.js';

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
  readonly #http: HttpsJsonClient;

  constructor(options: ConfigServerClientOptions) {
    this.#options = options;
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    if (this.#base.protocol !== 'https:') {
      throw new InputError(
        'config_server.url',
        `the config server is reached over HTTPS, got ${options.url}`,
      );
    }
    const tokens = options.tokenSource ?? this.#clientTokens();
    this.#http = new HttpsJsonClient({
      url: this.#base.href,
      peer: 'the config server',
      ca: options.ca,
      ...(tokens ? { auth: { bearer: tokens } } : {}),
      timeoutMs: 30_000,
    });
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
    this.#http.close();
  }

  /**
   * UAA client-credentials tokens; the token URL is discovered from the server's `/info` unless given:
   * CredHub answers it with `auth-server.url`, a BOSH Director with `user_authentication`.
   */
  #clientTokens(): TokenSource | undefined {
    const client = this.#options.client;
    if (!client) return undefined;
    return deferredTokenSource(async () => {
      let tokenUrl = client.tokenUrl;
      if (tokenUrl === undefined) {
        const info = await this.#http
          .json<{
            'auth-server'?: { url?: string };
            user_authentication?: { options?: { url?: string } };
          }>('GET', '/info', { anonymous: true, expect: [200] })
          .catch((error: unknown) => {
            if (error instanceof ConnectionError) throw error;
            return undefined;
          });
        const uaa = info?.['auth-server']?.url ?? info?.user_authentication?.options?.url;
        if (typeof uaa !== 'string') {
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
    });
  }

  /** The current version of a credential, or undefined when it does not exist (or may not be read). */
  async current(name: string): Promise<ConfigServerCredential | undefined> {
    const path = `v1/data?${new URLSearchParams({ name, current: 'true' })}`;
    let answer: { data?: ConfigServerCredential[] } | undefined;
    try {
      answer = await this.#http.json('GET', path, { expect: [200] });
    } catch (error) {
      if (!(error instanceof HttpStatusError)) throw error;
      if (error.status === 404) return undefined;
      const message = `GET ${this.#base.pathname}${path}: ${error.description}`;
      const details = { cause: error, details: { status: error.status } };
      if (error.status === 401) throw new UnauthenticatedError(message, details);
      if (error.status === 403) throw new ForbiddenError(message, details);
      if (error.status === 400) throw new InputError('name', message, details);
      throw new InternalError(message, details);
    }
    const data = answer?.data;
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
