/**
 * The typed error hierarchy every openpks component throws. Each error carries a stable `code`; the
 * transports map codes in exactly one place each (GraphQL extensions, HTTP status, CLI exit code) through
 * the tables at the bottom of this file.
 */

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface PksErrorOptions {
  cause?: unknown;
  /** Machine-readable details that transports may expose (never secrets). */
  details?: Record<string, unknown>;
}

export abstract class PksError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: PksErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

export interface InputErrorOptions extends PksErrorOptions {
  /** What is allowed instead, in words a user understands ("1 to 10", "small, medium, large"). */
  allowed?: string;
}

/** Bad input: names the offending field (a dotted path such as `plans.small.worker_instances`). */
export class InputError extends PksError {
  readonly code = ErrorCode.BAD_USER_INPUT;
  readonly field: string | undefined;
  readonly allowed: string | undefined;

  constructor(field: string | undefined, message: string, options: InputErrorOptions = {}) {
    super(message, options);
    this.field = field;
    this.allowed = options.allowed;
  }
}

export class NotFoundError extends PksError {
  readonly code = ErrorCode.NOT_FOUND;
}

export class ConflictError extends PksError {
  readonly code = ErrorCode.CONFLICT;
}

export class ForbiddenError extends PksError {
  readonly code = ErrorCode.FORBIDDEN;
}

export class UnauthenticatedError extends PksError {
  readonly code = ErrorCode.UNAUTHENTICATED;
}

export class QuotaExceededError extends PksError {
  readonly code = ErrorCode.QUOTA_EXCEEDED;
}

/** Something that should not happen; the message is for operators, transports show a generic one. */
export class InternalError extends PksError {
  readonly code = ErrorCode.INTERNAL;
}

/** Several input errors at once, so a form or a config file reports every bad field in one pass. */
export class InputErrors extends PksError {
  readonly code = ErrorCode.BAD_USER_INPUT;
  readonly errors: readonly InputError[];

  constructor(errors: readonly InputError[], summary?: string) {
    super(summary ?? errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('\n'));
    this.errors = errors;
  }
}

export function isPksError(error: unknown): error is PksError {
  return error instanceof PksError;
}

/** Stops on a broken assumption of our own (never on user input: use InputError for that). */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InternalError(`invariant violated: ${message}`);
}

/** HTTP status for each code: the one table REST-style transports use. */
export const httpStatusByCode: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  QUOTA_EXCEEDED: 422,
  INTERNAL: 500,
};

/** CLI exit codes: 0 ok, 1 a failed operation, 2 a usage error (PKS CLI convention). */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeOf(error: unknown): ExitCode {
  return isPksError(error) && error.code === ErrorCode.BAD_USER_INPUT ? ExitCode.USAGE : ExitCode.FAILURE;
}

export function httpStatusOf(error: unknown): number {
  return isPksError(error) ? httpStatusByCode[error.code] : 500;
}

/** The `extensions` a GraphQL error carries: the code, and for bad input the field and what is allowed. */
export function errorExtensionsOf(error: unknown): Record<string, unknown> {
  if (!isPksError(error)) return { code: ErrorCode.INTERNAL };
  // Details are machine-readable by contract (the field a conflict is about, the clusters using a
  // profile): clients such as the console put the message on the right field with them.
  const extensions: Record<string, unknown> = { ...error.details, code: error.code };
  if (error instanceof InputError) {
    if (error.field !== undefined) extensions.field = error.field;
    if (error.allowed !== undefined) extensions.allowed = error.allowed;
  }
  if (error instanceof InputErrors) {
    extensions.fields = error.errors.map((e) => ({ field: e.field, message: e.message, allowed: e.allowed }));
  }
  return extensions;
}
