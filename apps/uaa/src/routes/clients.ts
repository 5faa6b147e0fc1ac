import { sqlStateOf, SqlState } from '@openpks/db';
import { UaaScope } from '../constants.js';
import type { UaaContext } from '../context.js';
import { hashSecret, verifySecret } from '../crypto.js';
import { oauthErrors, UaaError } from '../errors.js';
import { hasAnyScope, requireBearer } from '../http/auth.js';
import { readJson, sendJson } from '../http/io.js';
import { publishClientDeleted, publishClientTokensRevoked } from '../revocations.js';
import type { Router } from '../http/router.js';
import {
  deleteClient,
  findClient,
  insertClient,
  listClients,
  setClientSecret,
  updateClient,
  type ClientFields,
  type ClientRow,
} from '../store/clients.js';
import { deleteRefreshTokens } from '../store/tokens.js';
import { GrantType } from '../tokenService.js';
import { listResponse } from './scimSupport.js';

const READERS = [UaaScope.CLIENTS_READ, UaaScope.CLIENTS_ADMIN, UaaScope.UAA_ADMIN];
const WRITERS = [UaaScope.CLIENTS_WRITE, UaaScope.CLIENTS_ADMIN, UaaScope.UAA_ADMIN];
const SECRET_ADMINS = [UaaScope.CLIENTS_ADMIN, UaaScope.UAA_ADMIN];
const KNOWN_GRANTS = new Set<string>(Object.values(GrantType));
const CLIENT_ID = /^[A-Za-z0-9._\-@]{1,255}$/;

const invalidClient = (description: string) => new UaaError(400, 'invalid_client', description);

/** Client registrations at `/oauth/clients`, in UAA's JSON shape. */
export function clientRoutes(router: Router, ctx: UaaContext): void {
  router.on('GET', '/oauth/clients', async ({ req, res, url }) => {
    await requireBearer(ctx, req, READERS);
    const startIndex = Math.max(1, Number.parseInt(url.searchParams.get('startIndex') ?? '1', 10) || 1);
    const count = Math.min(
      500,
      Math.max(0, Number.parseInt(url.searchParams.get('count') ?? '100', 10) || 100),
    );
    const { rows, total } = await listClients(ctx.db, startIndex - 1, count);
    sendJson(res, 200, listResponse(rows.map(clientResource), startIndex, total));
  });

  router.on('POST', '/oauth/clients', async ({ req, res }) => {
    await requireBearer(ctx, req, WRITERS);
    const body = await readJson(req);
    const fields = clientFields(body);
    const secret = body.client_secret;
    if (secret !== undefined && typeof secret !== 'string')
      throw invalidClient('client_secret must be a string');
    const needsSecret = fields.authorizedGrantTypes.includes(GrantType.CLIENT_CREDENTIALS);
    if (needsSecret && !secret)
      throw invalidClient('Client secret is required for client_credentials grant type');
    const secretHash = secret ? await hashSecret(secret) : null;
    let created: ClientRow;
    try {
      created = await ctx.db.transaction(async (tx) => {
        if (await findClient(tx, fields.clientId))
          throw new UaaError(409, 'invalid_client', `Client already exists: ${fields.clientId}`);
        return insertClient(tx, { ...fields, secretHash }, ctx.clock.now());
      });
    } catch (error) {
      if (sqlStateOf(error) === SqlState.UNIQUE_VIOLATION)
        throw new UaaError(409, 'invalid_client', `Client already exists: ${fields.clientId}`);
      throw error;
    }
    ctx.logger.info({ client_id: created.client_id }, 'client created');
    sendJson(res, 201, clientResource(created));
  });

  router.on('GET', '/oauth/clients/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, READERS);
    const client = await findClient(ctx.db, params.id!);
    if (!client) throw notFound(params.id!);
    sendJson(res, 200, clientResource(client));
  });

  router.on('PUT', '/oauth/clients/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const body = await readJson(req);
    const fields = clientFields({ ...body, client_id: body.client_id ?? params.id });
    if (fields.clientId !== params.id)
      throw invalidClient('The client_id in the body does not match the URL');
    const updated = await ctx.db.transaction(async (tx) => {
      const current = await findClient(tx, params.id!, { lock: true });
      if (!current) throw notFound(params.id!);
      if (
        fields.authorizedGrantTypes.includes(GrantType.CLIENT_CREDENTIALS) &&
        current.secret_hash === null
      ) {
        throw invalidClient('Client secret is required for client_credentials grant type');
      }
      return updateClient(tx, fields, ctx.clock.now());
    });
    sendJson(res, 200, clientResource(updated));
  });

  router.on('DELETE', '/oauth/clients/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const removed = await ctx.db.transaction(async (tx) => {
      const current = await findClient(tx, params.id!, { lock: true });
      if (!current) throw notFound(params.id!);
      await deleteClient(tx, current.client_id);
      await publishClientDeleted(ctx, tx, current.client_id);
      return current;
    });
    ctx.logger.info({ client_id: removed.client_id }, 'client deleted');
    sendJson(res, 200, clientResource(removed));
  });

  router.on('PUT', '/oauth/clients/:id/secret', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    const admin = hasAnyScope(caller, SECRET_ADMINS);
    const own =
      caller.claims.client_id === params.id &&
      caller.claims.user_id === undefined &&
      hasAnyScope(caller, [UaaScope.CLIENTS_SECRET]);
    if (!admin && !own) throw oauthErrors.insufficientScope(SECRET_ADMINS);
    const body = await readJson(req);
    const secret = body.secret;
    if (typeof secret !== 'string' || secret.length === 0)
      throw invalidClient('A new secret must be provided (secret)');
    const client = await findClient(ctx.db, params.id!);
    if (!client) throw notFound(params.id!);
    if (!admin || body.oldSecret !== undefined) {
      const old = body.oldSecret;
      if (
        typeof old !== 'string' ||
        client.secret_hash === null ||
        !(await verifySecret(old, client.secret_hash))
      ) {
        throw invalidClient('Previous secret is required and must be valid');
      }
    }
    const hash = await hashSecret(secret);
    await ctx.db.transaction(async (tx) => {
      await setClientSecret(tx, client.client_id, hash, ctx.clock.now());
      await deleteRefreshTokens(tx, { clientId: client.client_id });
      await publishClientTokensRevoked(ctx, tx, client);
    });
    ctx.logger.info({ client_id: client.client_id }, 'client secret changed');
    sendJson(res, 200, { status: 'ok', message: 'secret updated' });
  });
}

