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

/**
 * Bad input: names the offending field (a dotted path such as `plans.small.worker_instances`). `message` is
 * the reason alone, worded to follow the field ("\"huge\" is not allowed"); transports show the whole line
 * with `describeInputError`, so the field is never named twice.
 */
export class InputError extends PksError implements BadInput {
  readonly code = ErrorCode.BAD_USER_INPUT;
  readonly field: string | undefined;
  readonly allowed: string | undefined;

  constructor(field: string | undefined, message: string, options: InputErrorOptions = {}) {
    super(message, options);
    this.field = field;
    this.allowed = options.allowed;
  }

  get reason(): string {
    return this.message;
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
    super(summary ?? errors.map(describeInputError).join('\n'));
    this.errors = errors;
  }
}

/** Throws what a pass of checks found, if anything: the one InputError, or all of them as InputErrors. */
export function throwInputErrors(errors: readonly InputError[]): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
}

/**
 * Runs one check of a pass and keeps going when it fails on bad input: its InputError (or each of its
 * InputErrors) joins `errors` and the result is undefined. Other errors propagate. With
 * `throwInputErrors` afterwards, one answer names every bad field instead of only the first.
 */
export function collectInputErrors<T>(errors: InputError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError) errors.push(error);
    else if (error instanceof InputErrors) errors.push(...error.errors);
    else throw error;
    return undefined;
  }
}

/** One bad input as every transport carries it: where, why, and what would do instead. */
export interface BadInput {
  /** The dotted path of the field as the user gave it; undefined when no single field is to blame. */
  readonly field?: string | undefined;
  /** Why the value is refused, worded to follow the field name. */
  readonly reason: string;
  readonly allowed?: string | undefined;
}

/**
 * The one way a bad input is shown to a person, in GraphQL messages, the CLI and console forms alike:
 * `<field path>: <reason> (allowed: …)`, just the reason when no field is known, no parenthesis when
 * nothing is said to be allowed. A reason that already starts with its field is not prefixed again.
 */
export function describeInputError(input: BadInput): string {
  const { field, allowed } = input;
  let reason = input.reason;
  // Reasons written before the rule often start with their field ("port must be a number"): the field
  // is said once, at the front.
  if (field !== undefined && field !== '' && reason.startsWith(`${field}: `)) {
    reason = reason.slice(field.length + 2);
  } else if (field !== undefined && field !== '' && reason.startsWith(`${field} `)) {
    reason = reason.slice(field.length + 1);
  }
  if (allowed !== undefined && allowed !== '' && reason.endsWith(` (allowed: ${allowed})`)) {
    reason = reason.slice(0, -` (allowed: ${allowed})`.length);
  }
  const head = field !== undefined && field !== '' ? `${field}: ${reason}` : reason;
  return allowed !== undefined && allowed !== '' ? `${head} (allowed: ${allowed})` : head;
}

/** Every bad input an error reports, one entry per field: one for an InputError, each of InputErrors. */
export function badInputsOf(error: InputError | InputErrors): BadInput[] {
  const list = error instanceof InputErrors ? error.errors : [error];
  return list.map((e) => ({ field: e.field, reason: e.message, allowed: e.allowed }));
}

/** The lines a person is shown for bad input: one per field, in the order they were found. */
export function describeInputErrors(error: InputError | InputErrors): string {
  return badInputsOf(error).map(describeInputError).join('\n');
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

/** CLI exit codes: 0 ok, 1 a failed operation, 2 a usage error or bad input (DESIGN §6). */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for each code: the one table the CLI uses, for its own errors and for the API's. */
export const exitCodeByCode: Readonly<Record<ErrorCode, ExitCode>> = {
  BAD_USER_INPUT: ExitCode.USAGE,
  UNAUTHENTICATED: ExitCode.FAILURE,
  FORBIDDEN: ExitCode.FAILURE,
  NOT_FOUND: ExitCode.FAILURE,
  CONFLICT: ExitCode.FAILURE,
  QUOTA_EXCEEDED: ExitCode.FAILURE,
  INTERNAL: ExitCode.FAILURE,
};

/** The exit code for an error, or for an error code an API answered with (unknown codes are failures). */
export function exitCodeOf(error: unknown): ExitCode {
  const code = typeof error === 'string' ? error : isPksError(error) ? error.code : undefined;
  return code !== undefined && Object.hasOwn(exitCodeByCode, code)
    ? exitCodeByCode[code as ErrorCode]
    : ExitCode.FAILURE;
}

export function httpStatusOf(error: unknown): number {
  return isPksError(error) ? httpStatusByCode[error.code] : 500;
}

/**
 * The `extensions` a GraphQL error carries: the code; for bad input `fields` (one `{field, message,
 * allowed}` per bad field, `message` being the reason alone, so a client can name the field its own way)
 * and, for a single bad field, `field` and `allowed` as well.
 */
export function errorExtensionsOf(error: unknown): Record<string, unknown> {
  if (!isPksError(error)) return { code: ErrorCode.INTERNAL };
  // Details are machine-readable by contract (the field a conflict is about, the clusters using a
  // profile): clients such as the console put the message on the right field with them.
  const extensions: Record<string, unknown> = { ...error.details, code: error.code };
  if (error instanceof InputError) {
    if (error.field !== undefined) extensions.field = error.field;
    if (error.allowed !== undefined) extensions.allowed = error.allowed;
  }
  if (error instanceof InputError || error instanceof InputErrors) {
    extensions.fields = badInputsOf(error).map((e) => ({
      field: e.field,
      message: e.reason,
      allowed: e.allowed,
    }));
  }
  return extensions;
}
