import { ConflictError, InputError, InternalError, NotFoundError, isPksError } from '@openpks/domain';

/** The exit codes ODB reads from a service adapter (on-demand-services-sdk `serviceadapter`). */
export const AdapterExitCode = {
  OK: 0,
  ERROR: 1,
  NOT_IMPLEMENTED: 10,
  BINDING_NOT_FOUND: 41,
  APP_GUID_NOT_PROVIDED: 42,
  BINDING_ALREADY_EXISTS: 49,
} as const;
export type AdapterExitCode = (typeof AdapterExitCode)[keyof typeof AdapterExitCode];

/** The adapter declines a subcommand for this input; ODB then carries on without (e.g. no dashboard). */
export class NotImplementedError extends InternalError {}

export class BindingNotFoundError extends NotFoundError {}

export class BindingAlreadyExistsError extends ConflictError {}

export class AppGuidNotProvidedError extends InputError {
  constructor() {
    super('bind_resource.app_guid', 'app_guid is a required parameter for an app binding');
  }
}

/** ODB's exit code for an error the adapter raised. */
export function adapterExitCodeOf(error: unknown): AdapterExitCode {
  if (error instanceof NotImplementedError) return AdapterExitCode.NOT_IMPLEMENTED;
  if (error instanceof BindingNotFoundError) return AdapterExitCode.BINDING_NOT_FOUND;
  if (error instanceof AppGuidNotProvidedError) return AdapterExitCode.APP_GUID_NOT_PROVIDED;
  if (error instanceof BindingAlreadyExistsError) return AdapterExitCode.BINDING_ALREADY_EXISTS;
  return AdapterExitCode.ERROR;
}

/** What ODB shows the end user (stdout on exit 1): our own messages; never internals of a crash. */
export function userMessageOf(error: unknown): string {
  if (isPksError(error) && !(error instanceof InternalError)) return error.message;
  return 'the service adapter failed; see the broker log';
}
