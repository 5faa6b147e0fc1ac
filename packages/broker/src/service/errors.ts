import { ConflictError, InputError, NotFoundError } from '@openpks/domain';

/** The platform must allow asynchronous work (`accepts_incomplete=true`) for this request. */
export class AsyncRequiredError extends InputError {
  constructor() {
    super(
      'accepts_incomplete',
      'This service plan requires client support for asynchronous service operations.',
    );
  }
}

/** Another operation is running on the instance (ODB's wording). */
export class ConcurrencyError extends ConflictError {
  constructor() {
    super('An operation is in progress for your service instance. Please try again later.');
  }
}

/** The request is well formed but asks for a change the broker does not support (plan or master count). */
export class UnprocessableError extends InputError {}

/** What the platform asks to delete does not exist (OSB 410 Gone). */
export class GoneError extends NotFoundError {}
