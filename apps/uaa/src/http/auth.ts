import type { IncomingMessage } from 'node:http';
import type { UaaContext } from '../context.js';
import { oauthErrors } from '../errors.js';
import { verifyAccessToken, type VerifiedToken } from '../tokenService.js';

/** `Authorization: Basic` credentials, URL-decoded as RFC 6749 §2.3.1 asks. */
export function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const index = decoded.indexOf(':');
  if (index < 0) throw oauthErrors.badClientCredentials();
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, index).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(index + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw oauthErrors.badClientCredentials();
  }
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) return undefined;
  return header.slice(7).trim() || undefined;
}

/**
 * Authenticates a bearer token and, when `anyOf` is given, requires one of those scopes; answers 401
 * without or with a bad token and 403 (`insufficient_scope`) without the scope.
 */
export async function requireBearer(
  ctx: UaaContext,
  req: IncomingMessage,
  anyOf?: readonly string[],
): Promise<VerifiedToken> {
  const token = bearerToken(req);
  if (!token) throw oauthErrors.unauthenticated();
  const verified = await verifyAccessToken(ctx, token);
  if (anyOf && !anyOf.some((scope) => verified.claims.scope.includes(scope))) {
    throw oauthErrors.insufficientScope(anyOf);
  }
  return verified;
}

export function hasAnyScope(token: VerifiedToken, scopes: readonly string[]): boolean {
  return scopes.some((scope) => token.claims.scope.includes(scope));
}
