import type { ErrandResult } from '@openpks/bosh';

/** How much of a failed errand's stderr the failure description quotes (its end, where the error is). */
const STDERR_TAIL_CHARS = 200;

/**
 * Why an errand task that ended `done` failed, from the Director's structured task result (one JSON line per
 * instance: `exit_code`, `stdout`, `stderr`, `instance`, `errand_name`, as the bosh CLI reads it), or
 * undefined when it ran and every instance exited 0. Names the errand, the instance, the exit code and
 * the end of stderr.
 */
export function errandFailure(
  errand: string,
  taskId: number,
  results: readonly ErrandResult[],
): string | undefined {
  if (results.length === 0) return `errand ${errand} reported no result (task ${taskId})`;
  const failed = results.filter((r) => r.exit_code !== 0);
  const first = failed[0];
  if (first === undefined) return undefined;
  const where = first.instance ? `${first.instance.group}/${first.instance.id}` : 'an instance';
  const stderr = tailOf(first.stderr ?? '');
  const others = failed.length > 1 ? ` (and ${failed.length - 1} more instances)` : '';
  return `errand ${first.errand_name || errand} failed on ${where}${others} with exit code ${first.exit_code}${
    stderr === '' ? '' : `: ${stderr}`
  } (task ${taskId})`;
}

/** The last lines of an output, on one line, at most STDERR_TAIL_CHARS characters. */
function tailOf(output: string): string {
  const text = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
  return text.length <= STDERR_TAIL_CHARS ? text : `…${text.slice(-(STDERR_TAIL_CHARS - 1))}`;
}
