import { InternalError } from '@openpks/domain';

/**
 * The messages between a `WorkerDatabase` (the caller's thread) and the PGlite worker
 * (`pgliteWorker.ts`). Requests carry an id the reply repeats; statements of a transaction carry the
 * transaction's id, which the worker maps to the `tx` its held transaction gave it.
 */
export type WorkerRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[]; tx?: number | undefined }
  | { id: number; op: 'exec'; sql: string; tx?: number | undefined }
  | { id: number; op: 'begin'; tx: number }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; channel: string }
  | { id: number; op: 'close' }
  /** A full garbage collection in the worker's isolate, where the process runs with --expose-gc. */
  | { id: number; op: 'collectGarbage' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: SerializedError }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'notification'; channel: string; payload: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> };

export interface WorkerOptions {
  /** As `openPGlite`'s: a directory, `memory://` or undefined. */
  dataDir: string | undefined;
}

/**
 * An error as it crosses the thread. Structured clone keeps an Error's message and stack but drops the
 * fields callers match on (a PostgreSQL error's `code`, `severity`, `detail`, `constraint`, `table`…)
 * and the class (`InternalError` for the closed and aborted-transaction errors), so both are sent
 * explicitly and rebuilt on the other side.
 */
export interface SerializedError {
  kind: 'internal' | 'other';
  name: string;
  message: string;
  stack?: string | undefined;
  /** Own enumerable fields with plain values: `code`, `severity`, `detail`, `constraint`, `details`… */
  fields: Record<string, unknown>;
  cause?: SerializedError | undefined;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { kind: 'other', name: 'Error', message: String(error), fields: {} };
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'cause' || key === 'stack' || key === 'message' || key === 'name') continue;
    if (isPlain(value)) fields[key] = value;
  }
  const cause: unknown = (error as { cause?: unknown }).cause;
  return {
    kind: error instanceof InternalError ? 'internal' : 'other',
    name: error.name,
    message: error.message,
    stack: error.stack,
    fields,
    cause: cause !== undefined && depth < 3 ? serializeError(cause, depth + 1) : undefined,
  };
}

export function deserializeError(serialized: SerializedError): Error {
  const cause = serialized.cause === undefined ? undefined : deserializeError(serialized.cause);
  let error: Error;
  if (serialized.kind === 'internal') {
    const details = serialized.fields.details;
    error = new InternalError(serialized.message, {
      cause,
      details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {},
    });
  } else {
    error = new Error(serialized.message, cause === undefined ? undefined : { cause });
    Object.assign(error, serialized.fields);
    error.name = serialized.name;
  }
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

/** Values structured clone copies faithfully (no functions, no class instances but Date and bytes). */
function isPlain(value: unknown, depth = 0): boolean {
  if (value === null || value === undefined) return true;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      if (depth > 4) return false;
      if (value instanceof Date || value instanceof Uint8Array) return true;
      if (Array.isArray(value)) return value.every((item) => isPlain(item, depth + 1));
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      return Object.values(value).every((item) => isPlain(item, depth + 1));
    default:
      return false;
  }
}
