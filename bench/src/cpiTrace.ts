import { CPI_METHODS, type Cpi } from '@openpks/bosh';
import { nowMs } from './stats.js';

export interface CpiCall {
  method: string;
  start: number;
  end: number;
}

/**
 * Records when each call of the Director's CPI starts and ends (bench instrumentation: the sim CPI itself
 * keeps no timings). The critical path's CPI time of a lone operation is the union of its calls' intervals.
 */
export class CpiTrace {
  readonly calls: CpiCall[] = [];
  #latency: Partial<Record<string, number>> & { all?: number } = {};

  /**
   * The sim CPI's latency for the figures that follow, per call or per method: the same wait the sim CPI
   * makes before a call when configured with `latencyMs`, settable between figures of one stack.
   */
  setLatency(latency: number | Partial<Record<(typeof CPI_METHODS)[number], number>>): void {
    this.#latency = typeof latency === 'number' ? { all: latency } : { ...latency };
  }

  constructor(cpi: Cpi) {
    const target = cpi as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of CPI_METHODS) {
      const original = target[method]!.bind(cpi);
      target[method] = async (...args: unknown[]) => {
        const start = nowMs();
        const wait = this.#latency[method] ?? this.#latency.all ?? 0;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        try {
          return await original(...args);
        } finally {
          this.calls.push({ method, start, end: nowMs() });
        }
      };
    }
  }

  clear(): void {
    this.calls.length = 0;
  }

  /** Milliseconds during which at least one CPI call was in flight, between `from` and `to`. */
  busyMs(from = -Infinity, to = Infinity): number {
    const intervals = this.calls
      .map((c) => [Math.max(c.start, from), Math.min(c.end, to)] as const)
      .filter(([s, e]) => e > s)
      .sort((a, b) => a[0] - b[0]);
    let total = 0;
    let curStart = -Infinity;
    let curEnd = -Infinity;
    for (const [s, e] of intervals) {
      if (s > curEnd) {
        if (curEnd > curStart) total += curEnd - curStart;
        curStart = s;
        curEnd = e;
      } else curEnd = Math.max(curEnd, e);
    }
    if (curEnd > curStart) total += curEnd - curStart;
    return total;
  }

  count(method?: string): number {
    return method === undefined ? this.calls.length : this.calls.filter((c) => c.method === method).length;
  }
}
