import { isDate } from 'node:util/types';
import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';

/**
 * One statement in one call into PGlite: Parse, Bind, Describe, Execute and Sync sent together, the way
 * a PostgreSQL driver pipelines them over a socket. PGlite's own `query()` makes five calls into its
 * WebAssembly backend per statement (Parse, Describe statement, Bind, Describe portal, Execute, then
 * Sync), to learn the parameter types and serialise each parameter by type; at ~180 statements per
 * cluster create that protocol traffic was most of PGlite's share of the CPU (bench/ANALYSIS.md). Here
 * parameters are sent as text, untyped, and PostgreSQL infers their types from the statement, exactly as
 * node-postgres does on the PostgreSQL backend, so both backends take the same parameter values.
 *
 * The caller holds PGlite's locks (see `runStatement`); results are parsed by PGlite's own parser with
 * the instance's parsers, so rows are the same values `query()` returned.
 */
export async function runStatement(
  pglite: PGlite,
  sql: string,
  params: readonly unknown[] | undefined,
  inTransaction: boolean,
): Promise<Results<Record<string, unknown>>> {
  const message = concat([
    protocol.serialize.parse({ text: sql }),
    protocol.serialize.bind({ values: (params ?? []).map((value) => textParameter(value)) }),
    protocol.serialize.describe({ type: 'P' }),
    protocol.serialize.execute({}),
    protocol.serialize.sync(),
  ]);
  // Outside a transaction a statement is durable once it returns (PGlite's own rule for a directory).
  const { messages } = await pglite.execProtocol(message, { syncToFs: !inTransaction });
  return parse.parseResults(messages, pglite.parsers)[0] as Results<Record<string, unknown>>;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * A parameter as node-postgres prepares it (its `prepareValue`): null for null and undefined, buffers
 * as they are (sent in binary), dates as ISO timestamps, arrays as array literals, other objects as
 * JSON, anything else as its string.
 */
export function textParameter(value: unknown): string | Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') {
    if (Buffer.isBuffer(value)) return value;
    if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (isDate(value)) return value.toISOString();
    if (Array.isArray(value)) return arrayLiteral(value);
    return JSON.stringify(value);
  }
  return String(value);
}

function arrayLiteral(values: readonly unknown[]): string {
  const items = values.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item);
    if (ArrayBuffer.isView(item)) {
      return `\\\\x${Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('hex')}`;
    }
    const text = textParameter(item) as string;
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}
