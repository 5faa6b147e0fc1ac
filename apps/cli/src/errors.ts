/**
 * The CLI's failures, each with the exit code DESIGN §6 gives it: 1 for a failed operation, 2 for a usage
 * mistake. Messages are PKS's words; the runner prints them as `Error: <message>` on stderr.
 */
export class CliError extends Error {
  readonly exitCode: number = 1;
}

export class UsageError extends CliError {
  override readonly exitCode = 2;
}

/** PKS 1.6 says this for a missing scope and for an exceeded quota alike (PKS-REFERENCE §1). */
export const PRIVILEGES_MESSAGE =
  'You do not have enough privileges to perform this action. Please contact the PKS administrator.';

export const NOT_LOGGED_IN_MESSAGE = "You are not currently logged in. Please log in with 'pks login'.";
