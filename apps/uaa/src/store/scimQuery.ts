import type { Queryable } from '@openpks/db';

/**
 * The two queries behind every SCIM list (`/Users`, `/Groups`): the total matching a filter, and one
 * page of it. `from` is trusted SQL naming the table and its alias (`uaa.users u`); `where` and `order`
 * come from the SCIM filter translation, whose values are all in `params`.
 */
export async function countMatching(
  q: Queryable,
  from: string,
  where: string,
  params: readonly unknown[],
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${from} WHERE ${where}`,
    params,
  );
  return rows[0]?.n ?? 0;
}

export async function pageMatching<R extends object>(
  q: Queryable,
  from: string,
  alias: string,
  page: { where: string; params: readonly unknown[]; order: string; offset: number; limit: number },
): Promise<R[]> {
  const { where, params, order, offset, limit } = page;
  const { rows } = await q.query<R>(
    `SELECT ${alias}.* FROM ${from} WHERE ${where} ORDER BY ${order}, ${alias}.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
    [...params, offset, limit],
  );
  return rows;
}
