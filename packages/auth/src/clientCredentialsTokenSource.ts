import { ForbiddenError, InputError, InternalError, UnauthenticatedError } from '@openpks/domain';
import { decodeJwt } from 'jose';
import { describeFailure, httpsCall, httpsUrl, oneLine, parseJson } from './https.js';

/** Something that hands out a bearer token for calls to another component. */
export interface TokenSource {
  token(): Promise<string>;
  /** Forgets the current token (the component called answered 401 to it); the next `token()` is new. */
  invalidate?(): void;
}

/**
 * A token source made when first needed, e.g. once a Director's `/info` has named its UAA. A failure to
 * make it is thrown to that caller, and the next call tries again.
 */
export function deferredTokenSource(make: () => Promise<TokenSource>): TokenSource {
  let made: Promise<TokenSource> | undefined;
  let ready: TokenSource | undefined;
  const source = () => {
    made ??= make().then(
      (tokens) => (ready = tokens),
      (error: unknown) => {
        made = undefined;
        throw error;
      },
    );
    return made;
  };
  return {
    token: async () => (ready ?? (await source())).token(),
    invalidate: () => ready?.invalidate?.(),
  };
}

export interface ClientCredentialsOptions {
  /** UAA's token endpoint, e.g. `https://localhost:8443/oauth/token`. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** PEM(s) trusted for the HTTPS call; without it, Node's default roots. */
  ca?: string | string[];
  /** Space-separated scopes to narrow the token to (default: all the client's authorities). */
  scope?: string;
  /** Fetch a new token this long before the current one expires (at most half its life); default 60. */
  refreshBeforeSeconds?: number;
  /** Milliseconds since the epoch, like `Date.now` (tests inject a clock). */
  now?: () => number;
}

const DEFAULT_REFRESH_BEFORE_SECONDS = 60;

/**
 * Tokens from UAA's `client_credentials` grant, for one client. The client authenticates with HTTP Basic
 * (id and secret URL-encoded, flagged with `X-CF-ENCODED-CREDENTIALS: true` as uaac does, so secrets with
 * spaces or colons work against UAA in either encoding mode). The token is cached and replaced shortly
 * before it expires; callers arriving while a request is under way share it.
 */
export class ClientCredentialsTokenSource implements TokenSource {
  readonly #tokenUrl: URL;
  readonly #options: ClientCredentialsOptions;
  readonly #refreshBeforeMs: number;
  readonly #now: () => number;
  #cached: { token: string; refreshAt: number; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: ClientCredentialsOptions) {
    const url = httpsUrl(options.tokenUrl);
    if (!url) {
      throw new InputError('tokenUrl', `UAA's token endpoint must be HTTPS, not '${options.tokenUrl}'`, {
        allowed: 'an https:// URL',
      });
    }
    if (!options.clientId) throw new InputError('clientId', 'a client id is required');
    const refreshBefore = options.refreshBeforeSeconds ?? DEFAULT_REFRESH_BEFORE_SECONDS;
    if (!Number.isFinite(refreshBefore) || refreshBefore < 0) {
      throw new InputError('refreshBeforeSeconds', `${refreshBefore} is not a number of seconds`, {
        allowed: '0 or more',
      });
    }
    this.#tokenUrl = url;
    this.#options = options;
    this.#refreshBeforeMs = refreshBefore * 1000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A current access token: the cached one, or a new one from UAA. When the early refresh fails, the
   * cached token is still returned until it expires; after that (or with nothing cached) the failure is
   * thrown: `UnauthenticatedError` (UAA rejected the client), `ForbiddenError` (scope or grant not
   * allowed), `InternalError` (UAA unreachable or answering nonsense).
   */
  token(): Promise<string> {
    if (this.#cached && this.#now() < this.#cached.refreshAt) return Promise.resolve(this.#cached.token);
    this.#pending ??= this.#fetch()
      .catch((error: unknown) => {
        // A refresh that fails early leaves the current token usable until it really expires.
        const cached = this.#cached;
        if (cached && this.#now() < cached.expiresAt) return cached.token;
        throw error;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  /** Forgets the cached token, e.g. after a component answered 401 to it; the next call fetches anew. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const { clientId, clientSecret, ca, scope } = this.#options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
    const startedAt = this.#now();
    const where = `client '${clientId}' at ${this.#tokenUrl.href}`;

    let answer;
    try {
      answer = await httpsCall(this.#tokenUrl, {
        method: 'POST',
        ca,
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`,
          'X-CF-ENCODED-CREDENTIALS': 'true',
        },
        body: form.toString(),
      });
    } catch (error) {
      throw new InternalError(`cannot reach UAA for a token for ${where}: ${describeFailure(error)}`, {
        cause: error,
      });
    }

    const body = parseJson(answer.body) as Record<string, unknown> | undefined;
    if (answer.status !== 200) throw refusal(answer.status, body, answer.body, where);
    const accessToken = body?.access_token;
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new InternalError(`UAA answered ${where} without an access_token`);
    }

    const lifetimeMs = lifetimeOf(body!.expires_in, accessToken, startedAt);
    this.#cached = {
      token: accessToken,
      refreshAt: startedAt + lifetimeMs - Math.min(this.#refreshBeforeMs, lifetimeMs / 2),
      expiresAt: startedAt + lifetimeMs,
    };
    return accessToken;
  }
}

/** UAA's refusal as a typed error carrying its `error` and `error_description`. */
function refusal(status: number, body: Record<string, unknown> | undefined, text: string, where: string) {
  const code = typeof body?.error === 'string' ? oneLine(body.error, 60) : undefined;
  const description =
    typeof body?.error_description === 'string' ? oneLine(body.error_description) : undefined;
  const said = [code, description].filter(Boolean).join(': ') || oneLine(text, 100) || 'no reason given';
  // UAA's own words stay at hand for a caller that reports them in UAA's terms (pks-admin).
  const details = {
    status,
    ...(code ? { error: code } : {}),
    ...(description ? { description } : {}),
  };
  if (status === 401 || code === 'invalid_client' || code === 'unauthorized') {
    return new UnauthenticatedError(`UAA rejected ${where}: ${said}`, { details });
  }
  if (status === 403 || code === 'invalid_scope' || code === 'unauthorized_client') {
    return new ForbiddenError(`UAA refused a token to ${where}: ${said}`, { details });
  }
  return new InternalError(`UAA failed to issue a token to ${where}: HTTP ${status} ${said}`, { details });
}

/** How long the token lives: `expires_in`, else its JWT `exp`, else 0 (not cached). */
function lifetimeOf(expiresIn: unknown, token: string, startedAt: number): number {
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0) return expiresIn * 1000;
  try {
    const { exp } = decodeJwt(token);
    if (typeof exp === 'number') return Math.max(0, exp * 1000 - startedAt);
  } catch {
    // an opaque token without expires_in: use it once
  }
  return 0;
}
