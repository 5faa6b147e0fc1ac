import type { DirectorEventInput } from './store/eventStore.js';
import { isInterruption, TaskCancelled } from './interruptions.js';
import type { TaskContext } from './runner.js';

/**
 * Runs a task's change between a start event and an end event (its parent the start, its error the
 * failure), as BOSH's jobs record deploys, deletes and errands. A resumed task keeps the start event it
 * recorded before (its id is in the checkpoint); a task stopped by a director restart records no end
 * (the director that resumes it does).
 */
export async function withEvents<T>(
  context: TaskContext,
  start: Omit<DirectorEventInput, 'user' | 'task' | 'parentId' | 'error'>,
  run: () => Promise<T>,
  /** What the end event says of a change that succeeded (BOSH: a deploy's releases and stemcells before and after). */
  endContext?: Record<string, unknown>,
): Promise<T> {
  const { task } = context;
  const known = Number(task.checkpoint?.startEventId);
  const resumed = Number.isInteger(known) && known > 0;
  // The action recorded at the start stands (a resumed deploy finds the deployment it began creating).
  const action =
    resumed && typeof task.checkpoint.startEventAction === 'string'
      ? task.checkpoint.startEventAction
      : start.action;
  const base = { ...start, action, user: task.username, task: task.id };
  const parentId = resumed ? known : await context.event(base);
  // An end event that cannot be written is said in the debug log: it must not turn done work into a failure.
  const unrecorded = (failure: unknown) =>
    context
      .debug(`could not record the end event of ${action} ${start.objectType}: ${String(failure)}`)
      .catch(() => undefined);
  let value: T;
  try {
    if (!resumed) await context.checkpoint({ startEventId: parentId, startEventAction: action });
    value = await run();
  } catch (error) {
    if (!isInterruption(error) || error instanceof TaskCancelled) {
      const message = error instanceof Error ? error.message : String(error);
      // Not waited for: the task's end writes it, before the task's state.
      context.event({ ...base, parentId, error: message }, false).catch(unrecorded);
    }
    throw error;
  }
  context
    .event({ ...base, parentId, ...(endContext ? { context: endContext } : {}) }, false)
    .catch(unrecorded);
  return value;
}
