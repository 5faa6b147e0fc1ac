import { InputError } from '@openpks/domain';

/** PostgreSQL truncates identifiers (schema, channel names) longer than this many bytes. */
export const MAX_IDENTIFIER_LENGTH = 63;

/**
 * PostgreSQL's default NOTIFY payload limit is 8,000 bytes; we stop a little short so a message never
 * fails in the server after it passed our check.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const ALLOWED_IDENTIFIER = `lowercase letters, digits and _, starting with a letter or _, at most ${MAX_IDENTIFIER_LENGTH} characters`;

function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && name.length <= MAX_IDENTIFIER_LENGTH;
}

/** Double-quotes an identifier for SQL text (callers validate it first; quoting keeps reserved words safe). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A `LISTEN/NOTIFY` channel name: a lowercase identifier, so it means the same quoted or unquoted. */
export function validateChannel(channel: string): string {
  if (typeof channel !== 'string' || !isIdentifier(channel)) {
    throw new InputError('channel', `invalid channel name ${JSON.stringify(channel)}`, {
      allowed: ALLOWED_IDENTIFIER,
    });
  }
  return channel;
}

export function validatePayload(payload: string): string {
  if (typeof payload !== 'string') {
    throw new InputError('payload', 'a notification payload must be a string');
  }
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) {
    throw new InputError('payload', `notification payload is ${bytes} bytes, over the limit`, {
      allowed: `at most ${MAX_NOTIFY_PAYLOAD_BYTES} bytes (UTF-8); send an id and read the rest from a table`,
    });
  }
  return payload;
}

/** A component's schema name (`uaa`, `api`, `broker`, `director`, `nsx`). */
export function validateSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !isIdentifier(schema) || schema.startsWith('pg_')) {
    throw new InputError('schema', `invalid schema name ${JSON.stringify(schema)}`, {
      allowed: `${ALLOWED_IDENTIFIER}, not starting with pg_`,
    });
  }
  return schema;
}

/** A table name, optionally schema-qualified (`director.tasks`), returned quoted for SQL text. */
export function quoteTableName(table: string): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every(isIdentifier)) {
    throw new InputError('table', `invalid table name ${JSON.stringify(table)}`, {
      allowed: `a table name or schema.table, each part ${ALLOWED_IDENTIFIER}`,
    });
  }
  return parts.map(quoteIdentifier).join('.');
}
