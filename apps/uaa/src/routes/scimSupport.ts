import type { IncomingMessage } from 'node:http';
import { InputError } from '@openpks/domain';
import { scimError, scimErrors, UaaError } from '../errors.js';
import {
  INVALID_FILTER_ERROR,
  invalidFilterDescription,
  parseScimFilter,
  parseScimSortBy,
  scimFilterToSql,
  type ScimAttribute,
} from '../scim/filter.js';

export const SCIM_SCHEMAS = ['urn:scim:schemas:core:1.0'];
const MAX_COUNT = 500;

export interface ListQuery {
  where: string;
  params: unknown[];
  order: string;
  offset: number;
  limit: number;
  startIndex: number;
  attributes: string[] | undefined;
}

function positiveInteger(value: string | null, name: string, fallback: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw scimError(400, 'invalid_request', `${name} must be a whole number, not ${JSON.stringify(value)}`);
  return n;
}

/** `filter`, `sortBy`, `sortOrder`, `startIndex`, `count`, `attributes` of a SCIM list request. */
export function listQuery(url: URL, attributes: Record<string, ScimAttribute>): ListQuery {
  const q = url.searchParams;
  const filterText = q.get('filter') ?? '';
  const sortBy = q.get('sortBy') ?? 'created';
  let where = 'true';
  let params: unknown[] = [];
  let order: string;
  try {
    if (filterText.trim() !== '') {
      ({ sql: where, params } = scimFilterToSql(parseScimFilter(filterText), attributes, 1));
    }
    order = parseScimSortBy(sortBy, attributes) ?? parseScimSortBy('created', attributes)!;
  } catch (error) {
    if (error instanceof InputError) {
      const description = invalidFilterDescription(filterText, sortBy);
      throw scimError(400, INVALID_FILTER_ERROR, description, { detail: error.message });
    }
    throw error;
  }
  const sortOrder = (q.get('sortOrder') ?? 'ascending').toLowerCase();
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') {
    throw scimError(
      400,
      'invalid_request',
      `sortOrder must be ascending or descending, not ${JSON.stringify(sortOrder)}`,
    );
  }
  const startIndex = Math.max(1, positiveInteger(q.get('startIndex'), 'startIndex', 1));
  const count = Math.min(MAX_COUNT, Math.max(0, positiveInteger(q.get('count'), 'count', 100)));
  const attributesParam = q.get('attributes');
  return {
    where: `(${where})`,
    params,
    order: `${order} ${sortOrder === 'descending' ? 'DESC' : 'ASC'}`,
    offset: startIndex - 1,
    limit: count,
    startIndex,
    attributes: attributesParam
      ? attributesParam
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : undefined,
  };
}

/** Keeps only the requested attributes (case-insensitive top-level names), as `attributes=` asks. */
export function project(
  resource: Record<string, unknown>,
  attributes: string[] | undefined,
): Record<string, unknown> {
  if (!attributes) return resource;
  const wanted = new Set(attributes.map((a) => a.toLowerCase().split('.')[0]!));
  return Object.fromEntries(Object.entries(resource).filter(([key]) => wanted.has(key.toLowerCase())));
}

export function listResponse(
  resources: unknown[],
  startIndex: number,
  total: number,
): Record<string, unknown> {
  return {
    resources,
    startIndex,
    itemsPerPage: resources.length,
    totalResults: total,
    schemas: SCIM_SCHEMAS,
  };
}

/** The `If-Match` version: a number, `*` (any), or missing (undefined). Quotes and `W/` are tolerated. */
export function ifMatch(req: IncomingMessage): number | '*' | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  const value = header.replace(/^W\//, '').replace(/"/g, '').trim();
  if (value === '*') return '*';
  const n = Number(value);
  if (value === '' || !Number.isInteger(n))
    throw scimError(400, 'invalid_request', `Invalid If-Match header: ${header}`);
  return n;
}

export function requireIfMatch(req: IncomingMessage, method: string): number | '*' {
  const version = ifMatch(req);
  if (version === undefined) throw scimErrors.missingIfMatch(method);
  return version;
}

export function checkVersion(expected: number | '*' | undefined, actual: number): void {
  if (expected !== undefined && expected !== '*' && expected !== actual) throw scimErrors.versionMismatch();
}

export function etag(version: number): Record<string, string> {
  return { ETag: `"${version}"` };
}

// Field readers: SCIM bodies come from clients, so every field is checked before use.

export function optionalString(body: Record<string, unknown>, field: string): string | null | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') throw scimErrors.invalid(`${field} must be a string`);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw scimErrors.invalid(`${field} must be true or false`);
  return value;
}

export function optionalObject(
  body: Record<string, unknown>,
  field: string,
): Record<string, unknown> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw scimErrors.invalid(`${field} must be an object`);
  return value as Record<string, unknown>;
}

export function optionalArray(
  body: Record<string, unknown>,
  field: string,
): Record<string, unknown>[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
  ) {
    throw scimErrors.invalid(`${field} must be an array of objects`);
  }
  return value as Record<string, unknown>[];
}

export function iso(date: Date | null): string | undefined {
  return date ? date.toISOString() : undefined;
}

export { UaaError };
