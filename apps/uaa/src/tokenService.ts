import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Queryable } from '@openpks/db';
import { UAA_ORIGIN, UAA_ZONE_ID, UaaScope } from './constants.js';
import type { UaaContext } from './context.js';
import { epochSeconds } from './clock.js';
import { newTokenId, revocationSignature, sha256Hex } from './crypto.js';
import { oauthErrors, UaaError } from './errors.js';
import { findClient, type ClientRow } from './store/clients.js';
import { groupsOfMember } from './store/groups.js';
import { insertRefreshToken, isJtiRevoked } from './store/tokens.js';
import { findUserById, type UserRow } from './store/users.js';

export const GrantType = {
  PASSWORD: 'password',
  CLIENT_CREDENTIALS: 'client_credentials',
  REFRESH_TOKEN: 'refresh_token',
  AUTHORIZATION_CODE: 'authorization_code',
} as const;
export type GrantType = (typeof GrantType)[keyof typeof GrantType];

/** The claims of a UAA access token (A3 in UAA-WEB-REFERENCE). */
export interface AccessTokenClaims extends JWTPayload {
  jti: string;
  sub: string;
  scope: string[];
  client_id: string;
  cid: string;
  azp: string;
  grant_type: string;
  rev_sig: string;
  iat: number;
  exp: number;
  iss: string;
  zid: string;
  aud: string[];
  authorities?: string[];
  user_id?: string;
  user_name?: string;
  origin?: string;
  email?: string;
  auth_time?: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  id_token?: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  jti: string;
}

/** Splits a space- (or comma-) separated scope parameter. */
export function parseScopeParameter(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(/[\s,]+/).filter(Boolean);
  return scopes.length === 0 ? undefined : [...new Set(scopes)];
}

/** UAA's client scope patterns: `*` stands for any run of characters (`pks.*` covers `pks.clusters.admin`). */
export function scopeMatches(pattern: string, scope: string): boolean {
  if (!pattern.includes('*')) return pattern === scope;
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(scope);
}

export function allowedBy(patterns: readonly string[], scope: string): boolean {
  return patterns.some((pattern) => scopeMatches(pattern, scope));
}

/**
 * The scopes of a user token: the requested ones (or all the client may ask for) that the client allows
 * and the user holds as groups. A request naming a scope the client does not allow is refused outright.
 */
export function userTokenScopes(
  client: ClientRow,
  userGroups: readonly string[],
  requested: string[] | undefined,
): string[] {
  if (requested) {
    const notAllowed = requested.filter((scope) => !allowedBy(client.scope, scope));
    if (notAllowed.length > 0) throw oauthErrors.invalidScope(notAllowed);
    const granted = requested.filter((scope) => userGroups.includes(scope));
    if (granted.length === 0) throw oauthErrors.invalidScope(requested);
    return granted;
  }
  const granted = userGroups.filter((group) => allowedBy(client.scope, group));
  if (granted.length === 0) throw oauthErrors.invalidScope(client.scope);
  return granted;
}

/** The scopes of a client token: its authorities, narrowed by the request. */
export function clientTokenScopes(client: ClientRow, requested: string[] | undefined): string[] {
  if (!requested) {
    if (client.authorities.length === 0) throw oauthErrors.invalidScope([]);
    return [...client.authorities];
  }
  const notAllowed = requested.filter((scope) => !client.authorities.includes(scope));
  if (notAllowed.length > 0) throw oauthErrors.invalidScope(notAllowed);
  return requested;
}

export async function userGroupNames(q: Queryable, userId: string): Promise<string[]> {
  return (await groupsOfMember(q, userId)).map((group) => group.display_name);
}

/** `aud`: the client, the client's resource ids and each scope's base name (the part before the first dot). */
function audienceOf(client: ClientRow, scopes: readonly string[]): string[] {
  const aud = new Set<string>([client.client_id, ...client.resource_ids]);
  for (const scope of scopes) aud.add(scope.includes('.') ? scope.slice(0, scope.indexOf('.')) : scope);
  return [...aud];
}

export function userRevocationSignature(client: ClientRow, user: UserRow): string {
  return revocationSignature([
    client.client_id,
    client.secret_hash,
    client.token_salt,
    user.id,
    user.password_hash,
    user.token_salt,
    user.email,
    user.username,
  ]);
}

export function clientRevocationSignature(client: ClientRow): string {
  return revocationSignature([client.client_id, client.secret_hash, client.token_salt]);
}

export interface IssueOptions {
  client: ClientRow;
  user?: UserRow;
  scopes: string[];
  grantType: GrantType;
  authTime?: Date;
  nonce?: string | null;
  /** An existing refresh token to return as is (UAA's refresh tokens do not rotate). */
  refreshToken?: string;
  /** Whether PKCE made the original grant; recorded with a new refresh token. */
  pkce?: boolean;
}

async function sign(ctx: UaaContext, claims: JWTPayload): Promise<string> {
  const { kid, privateKey } = await ctx.keys.active();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', jku: `${ctx.baseUrl}/token_keys`, kid, typ: 'JWT' })
    .sign(privateKey);
}

function validity(configured: number | null, fallback: number): number {
  return configured !== null && configured > 0 ? configured : fallback;
}

