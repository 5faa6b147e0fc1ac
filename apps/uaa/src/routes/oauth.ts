import type { IncomingMessage } from 'node:http';
import { UaaScope } from '../constants.js';
import type { UaaContext } from '../context.js';
import { authenticateClient, authenticateUser, isLockedOut } from '../authentication.js';
import { safeEqual, sha256Base64Url, sha256Hex } from '../crypto.js';
import { oauthErrors, UaaError } from '../errors.js';
import { basicCredentials, bearerToken, hasAnyScope, requireBearer } from '../http/auth.js';
import { readForm, sendJson } from '../http/io.js';
import type { Router } from '../http/router.js';
import {
  longestAccessValidity,
  publishClientTokensRevoked,
  publishTokenRevoked,
  publishUserTokensRevoked,
} from '../revocations.js';
import { endUserSessions } from '../sessions.js';
import { findClient, renewClientTokenSalt, type ClientRow } from '../store/clients.js';
import {
  consumeAuthorizationCode,
  deleteRefreshTokens,
  findRefreshToken,
  revokeJti,
} from '../store/tokens.js';
import { findUserById, renewUserTokenSalt } from '../store/users.js';
import {
  GrantType,
  allowedBy,
  clientTokenScopes,
  issueTokens,
  parseScopeParameter,
  userGroupNames,
  userRevocationSignature,
  userTokenScopes,
  verifyAccessToken,
  type VerifiedToken,
} from '../tokenService.js';

const SUPPORTED_GRANTS = new Set<string>(Object.values(GrantType));

