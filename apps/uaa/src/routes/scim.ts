import type { Queryable } from '@openpks/db';
import { sqlStateOf, SqlState } from '@openpks/db';
import { DEFAULT_USER_GROUPS, UAA_ORIGIN, UAA_ZONE_ID, UaaScope } from '../constants.js';
import type { UaaContext } from '../context.js';
import { checkPasswordPolicy } from '../authentication.js';
import { hashSecret, verifySecret } from '../crypto.js';
import { oauthErrors, scimError, scimErrors } from '../errors.js';
import { hasAnyScope, requireBearer } from '../http/auth.js';
import { readJson, sendJson } from '../http/io.js';
import { publishUserDeleted, publishUserTokensRevoked } from '../revocations.js';
import type { Router } from '../http/router.js';
import {
  addMember,
  countGroups,
  deleteGroup,
  findGroupById,
  findGroupByName,
  findMember,
  GROUP_FILTER_ATTRIBUTES,
  groupsOfMember,
  insertGroup,
  listGroups,
  listMembers,
  MemberType,
  removeAllMembers,
  removeMember,
  touchGroup,
  updateGroup,
  type GroupRow,
  type MemberRow,
} from '../store/groups.js';
import { endUserSessions } from '../sessions.js';
import { deleteRefreshTokens } from '../store/tokens.js';
import {
  clearLoginFailures,
  countUsers,
  deleteUser,
  findUserById,
  findUserByName,
  insertUser,
  listUsers,
  setPasswordChangeRequired,
  setUserPassword,
  updateUser,
  USER_FILTER_ATTRIBUTES,
  type UserChanges,
  type UserRow,
} from '../store/users.js';
import {
  checkVersion,
  etag,
  ifMatch,
  iso,
  listQuery,
  listResponse,
  optionalArray,
  optionalBoolean,
  optionalObject,
  optionalString,
  project,
  requireIfMatch,
  SCIM_SCHEMAS,
} from './scimSupport.js';

const READERS = [UaaScope.SCIM_READ, UaaScope.UAA_ADMIN];
const WRITERS = [UaaScope.SCIM_WRITE, UaaScope.UAA_ADMIN];
const CREATORS = [UaaScope.SCIM_WRITE, UaaScope.SCIM_CREATE, UaaScope.UAA_ADMIN];

