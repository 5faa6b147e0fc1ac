/** The q-quantile (0..1) of `values` by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Milliseconds on a clock shared by the main thread and worker threads of this process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rounds for reports (results keep 3 decimals; no false precision from a noisy machine). */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Waits until `check` is true, looking every `everyMs`; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The q-quantile of measurements some of which never happened within their timeout (`null`): a miss
 * counts as longer than every hit, so the result is `null` when the quantile reaches into the misses (a
 * p50 of "not within the timeout" rather than a number that pretends the misses did not exist).
 */
export function quantileWithMisses(values: readonly (number | null)[], q: number): number | null {
  if (values.length === 0) return null;
  const hits = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const position = (values.length - 1) * q;
  if (Math.ceil(position) >= hits.length) return null;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return hits[lower]! + (hits[upper]! - hits[lower]!) * (position - lower);
}
