import { describeInputError, exitCodeOf, ExitCode, type BadInput } from '@openpks/domain';

/**
 * The CLI's failures, each with the exit code DESIGN §6 gives it through the domain's one table: 1 for a
 * failed operation, 2 for a usage mistake or bad input. Messages are PKS's words; the runner prints them
 * as `Error: <message>` on stderr, one `Error:` line per line of the message.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = ExitCode.FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/**
 * Bad input, found by the CLI itself or by the API: one line per bad field in the domain's rule
 * (`<field>: <reason> (allowed: …)`), the field named as the user typed it (`--num-nodes`, `<name>`, or
 * the key path in their profile file such as `parameters.lb_size`).
 */
export class BadInputError extends CliError {
  readonly inputs: readonly BadInput[];

  constructor(inputs: readonly BadInput[]) {
    super(inputs.map(describeInputError).join('\n'), exitCodeOf('BAD_USER_INPUT'));
    this.inputs = inputs;
  }
}

/** How a command names the API's input fields: what the user typed for each (`numNodes` → `--num-nodes`). */
export type FieldNames = Readonly<Record<string, string>>;

/** The name a user knows a field by; a field the command does not map keeps the API's path. */
export function userFieldOf(field: string | undefined, names: FieldNames): string | undefined {
  return field === undefined ? undefined : (names[field] ?? field);
}

/** PKS 1.6 says this for a missing scope and for an exceeded quota alike (PKS-REFERENCE §1). */
export const PRIVILEGES_MESSAGE =
  'You do not have enough privileges to perform this action. Please contact the PKS administrator.';

export const NOT_LOGGED_IN_MESSAGE = "You are not currently logged in. Please log in with 'pks login'.";

/**
 * Commander's own usage errors (a required flag or argument left out, an unknown flag) re-said in the
 * bad-input rule, so they read like every other: `--external-hostname: is required`.
 */
export function describeUsageError(commanderMessage: string): string {
  const [first = '', ...more] = commanderMessage
    .replace(/^error: /, '')
    .trim()
    .split('\n');
  const suggestion = /^\(Did you mean (.+)\?\)$/.exec(more.join(' ').trim())?.[1];
  const longFlag = (flags: string) => /--[\w-]+/.exec(flags)?.[0] ?? flags.split(/[ ,]/)[0]!;
  const said = (field: string, reason: string) =>
    describeInputError({ field, reason: suggestion ? `${reason}; did you mean ${suggestion}?` : reason });
  let m: RegExpExecArray | null;
  if ((m = /^required option '(.+)' not specified$/.exec(first))) return said(longFlag(m[1]!), 'is required');
  if ((m = /^option '(.+)' argument missing$/.exec(first))) return said(longFlag(m[1]!), 'needs a value');
  if ((m = /^missing required argument '(.+)'$/.exec(first))) return said(`<${m[1]}>`, 'is required');
  if ((m = /^unknown option '(.+)'$/.exec(first))) return said(m[1]!, 'is not an option of this command');
  if ((m = /^unknown command '(.+)'$/.exec(first)))
    return said('<command>', `"${m[1]}" is not a pks command`);
  return [first, ...more].join(' ');
}