/** The OAuth2/OIDC endpoints: discovery, keys, `/oauth/token`, userinfo, check_token, introspect, revocation. */
export function oauthRoutes(router: Router, ctx: UaaContext): void {
  const discovery = () => ({
    issuer: ctx.issuer,
    authorization_endpoint: `${ctx.baseUrl}/oauth/authorize`,
    token_endpoint: `${ctx.baseUrl}/oauth/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    userinfo_endpoint: `${ctx.baseUrl}/userinfo`,
    jwks_uri: `${ctx.baseUrl}/token_keys`,
    end_session_endpoint: `${ctx.baseUrl}/logout.do`,
    introspection_endpoint: `${ctx.baseUrl}/introspect`,
    scopes_supported: ['openid', 'profile', 'email', 'phone', 'roles', 'user_attributes'],
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    id_token_encryption_alg_values_supported: ['none'],
    claim_types_supported: ['normal'],
    claims_supported: [
      'sub',
      'user_name',
      'origin',
      'iss',
      'auth_time',
      'amr',
      'acr',
      'client_id',
      'aud',
      'zid',
      'grant_type',
      'user_id',
      'azp',
      'scope',
      'exp',
      'iat',
      'jti',
      'rev_sig',
      'cid',
      'given_name',
      'family_name',
      'phone_number',
      'email',
      'email_verified',
      'previous_logon_time',
      'roles',
    ],
    claims_parameter_supported: false,
    service_documentation: 'http://docs.cloudfoundry.org/api/uaa/',
    ui_locales_supported: ['en-US'],
    code_challenge_methods_supported: ['S256'],
  });
  for (const path of ['/.well-known/openid-configuration', '/oauth/token/.well-known/openid-configuration']) {
    router.on('GET', path, ({ res }) => sendJson(res, 200, discovery(), { 'Cache-Control': 'max-age=300' }));
  }

  router.on('GET', '/token_keys', async ({ req, res }) => {
    const keys = await ctx.keys.published();
    const etag = `"${sha256Hex(keys.map((k) => k.kid).join(','))}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag });
      res.end();
      return;
    }
    sendJson(res, 200, { keys }, { ETag: etag, 'Cache-Control': 'max-age=60' });
  });
  router.on('GET', '/token_key', async ({ res }) => {
    const [active] = await ctx.keys.published();
    sendJson(res, 200, active);
  });

  router.on('POST', '/oauth/token', async ({ req, res }) => {
    const form = await readForm(req, { query: false });
    const grantType = form.get('grant_type');
    const { client, secretGiven } = await tokenClient(ctx, req, form);
    if (!grantType) throw oauthErrors.invalidRequest('Missing grant type');
    if (!SUPPORTED_GRANTS.has(grantType)) throw oauthErrors.unsupportedGrant(grantType);
    if (!client.authorized_grant_types.includes(grantType)) throw oauthErrors.unauthorizedGrant(grantType);
    const requested = parseScopeParameter(form.get('scope'));

    let response;
    switch (grantType) {
      case GrantType.CLIENT_CREDENTIALS: {
        if (client.secret_hash === null) throw oauthErrors.badClientCredentials();
        const scopes = clientTokenScopes(client, requested);
        response = await issueTokens(ctx, ctx.db, { client, scopes, grantType });
        break;
      }
      case GrantType.PASSWORD: {
        requireSecretUnlessPublic(client, secretGiven);
        const username = form.get('username');
        const password = form.get('password');
        if (!username || password === undefined) throw oauthErrors.badUserCredentials();
        const user = await authenticateUser(ctx, username, password);
        const scopes = userTokenScopes(client, await userGroupNames(ctx.db, user.id), requested);
        response = await issueTokens(ctx, ctx.db, {
          client,
          user,
          scopes,
          grantType,
          authTime: ctx.clock.now(),
        });
        break;
      }
      case GrantType.REFRESH_TOKEN: {
        const value = form.get('refresh_token');
        if (!value) throw oauthErrors.invalidRequest('A refresh token must be supplied.');
        const stored = await findRefreshToken(ctx.db, sha256Hex(value));
        if (!stored) throw oauthErrors.invalidRefreshToken(': the token is unknown or was revoked');
        if (stored.client_id !== client.client_id)
          throw oauthErrors.invalidGrant('Wrong client for this refresh token');
        // UAA lets a refresh made possible by PKCE come without the secret.
        if (!stored.pkce) requireSecretUnlessPublic(client, secretGiven);
        if (stored.expires_at.getTime() <= ctx.clock.now().getTime()) {
          throw oauthErrors.invalidRefreshToken(' (expired)');
        }
        const user = await findUserById(ctx.db, stored.user_id);
        if (!user || !user.active)
          throw oauthErrors.invalidRefreshToken(': the user no longer exists or is inactive');
        if (userRevocationSignature(client, user) !== stored.rev_sig) {
          throw oauthErrors.invalidRefreshToken(': revocable signature mismatch');
        }
        // UAA's refresh checks neither; here a refresh is refused whenever a new sign-in would be, so a
        // distrusted password or a locked account cannot keep a session alive through its refresh token.
        if (user.password_change_required) {
          throw oauthErrors.invalidGrant(
            'User password change is required: an administrator must set a new password before tokens are refreshed',
          );
        }
        if (await isLockedOut(ctx, ctx.db, user.id)) {
          throw oauthErrors.invalidGrant(
            'Your account has been locked because of too many failed attempts to login.',
          );
        }
        const extra = requested?.filter((scope) => !stored.scope.includes(scope)) ?? [];
        if (extra.length > 0) throw oauthErrors.invalidScope(extra);
        // Group changes since the original grant count: a removed group is a removed scope.
        const groups = await userGroupNames(ctx.db, user.id);
        const scopes = (requested ?? stored.scope).filter(
          (scope) => groups.includes(scope) && allowedBy(client.scope, scope),
        );
        if (scopes.length === 0) throw oauthErrors.invalidScope(requested ?? stored.scope);
        response = await issueTokens(ctx, ctx.db, {
          client,
          user,
          scopes,
          grantType,
          authTime: stored.auth_time,
          refreshToken: value,
        });
        break;
      }
      case GrantType.AUTHORIZATION_CODE: {
        const code = form.get('code');
        if (!code) throw oauthErrors.invalidRequest('An authorization code must be supplied.');
        const stored = await consumeAuthorizationCode(ctx.db, sha256Hex(code));
        if (
          !stored ||
          stored.expires_at.getTime() <= ctx.clock.now().getTime() ||
          stored.client_id !== client.client_id
        ) {
          throw oauthErrors.invalidGrant(`Invalid authorization code: ${code}`);
        }
        if (stored.redirect_uri !== null && form.get('redirect_uri') !== stored.redirect_uri) {
          throw oauthErrors.invalidGrant('Redirect URI mismatch.');
        }
        if (stored.code_challenge !== null) {
          const verifier = form.get('code_verifier');
          if (!verifier || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
            throw oauthErrors.invalidGrant(
              'Code verifier length must be between 43 and 128 and use only [A-Z] [a-z] [0-9] - . _ ~',
            );
          }
          // Only S256 is ever stored now; a `plain` code left from before is refused rather than honoured.
          if (stored.code_challenge_method !== 'S256')
            throw oauthErrors.invalidGrant('Invalid code verifier');
          if (!safeEqual(sha256Base64Url(verifier), stored.code_challenge))
            throw oauthErrors.invalidGrant('Invalid code verifier');
        } else {
          requireSecretUnlessPublic(client, secretGiven);
        }
        const user = await findUserById(ctx.db, stored.user_id);
        if (!user || !user.active)
          throw oauthErrors.invalidGrant('The user of this code no longer exists or is inactive');
        response = await issueTokens(ctx, ctx.db, {
          client,
          user,
          scopes: stored.scope,
          grantType,
          authTime: stored.auth_time,
          nonce: stored.nonce,
          pkce: stored.code_challenge !== null,
        });
        break;
      }
    }
    sendJson(res, 200, response);
  });

  router.on(['GET', 'POST'], '/userinfo', async ({ req, res }) => {
    const token = await requireBearer(ctx, req, [UaaScope.OPENID]);
    const user = token.user;
    if (!user) throw oauthErrors.insufficientScope([UaaScope.OPENID]);
    sendJson(res, 200, {
      user_id: user.id,
      user_name: user.username,
      ...(user.given_name ? { given_name: user.given_name } : {}),
      ...(user.family_name ? { family_name: user.family_name } : {}),
      ...(user.given_name || user.family_name
        ? { name: [user.given_name, user.family_name].filter(Boolean).join(' ') }
        : {}),
      email: user.email,
      ...(user.phone_number ? { phone_number: user.phone_number } : {}),
      email_verified: user.verified,
      ...(user.previous_logon_time ? { previous_logon_time: user.previous_logon_time.getTime() } : {}),
      sub: user.id,
    });
  });

  router.on('POST', '/check_token', async ({ req, res }) => {
    await resourceServer(ctx, req, { bearer: false });
    const form = await readForm(req);
    const token = form.get('token');
    if (!token) throw oauthErrors.invalidRequest('Missing token parameter');
    const verified = await verifyAccessToken(ctx, token, 400);
    const wanted = (form.get('scopes') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const missing = wanted.filter((scope) => !verified.claims.scope.includes(scope));
    if (missing.length > 0) {
      throw new UaaError(400, 'invalid_scope', `Some requested scopes are missing: ${missing.join(',')}`);
    }
    sendJson(res, 200, checkTokenClaims(verified));
  });

  router.on('POST', '/introspect', async ({ req, res }) => {
    await resourceServer(ctx, req, { bearer: true });
    const form = await readForm(req);
    const token = form.get('token');
    if (!token) throw oauthErrors.invalidRequest('Missing token parameter');
    try {
      const verified = await verifyAccessToken(ctx, token, 400);
      sendJson(res, 200, { active: true, ...checkTokenClaims(verified) });
    } catch (error) {
      if (error instanceof UaaError && error.error === 'invalid_token') {
        sendJson(res, 200, { active: false });
        return;
      }
      throw error;
    }
  });

  const revokers = [UaaScope.UAA_ADMIN, UaaScope.TOKENS_REVOKE];
  router.on('DELETE', '/oauth/token/revoke/:tokenId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    const tokenId = params.tokenId!;
    const own = caller.claims.jti === tokenId;
    if (!own && !hasAnyScope(caller, revokers)) {
      // A user or client may revoke its own refresh tokens too.
      const refresh = await ownRefreshToken(ctx, caller, tokenId);
      if (!refresh) throw oauthErrors.insufficientScope(revokers);
    }
    const byValue = await findRefreshToken(ctx.db, sha256Hex(tokenId));
    const removed =
      (await deleteRefreshTokens(ctx.db, { jti: tokenId })) +
      (await deleteRefreshTokens(ctx.db, { tokenHash: sha256Hex(tokenId) }));
    if (removed === 0) {
      const expiresAt = own
        ? new Date(caller.claims.exp * 1000)
        : new Date(ctx.clock.now().getTime() + (await longestAccessValidity(ctx)) * 1000);
      await ctx.db.transaction(async (tx) => {
        await revokeJti(tx, tokenId, expiresAt);
        await publishTokenRevoked(ctx, tx, tokenId, expiresAt);
      });
    }
    ctx.logger.info(revokedTokenLogFields(tokenId, byValue?.jti), 'token revoked');
    sendJson(res, 200, {});
  });

  router.on('GET', '/oauth/token/revoke/user/:userId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (caller.claims.user_id !== params.userId && !hasAnyScope(caller, revokers))
      throw oauthErrors.insufficientScope(revokers);
    const user = await findUserById(ctx.db, params.userId!);
    if (!user) throw new UaaError(404, 'scim_resource_not_found', `User ${params.userId} does not exist`);
    await ctx.db.transaction(async (tx) => {
      await renewUserTokenSalt(tx, user.id);
      await deleteRefreshTokens(tx, { userId: user.id });
      await publishUserTokensRevoked(ctx, tx, user);
      await endUserSessions(tx, user.id);
    });
    sendJson(res, 200, {});
  });

  router.on('GET', '/oauth/token/revoke/client/:clientId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (caller.claims.client_id !== params.clientId && !hasAnyScope(caller, revokers))
      throw oauthErrors.insufficientScope(revokers);
    const client = await findClient(ctx.db, params.clientId!);
    if (!client) throw new UaaError(404, 'not_found', `No client with requested id: ${params.clientId}`);
    await ctx.db.transaction(async (tx) => {
      await renewClientTokenSalt(tx, client.client_id);
      await deleteRefreshTokens(tx, { clientId: client.client_id });
      await publishClientTokensRevoked(ctx, tx, client);
    });
    sendJson(res, 200, {});
  });

  // UAA lists its revocable tokens; here those are the refresh tokens (access tokens are self-contained JWTs).
  const listers = [UaaScope.UAA_ADMIN, UaaScope.TOKENS_LIST];
  const listTokens = async (where: 'user_id' | 'client_id', id: string) => {
    const { rows } = await ctx.db.query<{
      jti: string;
      user_id: string;
      client_id: string;
      scope: string[];
      created: Date;
      expires_at: Date;
      grant_type: string;
    }>(
      `SELECT jti, user_id, client_id, scope, created, expires_at, grant_type FROM uaa.refresh_tokens
       WHERE ${where} = $1 AND expires_at > $2 ORDER BY created`,
      [id, ctx.clock.now()],
    );
    return rows.map((row) => ({
      zoneId: 'uaa',
      tokenId: row.jti,
      clientId: row.client_id,
      userId: row.user_id,
      format: 'OPAQUE',
      responseType: 'REFRESH_TOKEN',
      issuedAt: row.created.getTime(),
      expiresAt: row.expires_at.getTime(),
      scope: row.scope.join(' '),
      grantType: row.grant_type,
    }));
  };
  router.on('GET', '/oauth/token/list/user/:userId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (caller.claims.user_id !== params.userId && !hasAnyScope(caller, listers))
      throw oauthErrors.insufficientScope(listers);
    sendJson(
      res,
      200,
      params.userId && /^[0-9a-f-]{36}$/i.test(params.userId)
        ? await listTokens('user_id', params.userId)
        : [],
    );
  });
  router.on('GET', '/oauth/token/list/client/:clientId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (!hasAnyScope(caller, listers)) throw oauthErrors.insufficientScope(listers);
    sendJson(res, 200, await listTokens('client_id', params.clientId!));
  });

  router.on('GET', '/oauth/token/revoke/user/:userId/client/:clientId', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (caller.claims.user_id !== params.userId && !hasAnyScope(caller, revokers))
      throw oauthErrors.insufficientScope(revokers);
    await deleteRefreshTokens(ctx.db, { userId: params.userId!, clientId: params.clientId! });
    sendJson(res, 200, {});
  });
}

