import { randomUUID } from 'node:crypto';
import type { Queryable } from '@openpks/db';
import type { ScimAttribute } from '../scim/filter.js';
import { isUuid } from './users.js';
import { countMatching, pageMatching } from './scimQuery.js';

export interface GroupRow {
  id: string;
  display_name: string;
  description: string | null;
  version: number;
  created: Date;
  last_modified: Date;
}

export const MemberType = { USER: 'USER', GROUP: 'GROUP' } as const;
export type MemberType = (typeof MemberType)[keyof typeof MemberType];

export interface MemberRow {
  group_id: string;
  member_id: string;
  member_type: MemberType;
  origin: string;
}

export const GROUP_FILTER_ATTRIBUTES = {
  id: { column: 'g.id::text', type: 'string' },
  displayname: { column: 'g.display_name', type: 'string' },
  description: { column: 'g.description', type: 'string' },
  'meta.created': { column: 'g.created', type: 'timestamp' },
  created: { column: 'g.created', type: 'timestamp' },
  'meta.lastmodified': { column: 'g.last_modified', type: 'timestamp' },
  lastmodified: { column: 'g.last_modified', type: 'timestamp' },
  'meta.version': { column: 'g.version', type: 'number' },
} as const satisfies Record<string, ScimAttribute>;

export async function insertGroup(
  q: Queryable,
  group: { displayName: string; description?: string | null },
  now: Date,
): Promise<GroupRow> {
  const { rows } = await q.query<GroupRow>(
    `INSERT INTO uaa.groups (id, display_name, description, version, created, last_modified)
     VALUES ($1, $2, $3, 0, $4, $4) RETURNING *`,
    [randomUUID(), group.displayName, group.description ?? null, now],
  );
  return rows[0]!;
}

export async function findGroupById(
  q: Queryable,
  id: string,
  { lock = false } = {},
): Promise<GroupRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await q.query<GroupRow>(
    `SELECT * FROM uaa.groups WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function findGroupByName(
  q: Queryable,
  name: string,
  { lock = false } = {},
): Promise<GroupRow | undefined> {
  const { rows } = await q.query<GroupRow>(
    `SELECT * FROM uaa.groups WHERE lower(display_name) = lower($1)${lock ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0];
}

export async function updateGroup(
  q: Queryable,
  id: string,
  changes: { displayName?: string; description?: string | null },
  now: Date,
): Promise<GroupRow> {
  const { rows } = await q.query<GroupRow>(
    `UPDATE uaa.groups SET display_name = coalesce($2, display_name),
       description = CASE WHEN $3::boolean THEN $4 ELSE description END,
       version = version + 1, last_modified = $5 WHERE id = $1 RETURNING *`,
    [id, changes.displayName ?? null, changes.description !== undefined, changes.description ?? null, now],
  );
  return rows[0]!;
}

/** A membership change is a change of the group: its version moves so `If-Match` sees it. */
export async function touchGroup(q: Queryable, id: string, now: Date): Promise<void> {
  await q.query(`UPDATE uaa.groups SET version = version + 1, last_modified = $2 WHERE id = $1`, [id, now]);
}

export async function deleteGroup(q: Queryable, id: string): Promise<void> {
  await q.query(`DELETE FROM uaa.group_members WHERE member_id = $1`, [id]);
  await q.query(`DELETE FROM uaa.groups WHERE id = $1`, [id]);
}

export function countGroups(q: Queryable, where: string, params: readonly unknown[]): Promise<number> {
  return countMatching(q, 'uaa.groups g', where, params);
}

export function listGroups(
  q: Queryable,
  where: string,
  params: readonly unknown[],
  order: string,
  offset: number,
  limit: number,
): Promise<GroupRow[]> {
  return pageMatching<GroupRow>(q, 'uaa.groups g', 'g', { where, params, order, offset, limit });
}

export async function listMembers(q: Queryable, groupIds: readonly string[]): Promise<MemberRow[]> {
  if (groupIds.length === 0) return [];
  const { rows } = await q.query<MemberRow>(
    `SELECT group_id, member_id, member_type, origin FROM uaa.group_members WHERE group_id = ANY($1::uuid[])
     ORDER BY added, member_id`,
    [groupIds],
  );
  return rows;
}

export async function findMember(
  q: Queryable,
  groupId: string,
  memberId: string,
): Promise<MemberRow | undefined> {
  if (!isUuid(memberId)) return undefined;
  const { rows } = await q.query<MemberRow>(
    `SELECT group_id, member_id, member_type, origin FROM uaa.group_members WHERE group_id = $1 AND member_id = $2`,
    [groupId, memberId],
  );
  return rows[0];
}

/** Adds a membership; returns false when it was already there. */
export async function addMember(
  q: Queryable,
  groupId: string,
  member: { id: string; type: MemberType; origin: string },
  now: Date,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO uaa.group_members (group_id, member_id, member_type, origin, added) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [groupId, member.id, member.type, member.origin, now],
  );
  return rowCount > 0;
}

export async function removeMember(q: Queryable, groupId: string, memberId: string): Promise<boolean> {
  const { rowCount } = await q.query(`DELETE FROM uaa.group_members WHERE group_id = $1 AND member_id = $2`, [
    groupId,
    memberId,
  ]);
  return rowCount > 0;
}

export async function removeAllMembers(q: Queryable, groupId: string): Promise<void> {
  await q.query(`DELETE FROM uaa.group_members WHERE group_id = $1`, [groupId]);
}

export interface UserGroup {
  id: string;
  display_name: string;
  type: 'DIRECT' | 'INDIRECT';
}

/**
 * The groups of a user: direct memberships, and the groups those groups are members of (INDIRECT), as
 * UAA resolves nesting. Group names are the user's scopes.
 */
export async function groupsOfMember(q: Queryable, memberId: string): Promise<UserGroup[]> {
  const { rows } = await q.query<{ id: string; display_name: string; direct: boolean }>(
    `WITH RECURSIVE reach (group_id, direct, path) AS (
       SELECT group_id, true, ARRAY[group_id] FROM uaa.group_members WHERE member_id = $1
       UNION
       SELECT m.group_id, false, r.path || m.group_id FROM uaa.group_members m
         JOIN reach r ON m.member_id = r.group_id AND m.member_type = 'GROUP'
       WHERE NOT m.group_id = ANY(r.path)
     )
     SELECT g.id, g.display_name, bool_or(r.direct) AS direct
     FROM reach r JOIN uaa.groups g ON g.id = r.group_id
     GROUP BY g.id, g.display_name ORDER BY g.display_name`,
    [memberId],
  );
  return rows.map((row) => ({
    id: row.id,
    display_name: row.display_name,
    type: row.direct ? 'DIRECT' : 'INDIRECT',
  }));
}