/** SCIM `/Users` and `/Groups` with UAA's shapes, versions, filters and paging. */
export function scimRoutes(router: Router, ctx: UaaContext): void {
  // ---- Users ----
  router.on('GET', '/Users', async ({ req, res, url }) => {
    await requireBearer(ctx, req, READERS);
    const query = listQuery(url, USER_FILTER_ATTRIBUTES);
    const rows = await listUsers(ctx.db, query.where, query.params, query.order, query.offset, query.limit);
    const total = await countUsers(ctx.db, query.where, query.params);
    const resources = [];
    for (const row of rows) resources.push(project(await userResource(ctx.db, row), query.attributes));
    sendJson(res, 200, listResponse(resources, query.startIndex, total));
  });

  router.on('POST', '/Users', async ({ req, res }) => {
    await requireBearer(ctx, req, CREATORS);
    const body = await readJson(req);
    const fields = userFields(body, true);
    const origin = optionalString(body, 'origin') ?? UAA_ORIGIN;
    const password = body.password;
    if (origin === UAA_ORIGIN) checkPasswordPolicy(ctx, password);
    const passwordHash = typeof password === 'string' && password !== '' ? await hashSecret(password) : null;
    const now = ctx.clock.now();
    const user = await ctx.db.transaction(async (tx) => {
      const existing = await findUserByName(tx, fields.username!, origin);
      if (existing) {
        throw scimErrors.alreadyExists(`Username already in use: ${existing.username}`, {
          user_id: existing.id,
        });
      }
      let created: UserRow;
      try {
        created = await insertUser(
          tx,
          { ...fields, username: fields.username!, email: fields.email!, origin, passwordHash },
          now,
        );
      } catch (error) {
        if (sqlStateOf(error) === SqlState.UNIQUE_VIOLATION)
          throw scimErrors.alreadyExists(`Username already in use: ${fields.username}`);
        throw error;
      }
      for (const name of DEFAULT_USER_GROUPS) {
        const group = await findGroupByName(tx, name);
        if (group) await addMember(tx, group.id, { id: created.id, type: MemberType.USER, origin }, now);
      }
      return created;
    });
    ctx.logger.info({ user_id: user.id, username: user.username }, 'user created');
    sendJson(res, 201, await userResource(ctx.db, user), etag(user.version));
  });

  router.on('GET', '/Users/:id', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    if (caller.claims.user_id !== params.id && !hasAnyScope(caller, READERS))
      throw oauthErrors.insufficientScope(READERS);
    const user = await findUserById(ctx.db, params.id!);
    if (!user) throw scimErrors.notFound(`User ${params.id} does not exist`);
    sendJson(res, 200, await userResource(ctx.db, user), etag(user.version));
  });

  const changeUser =
    (method: 'PUT' | 'PATCH') =>
    async ({ req, res, params }: RouteArgs) => {
      await requireBearer(ctx, req, WRITERS);
      const version = requireIfMatch(req, method);
      const body = await readJson(req);
      const changes = userFields(body, method === 'PUT');
      if (method === 'PATCH') applyAttributeRemoval(body, changes);
      const user = await ctx.db.transaction(async (tx) => {
        const current = await findUserById(tx, params.id!, { lock: true });
        if (!current) throw scimErrors.notFound(`User ${params.id} does not exist`);
        checkVersion(version, current.version);
        if (changes.username && changes.username.toLowerCase() !== current.username.toLowerCase()) {
          const clash = await findUserByName(tx, changes.username, current.origin);
          if (clash)
            throw scimErrors.alreadyExists(`Username already in use: ${clash.username}`, {
              user_id: clash.id,
            });
        }
        const updated = await updateUser(tx, current.id, changes, ctx.clock.now());
        // The user name and email are part of `rev_sig`: tokens naming the old ones end, as at UAA.
        if (updated.username !== current.username || updated.email !== current.email) {
          await publishUserTokensRevoked(ctx, tx, current);
        }
        return updated;
      });
      sendJson(res, 200, await userResource(ctx.db, user), etag(user.version));
    };
  router.on('PUT', '/Users/:id', changeUser('PUT'));
  router.on('PATCH', '/Users/:id', changeUser('PATCH'));

  router.on('DELETE', '/Users/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const version = ifMatch(req);
    const resource = await ctx.db.transaction(async (tx) => {
      const current = await findUserById(tx, params.id!, { lock: true });
      if (!current) throw scimErrors.notFound(`User ${params.id} does not exist`);
      checkVersion(version, current.version);
      const shown = await userResource(tx, current);
      await deleteUser(tx, current.id);
      await publishUserDeleted(ctx, tx, current.id);
      return shown;
    });
    ctx.logger.info({ user_id: params.id }, 'user deleted');
    sendJson(res, 200, resource);
  });

  router.on('PUT', '/Users/:id/password', async ({ req, res, params }) => {
    const caller = await requireBearer(ctx, req);
    const admin = hasAnyScope(caller, [UaaScope.UAA_ADMIN]);
    const self = caller.claims.user_id === params.id;
    if (!admin && !self) throw oauthErrors.insufficientScope([UaaScope.UAA_ADMIN]);
    const body = await readJson(req);
    const user = await findUserById(ctx.db, params.id!);
    if (!user) throw scimErrors.notFound(`User ${params.id} does not exist`);
    const oldPassword = body.oldPassword;
    // Changing one's own password proves the old one; an administrator resets without it.
    if (!admin || oldPassword !== undefined) {
      if (
        typeof oldPassword !== 'string' ||
        user.password_hash === null ||
        !(await verifySecret(oldPassword, user.password_hash))
      ) {
        throw scimError(401, 'unauthorized', 'Old password is incorrect');
      }
    }
    const password = checkPasswordPolicy(ctx, body.password);
    if (user.password_hash !== null && (await verifySecret(password, user.password_hash))) {
      throw scimErrors.invalidPassword('Your new password cannot be the same as the old password.');
    }
    const hash = await hashSecret(password);
    await ctx.db.transaction(async (tx) => {
      await setUserPassword(tx, user.id, hash, ctx.clock.now());
      // rev_sig and the session binding already end them; deleting them keeps the tables honest.
      await deleteRefreshTokens(tx, { userId: user.id });
      await endUserSessions(tx, user.id);
      await publishUserTokensRevoked(ctx, tx, user);
    });
    ctx.logger.info({ user_id: user.id }, 'password changed');
    sendJson(res, 200, { status: 'ok', message: 'password updated' });
  });

  router.on('PATCH', '/Users/:id/status', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const body = await readJson(req);
    const locked = optionalBoolean(body, 'locked');
    const passwordChangeRequired = optionalBoolean(body, 'passwordChangeRequired');
    if (locked === true) {
      throw scimErrors.invalid(
        'Cannot set user account to locked. User accounts only become locked through exceeding the allowed failed login attempts.',
      );
    }
    if (locked === undefined && passwordChangeRequired === undefined) {
      throw scimErrors.invalid('Request must set locked (false) or passwordChangeRequired');
    }
    await ctx.db.transaction(async (tx) => {
      const user = await findUserById(tx, params.id!, { lock: true });
      if (!user) throw scimErrors.notFound(`User ${params.id} does not exist`);
      if (locked === false) await clearLoginFailures(tx, user.id);
      if (passwordChangeRequired !== undefined)
        await setPasswordChangeRequired(tx, user.id, passwordChangeRequired, ctx.clock.now());
      // Whoever is signed in as the user must not go on under the password the administrator distrusts.
      if (passwordChangeRequired === true) await endUserSessions(tx, user.id);
    });
    sendJson(res, 200, {
      ...(locked !== undefined ? { locked } : {}),
      ...(passwordChangeRequired !== undefined ? { passwordChangeRequired } : {}),
    });
  });

  // ---- Groups ----
  router.on('GET', '/Groups', async ({ req, res, url }) => {
    await requireBearer(ctx, req, READERS);
    const query = listQuery(url, GROUP_FILTER_ATTRIBUTES);
    const rows = await listGroups(ctx.db, query.where, query.params, query.order, query.offset, query.limit);
    const total = await countGroups(ctx.db, query.where, query.params);
    const members = await listMembers(
      ctx.db,
      rows.map((r) => r.id),
    );
    sendJson(
      res,
      200,
      listResponse(
        rows.map((row) => project(groupResource(row, members), query.attributes)),
        query.startIndex,
        total,
      ),
    );
  });

  router.on('POST', '/Groups', async ({ req, res }) => {
    await requireBearer(ctx, req, CREATORS);
    const body = await readJson(req);
    const displayName = requiredDisplayName(body);
    const description = optionalString(body, 'description');
    const members = memberList(body);
    const group = await ctx.db.transaction(async (tx) => {
      if (await findGroupByName(tx, displayName)) {
        throw scimErrors.alreadyExists(`A group with displayName: ${displayName} already exists.`);
      }
      const created = await insertGroup(
        tx,
        { displayName, description: description ?? null },
        ctx.clock.now(),
      );
      await addMembers(tx, created.id, members, ctx.clock.now());
      return created;
    });
    sendJson(res, 201, groupResource(group, await listMembers(ctx.db, [group.id])), etag(group.version));
  });

  router.on('GET', '/Groups/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, READERS);
    const group = await findGroupById(ctx.db, params.id!);
    if (!group) throw scimErrors.notFound(`Group ${params.id} does not exist`);
    sendJson(res, 200, groupResource(group, await listMembers(ctx.db, [group.id])), etag(group.version));
  });

  const changeGroup =
    (method: 'PUT' | 'PATCH') =>
    async ({ req, res, params }: RouteArgs) => {
      await requireBearer(ctx, req, WRITERS);
      const version = requireIfMatch(req, method);
      const body = await readJson(req);
      const displayName =
        method === 'PUT' ? requiredDisplayName(body) : (optionalString(body, 'displayName') ?? undefined);
      const description = optionalString(body, 'description');
      const members = body.members === undefined ? undefined : memberList(body);
      const removedAttributes = attributesToRemove(body);
      const group = await ctx.db.transaction(async (tx) => {
        const current = await findGroupById(tx, params.id!, { lock: true });
        if (!current) throw scimErrors.notFound(`Group ${params.id} does not exist`);
        checkVersion(version, current.version);
        if (
          displayName &&
          displayName.toLowerCase() !== current.display_name.toLowerCase() &&
          (await findGroupByName(tx, displayName))
        ) {
          throw scimErrors.alreadyExists(`A group with displayName: ${displayName} already exists.`);
        }
        const now = ctx.clock.now();
        const updated = await updateGroup(
          tx,
          current.id,
          {
            ...(displayName !== undefined ? { displayName } : {}),
            ...(description !== undefined
              ? { description }
              : removedAttributes.has('description')
                ? { description: null }
                : {}),
          },
          now,
        );
        if (method === 'PUT' || removedAttributes.has('members')) await removeAllMembers(tx, current.id);
        if (members) {
          await addMembers(
            tx,
            current.id,
            members.filter((m) => m.operation !== 'delete'),
            now,
          );
          for (const member of members.filter((m) => m.operation === 'delete'))
            await removeMember(tx, current.id, member.id);
        }
        return updated;
      });
      sendJson(res, 200, groupResource(group, await listMembers(ctx.db, [group.id])), etag(group.version));
    };
  router.on('PUT', '/Groups/:id', changeGroup('PUT'));
  router.on('PATCH', '/Groups/:id', changeGroup('PATCH'));

  router.on('DELETE', '/Groups/:id', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const version = ifMatch(req);
    const resource = await ctx.db.transaction(async (tx) => {
      const current = await findGroupById(tx, params.id!, { lock: true });
      if (!current) throw scimErrors.notFound(`Group ${params.id} does not exist`);
      checkVersion(version, current.version);
      const shown = groupResource(current, await listMembers(tx, [current.id]));
      await deleteGroup(tx, current.id);
      return shown;
    });
    sendJson(res, 200, resource);
  });

  router.on('GET', '/Groups/:id/members', async ({ req, res, params }) => {
    await requireBearer(ctx, req, READERS);
    const group = await findGroupById(ctx.db, params.id!);
    if (!group) throw scimErrors.notFound(`Group ${params.id} does not exist`);
    sendJson(res, 200, (await listMembers(ctx.db, [group.id])).map(memberResource));
  });

  router.on('POST', '/Groups/:id/members', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const [member] = memberList({ members: [await readJson(req)] });
    const added = await ctx.db.transaction(async (tx) => {
      const group = await findGroupById(tx, params.id!, { lock: true });
      if (!group) throw scimErrors.notFound(`Group ${params.id} does not exist`);
      if (await findMember(tx, group.id, member!.id)) {
        throw scimErrors.alreadyExists(`Member ${member!.id} already exists in group ${group.id}`);
      }
      await addMembers(tx, group.id, [member!], ctx.clock.now());
      await touchGroup(tx, group.id, ctx.clock.now());
      return (await findMember(tx, group.id, member!.id))!;
    });
    sendJson(res, 201, memberResource(added));
  });

  router.on('GET', '/Groups/:id/members/:memberId', async ({ req, res, params }) => {
    await requireBearer(ctx, req, READERS);
    const member = await findMember(ctx.db, params.id!, params.memberId!);
    if (!member) throw scimErrors.notFound(`Member ${params.memberId} does not exist in group ${params.id}`);
    sendJson(res, 200, memberResource(member));
  });

  router.on('DELETE', '/Groups/:id/members/:memberId', async ({ req, res, params }) => {
    await requireBearer(ctx, req, WRITERS);
    const removed = await ctx.db.transaction(async (tx) => {
      const group = await findGroupById(tx, params.id!, { lock: true });
      if (!group) throw scimErrors.notFound(`Group ${params.id} does not exist`);
      const member = await findMember(tx, group.id, params.memberId!);
      if (!member)
        throw scimErrors.notFound(`Member ${params.memberId} does not exist in group ${params.id}`);
      await removeMember(tx, group.id, member.member_id);
      await touchGroup(tx, group.id, ctx.clock.now());
      return member;
    });
    sendJson(res, 200, memberResource(removed));
  });
}

