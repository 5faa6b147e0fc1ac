import { InputError } from '@openpks/domain';

/** JSON with sorted keys: equal requests hash equal whatever order the platform wrote them in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new InputError(field, `${field} is required`);
  return value;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What makes two provisions the same request: the ids, the org and space, and the parameters. */
export function provisionRequestHash(body: Record<string, unknown>): string {
  return stableJson({
    service_id: body.service_id,
    plan_id: body.plan_id,
    organization_guid: body.organization_guid,
    space_guid: body.space_guid,
    parameters: isObject(body.parameters) ? body.parameters : {},
  });
}

/**
 * What makes two updates the same request. Counted: what the update asks for — the plan, the parameters,
 * `maintenance_info` (an upgrade is an update with it) and `context` (a platform may send an update that
 * only changes the context). Not counted: `previous_values`, the platform's view of the instance before
 * the request, which describes no change; and the originating identity, which says who asked, not what
 * (a platform re-sending a request for another user sends the same request). An absent `plan_id` or
 * `parameters` means the current plan and no parameter changes, as OSB reads them.
 */
export function updateRequestHash(body: Record<string, unknown>, planId: string): string {
  return stableJson({
    service_id: body.service_id,
    plan_id: planId,
    parameters: isObject(body.parameters) ? body.parameters : {},
    maintenance_info: body.maintenance_info ?? null,
    context: body.context ?? null,
  });
}
