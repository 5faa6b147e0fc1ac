import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';
import { textParameter } from './parameters.js';

export { textParameter };

interface DatabaseError extends Error {
  name: 'error';
  code?: string;
}

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
  statements?: PreparedStatements,
): Promise<Results<Record<string, unknown>>> {
  const values = (params ?? []).map((value) => textParameter(value));
  const prepared = statements?.nameOf(sql);
  const parts: Uint8Array[] = [];
  if (prepared === undefined || prepared.fresh) {
    parts.push(protocol.serialize.parse({ text: sql, ...(prepared ? { name: prepared.name } : {}) }));
  }
  parts.push(
    protocol.serialize.bind({ values, ...(prepared ? { statement: prepared.name } : {}) }),
    protocol.serialize.describe({ type: 'P' }),
    protocol.serialize.execute({}),
    protocol.serialize.sync(),
  );
  // Outside a transaction a statement is durable once it returns (PGlite's own rule for a directory).
  const { messages } = await pglite.execProtocol(concat(parts), {
    syncToFs: !inTransaction,
    throwOnError: false,
  });
  const failure = messages.find((m) => m.name === 'error') as DatabaseError | undefined;
  if (failure === undefined) {
    return parse.parseResults(messages, pglite.parsers)[0] as Results<Record<string, unknown>>;
  }
  if (prepared !== undefined) {
    // A statement that failed to parse was never created; one whose plan went stale is made again.
    if (prepared.fresh && !messages.some((m) => m.name === 'parseComplete')) statements!.drop(sql);
    if (STALE_STATEMENT.has(failure.code ?? '')) {
      statements!.forgetAll();
      // Outside a transaction the failure changed nothing: run it again, parsed afresh.
      if (!inTransaction) return runStatement(pglite, sql, params, inTransaction);
    }
  }
  throw failure;
}

/**
 * 0A000 "cached plan must not change result type" (a table's columns changed under a `SELECT *`), and
 * 26000 "prepared statement does not exist" (something deallocated it).
 */
const STALE_STATEMENT = new Set(['0A000', '26000']);

let instances = 0;

/**
 * Named prepared statements of one PGlite session, by SQL text: a statement run again skips PostgreSQL's
 * parse and plan and is one Bind/Execute (a repeated select ~250 -> ~120 us). Bounded: past `max`
 * distinct texts, statements run unnamed. Names carry a per-instance prefix, so two wrappers of one
 * PGlite never collide; `forgetAll` (with a DEALLOCATE ALL by the caller) after DDL, since a statement
 * keeps the search_path it was prepared under.
 */
export class PreparedStatements {
  readonly #prefix = `openpks_${(instances++).toString(36)}_`;
  readonly #names = new Map<string, string>();
  #counter = 0;

  constructor(readonly max = 1_000) {}

  nameOf(sql: string): { name: string; fresh: boolean } | undefined {
    const known = this.#names.get(sql);
    if (known !== undefined) return { name: known, fresh: false };
    if (this.#names.size >= this.max) return undefined;
    const name = `${this.#prefix}${(this.#counter++).toString(36)}`;
    this.#names.set(sql, name);
    return { name, fresh: true };
  }

  drop(sql: string): void {
    this.#names.delete(sql);
  }

  forgetAll(): void {
    this.#names.clear();
  }

  get size(): number {
    return this.#names.size;
  }
}

/** SQL as a simple query (several statements allowed, no parameters), as PGlite's exec() sends it. */
export async function runScript(pglite: PGlite, sql: string, inTransaction: boolean): Promise<void> {
  await pglite.execProtocol(protocol.serialize.query(sql), { syncToFs: !inTransaction });
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
