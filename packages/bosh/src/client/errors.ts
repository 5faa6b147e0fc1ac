import { ErrorCode, PksError } from '@openpks/domain';
import type { DirectorTask } from '../protocol/types.js';

/**
 * A Director task that ended in anything but `done` (error, cancelled, timeout). Carries the task and the
 * error the event log reported, so callers can show BOSH's message (a CPI's, a manifest field's).
 */
export class DirectorTaskError extends PksError {
  readonly code = ErrorCode.INTERNAL;

  constructor(
    readonly task: DirectorTask,
    message?: string,
  ) {
    super(message ?? `Director task ${task.id} ended ${task.state}: ${task.result ?? 'no result'}`, {
      details: { taskId: task.id, state: task.state },
    });
  }
}