/** Issues an access token (and, as the grant allows, a refresh token and an ID token) in UAA's shape. */
export async function issueTokens(
  ctx: UaaContext,
  q: Queryable,
  options: IssueOptions,
): Promise<TokenResponse> {
  const { client, user, scopes, grantType } = options;
  const iat = epochSeconds(ctx.clock);
  const exp = iat + validity(client.access_token_validity, ctx.accessTokenValidity);
  const jti = newTokenId();
  const base = {
    jti,
    scope: scopes,
    client_id: client.client_id,
    cid: client.client_id,
    azp: client.client_id,
    grant_type: grantType,
    iat,
    exp,
    iss: ctx.issuer,
    zid: UAA_ZONE_ID,
    aud: audienceOf(client, scopes),
  };
  let claims: AccessTokenClaims;
  if (user) {
    const authTime = Math.floor((options.authTime ?? ctx.clock.now()).getTime() / 1000);
    claims = {
      ...base,
      sub: user.id,
      user_id: user.id,
      origin: user.origin,
      user_name: user.username,
      email: user.email,
      auth_time: authTime,
      rev_sig: userRevocationSignature(client, user),
    };
  } else {
    claims = {
      ...base,
      sub: client.client_id,
      authorities: scopes,
      rev_sig: clientRevocationSignature(client),
    };
  }
  const response: TokenResponse = {
    access_token: await sign(ctx, claims),
    token_type: 'bearer',
    expires_in: exp - iat,
    scope: scopes.join(' '),
    jti,
  };

  if (user && client.authorized_grant_types.includes(GrantType.REFRESH_TOKEN)) {
    if (options.refreshToken) {
      response.refresh_token = options.refreshToken;
    } else {
      const refreshJti = `${newTokenId()}-r`;
      const value = `${refreshJti}${newTokenId()}`;
      const now = ctx.clock.now();
      await insertRefreshToken(q, {
        token_hash: sha256Hex(value),
        jti: refreshJti,
        user_id: user.id,
        client_id: client.client_id,
        scope: scopes,
        grant_type: grantType,
        rev_sig: claims.rev_sig,
        auth_time: options.authTime ?? now,
        pkce: options.pkce ?? false,
        created: now,
        expires_at: new Date(
          now.getTime() + validity(client.refresh_token_validity, ctx.refreshTokenValidity) * 1000,
        ),
      });
      // The value ends in a random part after the id so knowing an id (from a listing) never yields a token.
      response.refresh_token = value;
    }
  }

  if (user && scopes.includes(UaaScope.OPENID)) {
    response.id_token = await sign(ctx, {
      sub: user.id,
      aud: [client.client_id],
      iss: ctx.issuer,
      exp,
      iat,
      azp: client.client_id,
      cid: client.client_id,
      jti: newTokenId(),
      user_id: user.id,
      user_name: user.username,
      email: user.email,
      email_verified: user.verified,
      ...(user.given_name ? { given_name: user.given_name } : {}),
      ...(user.family_name ? { family_name: user.family_name } : {}),
      ...(user.previous_logon_time ? { previous_logon_time: user.previous_logon_time.getTime() } : {}),
      origin: user.origin ?? UAA_ORIGIN,
      zid: UAA_ZONE_ID,
      amr: ['pwd'],
      auth_time: claims.auth_time,
      grant_type: grantType,
      scope: ['openid'],
      ...(scopes.includes(UaaScope.ROLES)
        ? { roles: scopes.filter((s) => s !== UaaScope.OPENID && s !== UaaScope.ROLES) }
        : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
    });
  }
  return response;
}

export interface VerifiedToken {
  claims: AccessTokenClaims;
  client: ClientRow;
  user?: UserRow;
}

/**
 * Verifies an access token as UAA's own endpoints do: signature by a published key, issuer, expiry, not
 * revoked, and `rev_sig` still matching the user and client (a password or secret change ends it).
 * `status` is what a failure answers (401 on resource endpoints, 400 on `/check_token`).
 */
export async function verifyAccessToken(
  ctx: UaaContext,
  token: string,
  status = 401,
): Promise<VerifiedToken> {
  let claims: AccessTokenClaims;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'RS256' || typeof header.kid !== 'string')
      throw oauthErrors.invalidToken('Invalid token (could not decode)', status);
    const key = await ctx.keys.publicKey(header.kid);
    if (!key) throw oauthErrors.invalidToken('Could not verify token signature.', status);
    const result = await jwtVerify(token, key, {
      issuer: ctx.issuer,
      algorithms: ['RS256'],
      currentDate: ctx.clock.now(),
      requiredClaims: ['jti', 'exp', 'iat', 'sub', 'client_id'],
    });
    claims = result.payload as AccessTokenClaims;
  } catch (error) {
    if (error instanceof UaaError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw oauthErrors.invalidToken('Token has expired', status);
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw oauthErrors.invalidToken('Could not verify token signature.', status);
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw oauthErrors.invalidToken(`Invalid token: ${error.message}`, status);
    }
    throw oauthErrors.invalidToken('Invalid token (could not decode)', status);
  }
  if (!Array.isArray(claims.scope))
    throw oauthErrors.invalidToken('Invalid token (could not decode)', status);
  if (await isJtiRevoked(ctx.db, claims.jti))
    throw oauthErrors.invalidToken('Token has been revoked', status);
  const client = await findClient(ctx.db, claims.client_id);
  if (!client) throw oauthErrors.invalidToken('Invalid client ID ' + claims.client_id, status);
  if (claims.user_id !== undefined) {
    const user = await findUserById(ctx.db, claims.user_id);
    if (!user)
      throw oauthErrors.invalidToken('Token bears a non-existent user ID: ' + claims.user_id, status);
    if (claims.rev_sig !== userRevocationSignature(client, user)) {
      throw oauthErrors.invalidToken('revocable signature mismatch', status);
    }
    return { claims, client, user };
  }
  if (claims.rev_sig !== clientRevocationSignature(client)) {
    throw oauthErrors.invalidToken('revocable signature mismatch', status);
  }
  return { claims, client };
}
