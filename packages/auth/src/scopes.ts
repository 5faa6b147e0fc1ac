import { ForbiddenError, invariant } from '@openpks/domain';
import type { VerifiedToken } from './uaaTokenVerifier.js';

/** Whether the token carries at least one of `scopes`. */
export function hasAnyScope(token: Pick<VerifiedToken, 'scopes'>, scopes: readonly string[]): boolean {
  return scopes.some((scope) => token.scopes.includes(scope));
}

/** Throws a `ForbiddenError` naming the required scopes unless the token carries one of them. */
export function requireAnyScope(token: Pick<VerifiedToken, 'scopes'>, scopes: readonly string[]): void {
  invariant(scopes.length > 0, 'requireAnyScope needs at least one scope');
  if (hasAnyScope(token, scopes)) return;
  const message =
    scopes.length === 1
      ? `requires the scope ${scopes[0]}`
      : `requires one of the scopes ${scopes.join(', ')}`;
  throw new ForbiddenError(message, { details: { requiredScopes: [...scopes] } });
}