/** The client of a token request: Basic, else the form's `client_id`/`client_secret`. */
async function tokenClient(
  ctx: UaaContext,
  req: IncomingMessage,
  form: Map<string, string>,
): Promise<{ client: ClientRow; secretGiven: boolean }> {
  const basic = basicCredentials(req);
  const id = basic?.id ?? form.get('client_id');
  const secret = basic?.secret ?? form.get('client_secret');
  if (!id) throw oauthErrors.badClientCredentials();
  if (secret === undefined || secret === '') {
    // Without a secret only a public client, or a confidential one refreshing a PKCE grant, may go on; the
    // grant handlers decide with `requireSecretUnlessPublic`.
    const client = await findClient(ctx.db, id);
    if (!client) throw oauthErrors.badClientCredentials();
    return { client, secretGiven: false };
  }
  return { client: await authenticateClient(ctx.db, id, secret), secretGiven: true };
}

function requireSecretUnlessPublic(client: ClientRow, secretGiven: boolean): void {
  if (!secretGiven && client.secret_hash !== null) throw oauthErrors.badClientCredentials();
}

/** `/check_token` and `/introspect` callers: a client (or a client's token) with `uaa.resource`. */
async function resourceServer(
  ctx: UaaContext,
  req: IncomingMessage,
  { bearer }: { bearer: boolean },
): Promise<void> {
  const basic = basicCredentials(req);
  if (basic) {
    const client = await authenticateClient(ctx.db, basic.id, basic.secret);
    if (!client.authorities.includes(UaaScope.UAA_RESOURCE)) throw oauthErrors.accessDenied();
    return;
  }
  if (bearer && bearerToken(req)) {
    await requireBearer(ctx, req, [UaaScope.UAA_RESOURCE]);
    return;
  }
  throw oauthErrors.badClientCredentials();
}