type RouteArgs = Parameters<Parameters<Router['on']>[2]>[0];

/** Reads the user fields of a SCIM body; `full` (POST, PUT) requires userName and an email. */
function userFields(body: Record<string, unknown>, full: boolean): UserChanges {
  const changes: UserChanges = {};
  const username = optionalString(body, 'userName');
  if (username !== undefined) {
    if (
      username === null ||
      username.trim() === '' ||
      username.length > 255 ||
      /[\s\p{Cc}]/u.test(username.trim())
    ) {
      throw scimErrors.invalid('A username must be provided: 1 to 255 characters, no spaces.');
    }
    changes.username = username.trim();
  } else if (full) {
    throw scimErrors.invalid('A username must be provided.');
  }
  const emails = optionalArray(body, 'emails');
  if (emails !== undefined) {
    const primary = emails.find((e) => e.primary === true) ?? emails[0];
    const value = primary?.value;
    if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+$|^[^\s@]+$/.test(value)) {
      throw scimErrors.invalid('An email must be provided.');
    }
    changes.email = value;
  } else if (full) {
    throw scimErrors.invalid('An email must be provided.');
  }
  const name = optionalObject(body, 'name');
  if (name) {
    const given = optionalString(name, 'givenName');
    const family = optionalString(name, 'familyName');
    if (given !== undefined) changes.givenName = given;
    if (family !== undefined) changes.familyName = family;
  }
  const phones = optionalArray(body, 'phoneNumbers');
  if (phones !== undefined) {
    const value = phones[0]?.value;
    if (value !== undefined && typeof value !== 'string')
      throw scimErrors.invalid('phoneNumbers[].value must be a string');
    changes.phoneNumber = (value as string | undefined) ?? null;
  }
  const externalId = optionalString(body, 'externalId');
  if (externalId !== undefined) changes.externalId = externalId;
  const active = optionalBoolean(body, 'active');
  if (active !== undefined) changes.active = active;
  const verified = optionalBoolean(body, 'verified');
  if (verified !== undefined) changes.verified = verified;
  return changes;
}

