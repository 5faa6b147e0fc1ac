/**
 * Ways a task stops that are not failures of the work itself. The event log does not mark a stage task
 * `failed` for these: the work was cut short, and the resumed task (or the cancel) tells the rest.
 */
export class TaskCancelled extends Error {
  constructor() {
    super('Task was cancelled');
  }
}

export class Interrupted extends Error {
  constructor() {
    super('the director is stopping');
  }
}

/** This director's lease on the task ran out and another director took it over. */
export class LeaseLost extends Error {
  constructor() {
    super('the task lease was lost to another director');
  }
}

export function isInterruption(error: unknown): boolean {
  return error instanceof Interrupted || error instanceof TaskCancelled || error instanceof LeaseLost;
}
