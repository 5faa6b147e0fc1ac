import type { Cpi } from '../../cpi/cpi.js';
import { CpiError, CpiTimeoutError } from '../../cpi/cpi.js';
import { Interrupted, isInterruption } from '../interruptions.js';
import type { TaskContext } from '../runner.js';
import type { InstanceRow } from '../store/deploymentStore.js';

/** Runs `fn` over `items` with at most `limit` at once; every item runs, the first failure is rethrown after. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const interrupted = errors.find((e) => e instanceof Interrupted);
  if (interrupted) throw interrupted;
  if (errors.length > 0) throw errors[0];
}

/** An instance as BOSH's logs name it: `group/uuid (index)`. */
export function instanceName(row: { instance_group: string; uuid: string; index: number }): string {
  return `${row.instance_group}/${row.uuid} (${row.index})`;
}

/** What a CPI call answered, when it is a short fact worth a log line (a cid, yes or no). */
function cpiAnswer(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'boolean') return `: ${String(value)}`;
  if (Array.isArray(value) && typeof value[0] === 'string') return `: ${value[0]}`;
  return '';
}

/** An event that could not be written is said in the task's debug log rather than failing the work. */
async function unrecorded(
  context: TaskContext,
  event: { action: string; objectType: string },
  failure: unknown,
  which: 'start' | 'end' = 'end',
): Promise<void> {
  const reason = failure instanceof Error ? failure.message : String(failure);
  await context
    .debug(`could not record the ${which} event of ${event.action} ${event.objectType}: ${reason}`)
    .catch(() => undefined);
}

/**
 * How one step of a task touches the world: a CPI call (under the CPI timeout, into the task's CPI log),
 * and a change to an instance, VM or disk recorded in the Director's events.
 */
export class Steps {
  constructor(
    private readonly cpiImpl: Cpi,
    private readonly cpiTimeoutMs: number,
  ) {}

  /**
   * A CPI call with the CPI timeout. A stopping director does not abandon a call in flight (its result,
   * a VM, must be recorded or it leaks); it starts no new one, and stops at the next step.
   */
  async cpi<T>(context: TaskContext, method: string, call: (cpi: Cpi) => Promise<T>): Promise<T> {
    if (context.signal.aborted) throw new Interrupted();
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    try {
      const value = await Promise.race([
        call(this.cpiImpl),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CpiTimeoutError(method, this.cpiTimeoutMs)), this.cpiTimeoutMs);
        }),
      ]);
      // Not waited for: the line goes out with the task's next write.
      context
        .cpi(`[sim-cpi] ${method} ok in ${Date.now() - started} ms${cpiAnswer(value)}`)
        .catch(() => undefined);
      return value;
    } catch (error) {
      const failure =
        error instanceof CpiError
          ? error
          : new CpiError(method, 'Bosh::Clouds::CloudError', (error as Error).message);
      context
        .cpi(`[sim-cpi] ${method} failed in ${Date.now() - started} ms: ${failure.message}`)
        .catch(() => undefined);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Records a change to one instance, VM or disk as BOSH's event log does: an event when it starts and
   * one when it ends (the start its parent, the error if it failed, the name once it is known: a new
   * VM's cid). A step cut short by a stop or a cancel records no end: it did not finish or fail.
   */
  async recorded<T>(
    context: TaskContext,
    row: InstanceRow,
    event: { action: string; objectType: string; objectName?: string | null },
    run: () => Promise<T>,
    nameOf: (value: T) => string | null = () => event.objectName ?? null,
  ): Promise<T> {
    const base = {
      user: context.task.username,
      task: context.task.id,
      deployment: row.deployment,
      instance: `${row.instance_group}/${row.uuid}`,
      action: event.action,
      objectType: event.objectType,
      objectName: event.objectName ?? null,
    };
    // Neither event is waited for: they go with the task's next write, the end naming the start by its
    // promise (both may share a statement). A lost start is said in the debug log, as a lost end is.
    const start = context.event(base, false);
    start.catch((failure: unknown) => unrecorded(context, base, failure, 'start'));
    let value: T;
    try {
      value = await run();
    } catch (error) {
      if (!isInterruption(error)) {
        context
          .event({ ...base, error: (error as Error).message }, false, start)
          .catch((failure: unknown) => unrecorded(context, base, failure));
      }
      throw error;
    }
    // The work is done (a VM made is a VM to record on its instance): a lost end event must not undo it.
    context
      .event({ ...base, objectName: nameOf(value) }, false, start)
      .catch((failure: unknown) => unrecorded(context, base, failure));
    return value;
  }
}