async function ownRefreshToken(ctx: UaaContext, caller: VerifiedToken, tokenId: string): Promise<boolean> {
  const stored = tokenId.endsWith('-r')
    ? (
        await ctx.db.query<{ user_id: string }>(`SELECT user_id FROM uaa.refresh_tokens WHERE jti = $1`, [
          tokenId,
        ])
      ).rows[0]
    : await findRefreshToken(ctx.db, sha256Hex(tokenId));
  return stored !== undefined && stored.user_id === caller.claims.user_id;
}

/** A token id has a fixed shape: 32 hex digits, `-r` after it for a refresh token (see `issueTokens`). */
const TOKEN_ID = /^[0-9a-f]{32}(?:-r)?$/;

/**
 * What the log may say about a revoked token. The path may carry an opaque refresh token's value, which is
 * the token itself, so the log names its id instead; anything not shaped like an id (a value already
 * revoked, a JWT pasted by mistake) is named by a short hash, enough to match log lines, useless as a token.
 */
function revokedTokenLogFields(tokenId: string, refreshJti: string | undefined): Record<string, string> {
  if (refreshJti !== undefined) return { jti: refreshJti };
  if (TOKEN_ID.test(tokenId)) return { jti: tokenId };
  return { token_sha256_prefix: sha256Hex(tokenId).slice(0, 12) };
}

function checkTokenClaims(verified: VerifiedToken): Record<string, unknown> {
  const { claims } = verified;
  return {
    ...claims,
    ...(verified.user
      ? { user_name: verified.user.username, email: verified.user.email, origin: verified.user.origin }
      : {}),
    revocable: true,
  };
}