/** PATCH's `meta.attributes`: names of attributes to clear. */
function attributesToRemove(body: Record<string, unknown>): Set<string> {
  const meta = optionalObject(body, 'meta');
  const list = meta?.attributes;
  if (list === undefined) return new Set();
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string'))
    throw scimErrors.invalid('meta.attributes must be a list of names');
  return new Set((list as string[]).map((a) => a.toLowerCase()));
}

function applyAttributeRemoval(body: Record<string, unknown>, changes: UserChanges): void {
  for (const name of attributesToRemove(body)) {
    if (name === 'externalid') changes.externalId = null;
    else if (name === 'name' || name === 'name.givenname') changes.givenName = null;
    if (name === 'name' || name === 'name.familyname') changes.familyName = null;
    if (name === 'phonenumbers') changes.phoneNumber = null;
  }
}

function requiredDisplayName(body: Record<string, unknown>): string {
  const name = optionalString(body, 'displayName');
  if (!name || name.trim() === '') throw scimErrors.invalid('A group must have a displayName');
  if (/\s/.test(name) || name.includes('*'))
    throw scimErrors.invalid('A group displayName may not contain spaces or wildcards');
  return name;
}

interface MemberInput {
  id: string;
  type: MemberType;
  origin: string;
  operation?: string;
}

