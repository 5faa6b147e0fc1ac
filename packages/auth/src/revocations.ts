import { InputError } from '@openpks/domain';

/**
 * One revocation UAA published. A token is revoked by it when every field given matches the token:
 * `jti` alone (revoke by token id); `userId` with the `rev_sig` values that stopped being valid
 * (revoke-all, a password change or reset, a changed user name or email); `userId` alone (the user is
 * deleted); `clientId` with `revSigs` (revoke-all for a client, a new secret) or alone (client deleted).
 * `keys` says UAA's signing keys changed, so every verifier refetches them.
 */
export interface Revocation {
  jti?: string;
  userId?: string;
  clientId?: string;
  /** UAA's `rev_sig` claims that no longer match; absent, every token of the user or client. */
  revSigs?: readonly string[];
  keys?: boolean;
  /** When no token the rule could match is still unexpired: the rule is forgotten after it. */
  expiresAt: Date;
}

/** A revocation must name what it revokes; one naming nothing would be a mistake, never "revoke all". */
export function checkRevocation(revocation: Revocation): void {
  const { jti, userId, clientId, keys } = revocation;
  if (jti === undefined && userId === undefined && clientId === undefined && keys !== true) {
    throw new InputError('revocation', 'names no token, user, client or key change', {
      allowed: 'jti, userId, clientId (each with optional revSigs) or keys',
    });
  }
}

/** What a verifier reads from a token to match it against the revocations. */
export interface RevocableToken {
  claims: Record<string, unknown>;
  clientId: string;
  userId?: string;
}

interface SubjectRule {
  revSigs: ReadonlySet<string> | undefined;
  expiresAt: number;
}

/** Expired rules are swept at most this often, on `add`. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The revocations in force in this process: fed by a `followRevocations` journal (or anything else that
 * learns them), read by every `UaaTokenVerifier` that is given it, on every verification, cached or not,
 * so a revocation reaches tokens already verified. Listeners (open WebSockets) hear each new one.
 */
export class RevocationList {
  readonly #byJti = new Map<string, number>();
  readonly #byUser = new Map<string, SubjectRule[]>();
  readonly #byClient = new Map<string, SubjectRule[]>();
  readonly #listeners = new Set<(revocation: Revocation) => void>();
  readonly #now: () => number;
  #sweptAt = 0;

  constructor(options: { now?: () => Date } = {}) {
    const now = options.now;
    this.#now = now ? () => now().getTime() : () => Date.now();
  }

  /** Records a revocation and tells the listeners. */
  add(revocation: Revocation): void {
    checkRevocation(revocation);
    const { jti, userId, clientId, revSigs } = revocation;
    const expiresAt = revocation.expiresAt.getTime();
    const now = this.#now();
    if (now - this.#sweptAt >= SWEEP_INTERVAL_MS) this.#sweep(now);
    if (expiresAt > now) {
      if (jti !== undefined) {
        this.#byJti.set(jti, Math.max(expiresAt, this.#byJti.get(jti) ?? 0));
      } else if (userId !== undefined || clientId !== undefined) {
        const rule: SubjectRule = { revSigs: revSigs ? new Set(revSigs) : undefined, expiresAt };
        // A rule naming both narrows the user's rule to one client's tokens; the user map is enough.
        const [map, key] = userId !== undefined ? [this.#byUser, userId] : [this.#byClient, clientId!];
        const rules = map.get(key) ?? [];
        rules.push(clientId !== undefined && userId !== undefined ? clientScoped(rule, clientId) : rule);
        map.set(key, rules);
      }
    }
    for (const listener of this.#listeners) listener(revocation);
  }

  /** Why the token is revoked, or undefined when no revocation in force matches it. */
  revokes(token: RevocableToken): string | undefined {
    const now = this.#now();
    const jti = token.claims.jti;
    if (typeof jti === 'string') {
      const until = this.#byJti.get(jti);
      if (until !== undefined && until > now) return 'token revoked';
    }
    const revSig = typeof token.claims.rev_sig === 'string' ? token.claims.rev_sig : undefined;
    const userId = token.userId;
    if (userId !== undefined && matches(this.#byUser.get(userId), revSig, token.clientId, now)) {
      return "token revoked: the user's tokens were revoked";
    }
    if (matches(this.#byClient.get(token.clientId), revSig, token.clientId, now)) {
      return "token revoked: the client's tokens were revoked";
    }
    return undefined;
  }

  /** Calls `listener` with each revocation added from now on; returns the way to stop. */
  onRevocation(listener: (revocation: Revocation) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many rules are in force (for tests and metrics). */
  get size(): number {
    let size = this.#byJti.size;
    for (const rules of this.#byUser.values()) size += rules.length;
    for (const rules of this.#byClient.values()) size += rules.length;
    return size;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [jti, until] of this.#byJti) if (until <= now) this.#byJti.delete(jti);
    for (const map of [this.#byUser, this.#byClient]) {
      for (const [key, rules] of map) {
        const live = rules.filter((rule) => rule.expiresAt > now);
        if (live.length === 0) map.delete(key);
        else map.set(key, live);
      }
    }
  }
}

type ScopedRule = SubjectRule & { clientId?: string };

function clientScoped(rule: SubjectRule, clientId: string): ScopedRule {
  return { ...rule, clientId };
}

function matches(
  rules: readonly ScopedRule[] | undefined,
  revSig: string | undefined,
  clientId: string,
  now: number,
): boolean {
  if (!rules) return false;
  return rules.some(
    (rule) =>
      rule.expiresAt > now &&
      (rule.clientId === undefined || rule.clientId === clientId) &&
      (rule.revSigs === undefined || (revSig !== undefined && rule.revSigs.has(revSig))),
  );
}
