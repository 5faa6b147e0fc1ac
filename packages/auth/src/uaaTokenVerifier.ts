import { InputError, UnauthenticatedError } from '@openpks/domain';
import { decodeProtectedHeader, errors, importJWK, jwtVerify, type JWTPayload } from 'jose';
import { describeFailure, httpsCall, httpsUrl, oneLine, parseJson } from './https.js';
import type { RevocationList } from './revocations.js';

/** A UAA token whose signature, issuer, audience and lifetime have been checked. */
export interface VerifiedToken {
  /** The token as presented, to pass on to another component. */
  raw: string;
  /** `sub`: the user id for user tokens, the client id for client-credentials tokens. */
  subject: string;
  /** `client_id` (else `cid`, `azp`, or a single `aud`). */
  clientId: string;
  /** `scope`: UAA sends an array; a space-separated string is accepted too. */
  scopes: string[];
  /** `aud` as an array (UAA derives it from scope prefixes: do not rely on its exact content). */
  audience: string[];
  userId?: string;
  userName?: string;
  email?: string;
  origin?: string;
  grantType?: string;
  issuedAt: Date;
  expiresAt: Date;
  /** Every claim of the token, as signed. */
  claims: Record<string, unknown>;
}

/** What a component needs to authenticate callers; `UaaTokenVerifier` is the implementation. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export interface UaaTokenVerifierOptions {
  /** The exact `iss` of UAA's tokens, e.g. `https://localhost:8443/oauth/token`. */
  issuer: string;
  /** Where UAA publishes its keys; default: the issuer without `/oauth/token`, plus `/token_keys`. */
  jwksUrl?: string;
  /** PEM(s) trusted for the HTTPS fetch of the keys; without it, Node's default roots. */
  ca?: string | string[];
  /** When set, `aud` must contain one of these. */
  audience?: string | string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`; default 30. */
  clockToleranceSeconds?: number;
  /** The clock used for token lifetimes and the refetch rate limit (tests inject one). */
  now?: () => Date;
  /**
   * The revocations UAA published (fed by `followRevocations`): checked on every verification, cached or
   * not; a key change among them makes the next verification refetch the keys first.
   */
  revocations?: RevocationList;
  /**
   * Asks UAA itself whether a token is still active (`POST /introspect`, as a resource server with
   * `uaa.resource`), for a UAA that does not share openpks's database. Each answer is kept `cacheMs`
   * (default 1,000), which bounds how late a revocation is seen.
   */
  introspection?: IntrospectionOptions;
}

export interface IntrospectionOptions {
  clientId: string;
  clientSecret: string;
  /** Default: the issuer without `/oauth/token`, plus `/introspect`. */
  url?: string;
  cacheMs?: number;
}

/** At most one unknown-`kid` refetch of `/token_keys` per this period (per verifier). */
export const KEY_REFETCH_INTERVAL_MS = 30_000;
/**
 * A key set older than this is fetched again in the background, so a key UAA stopped publishing stops
 * being trusted without a restart even when no revocation announces it.
 */
export const KEY_SET_MAX_AGE_MS = 5 * 60_000;
const DEFAULT_INTROSPECTION_CACHE_MS = 1_000;
const VERIFIED_TOKENS_KEPT = 1_000;
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const ALGORITHM = 'RS256';

/** Where and how UAA is asked, and when each token was last found active (ms). */
interface Introspection {
  url: URL;
  authorization: string;
  cacheMs: number;
  active: Map<string, number>;
}

type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Verifies UAA's JWTs: RS256 only, signed by a key UAA publishes at `/token_keys` (looked up by `kid`,
 * fetched once and cached, refetched on an unknown `kid` so key rotation works), `iss` exactly the issuer,
 * `exp`/`iat` present and current, `aud` checked when an audience is configured. Every failure is an
 * `UnauthenticatedError` whose message says what was wrong without echoing the token.
 */
export class UaaTokenVerifier implements TokenVerifier {
  readonly #issuer: string;
  readonly #jwksUrl: URL;
  readonly #ca: string | string[] | undefined;
  readonly #audience: string | string[] | undefined;
  readonly #tolerance: number;
  readonly #now: () => Date;

  #keys: Map<string, VerificationKey> | undefined;
  /**
   * Tokens already verified against the current key set, until they expire: a client sends the same
   * token with every request, and an RS256 check plus the base64/JSON decoding costs more than answering
   * a cached query. Verification has no other input (UAA tokens are not looked up per request), so the
   * answer cannot change before `exp`; a new key set clears it.
   */
  readonly #verified = new Map<string, VerifiedToken>();
  #loading: Promise<void> | undefined;
  #lastRefetchAt = Number.NEGATIVE_INFINITY;
  #keysLoadedAt = Number.NEGATIVE_INFINITY;
  /** UAA announced a key change: the next verification waits for a fresh key set. */
  #keysChanged = false;
  readonly #revocations: RevocationList | undefined;
  readonly #introspection: Introspection | undefined;

  constructor(options: UaaTokenVerifierOptions) {
    let issuerUrl: URL;
    try {
      issuerUrl = new URL(options.issuer);
    } catch {
      throw new InputError('issuer', `'${options.issuer}' is not a URL`);
    }
    const jwksUrl = options.jwksUrl ?? defaultJwksUrl(issuerUrl);
    const parsed = httpsUrl(jwksUrl);
    if (!parsed) {
      throw new InputError('jwksUrl', `UAA's keys must be fetched over HTTPS, not from '${jwksUrl}'`, {
        allowed: 'an https:// URL',
      });
    }
    const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    if (!Number.isFinite(tolerance) || tolerance < 0) {
      throw new InputError('clockToleranceSeconds', `${tolerance} is not a clock tolerance`, {
        allowed: 'a number of seconds, 0 or more',
      });
    }
    this.#issuer = options.issuer;
    this.#jwksUrl = parsed;
    this.#ca = options.ca;
    this.#audience = options.audience;
    this.#tolerance = tolerance;
    this.#now = options.now ?? (() => new Date());
    this.#revocations = options.revocations;
    this.#revocations?.onRevocation((revocation) => {
      if (revocation.keys) this.#keysChanged = true;
    });
    if (options.introspection) {
      const { clientId, clientSecret } = options.introspection;
      const where = options.introspection.url ?? defaultIntrospectionUrl(issuerUrl);
      const url = httpsUrl(where);
      if (!url) {
        throw new InputError('introspection.url', `UAA must be asked over HTTPS, not at '${where}'`, {
          allowed: 'an https:// URL',
        });
      }
      const cacheMs = options.introspection.cacheMs ?? DEFAULT_INTROSPECTION_CACHE_MS;
      if (!Number.isFinite(cacheMs) || cacheMs < 0) {
        throw new InputError('introspection.cacheMs', `${cacheMs} is not a duration`, {
          allowed: 'a number of milliseconds, 0 or more',
        });
      }
      const basic = Buffer.from(
        `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
      ).toString('base64');
      this.#introspection = { url, authorization: `Basic ${basic}`, cacheMs, active: new Map() };
    }
  }

  /** Where the keys are fetched from. */
  get jwksUrl(): string {
    return this.#jwksUrl.href;
  }

  async verify(token: string): Promise<VerifiedToken> {
    await this.#freshenKeys();
    const verified = await this.#verifiedOrCached(token);
    // Checked on every use, so a revocation reaches tokens verified (and cached) before it.
    const revoked = this.#revocations?.revokes(verified);
    if (revoked !== undefined) {
      this.#verified.delete(token);
      throw new UnauthenticatedError(revoked);
    }
    if (this.#introspection) await this.#checkActive(token, this.#introspection);
    return verified;
  }

  /** Whether `token`, already verified, has been revoked since (for open connections). */
  revoked(token: VerifiedToken): string | undefined {
    return this.#revocations?.revokes(token);
  }

  async #verifiedOrCached(token: string): Promise<VerifiedToken> {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      if (this.#now().getTime() < known.expiresAt.getTime() + this.#tolerance * 1000) return known;
      this.#verified.delete(token);
    }
    const verified = await this.#verify(token);
    if (this.#verified.size >= VERIFIED_TOKENS_KEPT) {
      // Oldest first (insertion order): callers that stopped calling make room.
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(token, verified);
    return verified;
  }

  /**
   * Refetches the key set when UAA announced a change (waiting for it: a retired key must stop working
   * now) or when it is old (in the background, keeping the current set if UAA cannot be reached).
   */
  async #freshenKeys(): Promise<void> {
    if (!this.#keys) return;
    if (this.#keysChanged) {
      this.#keysChanged = false;
      this.#lastRefetchAt = this.#now().getTime();
      await this.#load();
      return;
    }
    const now = this.#now().getTime();
    if (now - this.#keysLoadedAt < KEY_SET_MAX_AGE_MS || now - this.#lastRefetchAt < KEY_REFETCH_INTERVAL_MS)
      return;
    this.#lastRefetchAt = now;
    this.#load().catch(() => undefined);
  }

  /** UAA's own answer on whether the token is active, kept `cacheMs`. */
  async #checkActive(token: string, introspection: Introspection): Promise<void> {
    const now = this.#now().getTime();
    const checkedAt = introspection.active.get(token);
    if (checkedAt !== undefined && now - checkedAt < introspection.cacheMs) return;
    const where = `POST ${introspection.url.href}`;
    let answer;
    try {
      answer = await httpsCall(introspection.url, {
        method: 'POST',
        ca: this.#ca,
        headers: {
          Authorization: introspection.authorization,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
      });
    } catch (error) {
      throw new Error(`${where}: ${describeFailure(error)}`, { cause: error });
    }
    const body = parseJson(answer.body) as { active?: unknown } | undefined;
    if (answer.status !== 200 || !body || typeof body.active !== 'boolean') {
      throw new Error(`${where}: HTTP ${answer.status} ${oneLine(answer.body, 100)}`.trim());
    }
    if (!body.active) {
      introspection.active.delete(token);
      this.#verified.delete(token);
      throw new UnauthenticatedError('token revoked: UAA says it is no longer active');
    }
    if (introspection.active.size >= VERIFIED_TOKENS_KEPT) {
      introspection.active.delete(introspection.active.keys().next().value!);
    }
    introspection.active.delete(token);
    introspection.active.set(token, now);
  }

  async #verify(token: string): Promise<VerifiedToken> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new UnauthenticatedError('token malformed');
    }
    if (header.alg !== ALGORITHM) {
      const alg =
        typeof header.alg === 'string' && /^[A-Za-z0-9+_-]{1,16}$/.test(header.alg) ? header.alg : '';
      throw new UnauthenticatedError(`unsupported algorithm ${alg}`.trim());
    }
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw new UnauthenticatedError('token has no key id');
    }

    const key = await this.#key(header.kid);
    const now = this.#now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.#issuer,
        ...(this.#audience === undefined ? {} : { audience: this.#audience }),
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: this.#tolerance,
        currentDate: now,
      }));
    } catch (error) {
      throw new UnauthenticatedError(reasonOf(error), { cause: error });
    }
    // jose checks `iat` only when a maximum token age is set, so the future check is ours.
    const iat = payload.iat!;
    if (iat > now.getTime() / 1000 + this.#tolerance) {
      throw new UnauthenticatedError('token issued in the future');
    }
    return toVerifiedToken(token, payload);
  }

  /** The key for `kid`: from the cached set, else after one (rate-limited, shared) refetch. */
  async #key(kid: string): Promise<VerificationKey> {
    let fresh = false;
    if (!this.#keys) {
      await this.#load();
      fresh = true;
    }
    let key = this.#keys!.get(kid);
    if (key || fresh) return key ?? unknownKey();

    if (this.#loading) {
      await this.#load();
    } else {
      const now = this.#now().getTime();
      if (now - this.#lastRefetchAt < KEY_REFETCH_INTERVAL_MS) unknownKey();
      this.#lastRefetchAt = now;
      await this.#load();
    }
    key = this.#keys!.get(kid);
    return key ?? unknownKey();
  }

  /** Fetches the key set, sharing a fetch already under way. A failed fetch keeps the previous set. */
  #load(): Promise<void> {
    this.#loading ??= this.#fetchKeys()
      .then((keys) => {
        this.#keys = keys;
        this.#keysLoadedAt = this.#now().getTime();
        this.#verified.clear();
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  async #fetchKeys(): Promise<Map<string, VerificationKey>> {
    const where = `GET ${this.#jwksUrl.href}`;
    const fail = (reason: string, cause?: unknown): never => {
      throw new UnauthenticatedError('token signing keys could not be fetched from UAA', {
        cause: new Error(`${where}: ${reason}`, cause === undefined ? undefined : { cause }),
      });
    };
    let answer;
    try {
      answer = await httpsCall(this.#jwksUrl, { ca: this.#ca, headers: { Accept: 'application/json' } });
    } catch (error) {
      return fail(describeFailure(error), error);
    }
    if (answer.status !== 200) return fail(`HTTP ${answer.status} ${oneLine(answer.body, 100)}`.trim());
    const body = parseJson(answer.body) as { keys?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !Array.isArray(body.keys)) {
      return fail('the answer is not a key set ({"keys": [...]})');
    }
    const keys = new Map<string, VerificationKey>();
    for (const jwk of body.keys as unknown[]) {
      const key = await importVerificationKey(jwk);
      if (key) keys.set(key.kid, key.key);
    }
    if (keys.size === 0) return fail(`the key set has no ${ALGORITHM} signing key`);
    return keys;
  }
}

/** UAA serves its keys beside `/oauth/token`: `https://host:8443/token_keys`, or under a context path. */
function defaultJwksUrl(issuer: URL): string {
  const base = issuer.pathname.replace(/\/+$/, '').replace(/\/oauth\/token$/, '');
  return `${issuer.origin}${base}/token_keys`;
}

function defaultIntrospectionUrl(issuer: URL): string {
  const base = issuer.pathname.replace(/\/+$/, '').replace(/\/oauth\/token$/, '');
  return `${issuer.origin}${base}/introspect`;
}

/**
 * Imports one of UAA's published keys from its JWK fields (`kty`, `n`, `e`); UAA's extra `value` (PEM)
 * is ignored. MAC keys, keys for other algorithms or uses, and broken keys are skipped.
 */
async function importVerificationKey(
  value: unknown,
): Promise<{ kid: string; key: VerificationKey } | undefined> {
  if (!value || typeof value !== 'object') return undefined;
  const jwk = value as Record<string, unknown>;
  const { kty, kid, n, e, alg, use } = jwk;
  if (kty !== 'RSA' || typeof kid !== 'string' || typeof n !== 'string' || typeof e !== 'string') {
    return undefined;
  }
  if ((alg !== undefined && alg !== ALGORITHM) || (use !== undefined && use !== 'sig')) return undefined;
  try {
    return { kid, key: await importJWK({ kty, n, e }, ALGORITHM) };
  } catch {
    return undefined;
  }
}

function unknownKey(): never {
  throw new UnauthenticatedError('token signing key unknown');
}

/** jose's failure, in a short reason that names the check and never echoes the token. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'iss') return 'token issuer mismatch';
    if (claim === 'aud') return 'token audience mismatch';
    if (error.reason === 'missing') return `token has no ${claim} claim`;
    if (claim === 'nbf') return 'token not yet valid';
    return `token ${claim} claim invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'unsupported algorithm';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'token malformed';
  return 'token invalid';
}

function toVerifiedToken(raw: string, payload: JWTPayload): VerifiedToken {
  const claims = payload as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = claims[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const audience = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  const subject = text('sub');
  if (!subject) throw new UnauthenticatedError('token has no sub claim');
  const clientId =
    text('client_id') ?? text('cid') ?? text('azp') ?? (audience.length === 1 ? audience[0] : undefined);
  if (!clientId) throw new UnauthenticatedError('token has no client_id claim');

  const userId = text('user_id');
  const userName = text('user_name');
  const email = text('email');
  const origin = text('origin');
  const grantType = text('grant_type');
  return {
    raw,
    subject,
    clientId,
    scopes: scopesOf(claims.scope),
    audience: [...audience],
    ...(userId === undefined ? {} : { userId }),
    ...(userName === undefined ? {} : { userName }),
    ...(email === undefined ? {} : { email }),
    ...(origin === undefined ? {} : { origin }),
    ...(grantType === undefined ? {} : { grantType }),
    issuedAt: new Date(payload.iat! * 1000),
    expiresAt: new Date(payload.exp! * 1000),
    claims,
  };
}

function scopesOf(scope: unknown): string[] {
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string' && s !== '');
  if (typeof scope === 'string') return scope.split(/\s+/).filter((s) => s !== '');
  return [];
}