function memberList(body: Record<string, unknown>): MemberInput[] {
  return (optionalArray(body, 'members') ?? []).map((m) => {
    const id = m.value;
    const type = (m.type ?? 'USER') as string;
    if (typeof id !== 'string' || id === '')
      throw scimErrors.invalid('A group member must have a value (the member id)');
    if (type !== MemberType.USER && type !== MemberType.GROUP)
      throw scimErrors.invalid(`Invalid member type: ${type}`);
    const origin = typeof m.origin === 'string' ? m.origin : UAA_ORIGIN;
    return { id, type, origin, ...(typeof m.operation === 'string' ? { operation: m.operation } : {}) };
  });
}

async function addMembers(tx: Queryable, groupId: string, members: MemberInput[], now: Date): Promise<void> {
  for (const member of members) {
    const exists =
      member.type === MemberType.USER
        ? await findUserById(tx, member.id)
        : await findGroupById(tx, member.id);
    if (!exists)
      throw scimErrors.invalid(
        `Invalid group member: ${member.id} is not an existing ${member.type.toLowerCase()}`,
      );
    if (member.type === MemberType.GROUP && member.id === groupId)
      throw scimErrors.invalid('A group cannot be a member of itself');
    await addMember(tx, groupId, member, now);
  }
}

async function userResource(q: Queryable, user: UserRow): Promise<Record<string, unknown>> {
  const groups = await groupsOfMember(q, user.id);
  return {
    id: user.id,
    ...(user.external_id !== null ? { externalId: user.external_id } : {}),
    meta: { version: user.version, created: iso(user.created), lastModified: iso(user.last_modified) },
    userName: user.username,
    name: {
      ...(user.family_name !== null ? { familyName: user.family_name } : {}),
      ...(user.given_name !== null ? { givenName: user.given_name } : {}),
    },
    emails: [{ value: user.email, primary: false }],
    ...(user.phone_number !== null ? { phoneNumbers: [{ value: user.phone_number }] } : {}),
    groups: groups.map((g) => ({ value: g.id, display: g.display_name, type: g.type })),
    approvals: [],
    active: user.active,
    verified: user.verified,
    origin: user.origin,
    zoneId: UAA_ZONE_ID,
    ...(user.password_last_modified ? { passwordLastModified: iso(user.password_last_modified) } : {}),
    ...(user.last_logon_time ? { lastLogonTime: user.last_logon_time.getTime() } : {}),
    ...(user.previous_logon_time ? { previousLogonTime: user.previous_logon_time.getTime() } : {}),
    schemas: SCIM_SCHEMAS,
  };
}

function groupResource(group: GroupRow, members: MemberRow[]): Record<string, unknown> {
  return {
    id: group.id,
    meta: { version: group.version, created: iso(group.created), lastModified: iso(group.last_modified) },
    displayName: group.display_name,
    zoneId: UAA_ZONE_ID,
    ...(group.description !== null ? { description: group.description } : {}),
    members: members.filter((m) => m.group_id === group.id).map(memberResource),
    schemas: SCIM_SCHEMAS,
  };
}

function memberResource(member: MemberRow): Record<string, unknown> {
  return { origin: member.origin, type: member.member_type, value: member.member_id };
}