function notFound(id: string): UaaError {
  return new UaaError(404, 'NOT_FOUND', `No client with requested id: ${id}`, {
    extra: { message: `No client with requested id: ${id}` },
  });
}

function stringList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    throw invalidClient(`${field} must be a list of strings`);
  }
  return [...new Set((list as string[]).map((v) => v.trim()).filter(Boolean))];
}

function optionalValidity(body: Record<string, unknown>, field: string): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalidClient(`${field} must be a positive number of seconds`);
  return value;
}

function clientFields(body: Record<string, unknown>): Omit<ClientFields, 'secretHash'> {
  const clientId = body.client_id;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw invalidClient('client_id must be 1-255 characters: letters, digits and . _ - @');
  }
  const grants = stringList(body, 'authorized_grant_types');
  if (grants.length === 0)
    throw invalidClient(
      'An authorized grant type must be provided. Must be one of: ' + [...KNOWN_GRANTS].join(', '),
    );
  const unknown = grants.filter((g) => !KNOWN_GRANTS.has(g));
  if (unknown.length > 0)
    throw invalidClient(
      `${unknown.join(', ')} is not an allowed grant type. Must be one of: ${[...KNOWN_GRANTS].join(', ')}`,
    );
  const redirectUri = stringList(body, 'redirect_uri');
  for (const uri of redirectUri) {
    if (!URL.canParse(uri)) throw invalidClient(`Invalid redirect_uri: ${uri}`);
  }
  if (grants.includes(GrantType.AUTHORIZATION_CODE) && redirectUri.length === 0) {
    throw invalidClient('A redirect_uri is required for authorization_code grant type.');
  }
  const autoapproveRaw = body.autoapprove;
  const autoapprove =
    autoapproveRaw === true || autoapproveRaw === 'true'
      ? ['true']
      : autoapproveRaw === false
        ? []
        : stringList(body, 'autoapprove');
  const name = body.name;
  if (name !== undefined && name !== null && typeof name !== 'string')
    throw invalidClient('name must be a string');
  const allowPublic = body.allowpublic;
  if (allowPublic !== undefined && typeof allowPublic !== 'boolean')
    throw invalidClient('allowpublic must be true or false');
  return {
    clientId,
    name: (name as string | undefined) ?? null,
    scope: stringList(body, 'scope'),
    authorities: stringList(body, 'authorities'),
    authorizedGrantTypes: grants,
    redirectUri,
    autoapprove,
    resourceIds: stringList(body, 'resource_ids'),
    accessTokenValidity: optionalValidity(body, 'access_token_validity'),
    refreshTokenValidity: optionalValidity(body, 'refresh_token_validity'),
    allowPublic: allowPublic ?? false,
  };
}

function clientResource(client: ClientRow): Record<string, unknown> {
  return {
    client_id: client.client_id,
    ...(client.name !== null ? { name: client.name } : {}),
    scope: client.scope.length > 0 ? client.scope : ['uaa.none'],
    resource_ids: client.resource_ids.length > 0 ? client.resource_ids : ['none'],
    authorized_grant_types: client.authorized_grant_types,
    ...(client.redirect_uri.length > 0 ? { redirect_uri: client.redirect_uri } : {}),
    autoapprove: client.autoapprove.includes('true') ? true : client.autoapprove,
    authorities: client.authorities.length > 0 ? client.authorities : ['uaa.none'],
    ...(client.access_token_validity !== null ? { access_token_validity: client.access_token_validity } : {}),
    ...(client.refresh_token_validity !== null
      ? { refresh_token_validity: client.refresh_token_validity }
      : {}),
    allowpublic: client.allow_public,
    lastModified: client.last_modified.getTime(),
  };
}
