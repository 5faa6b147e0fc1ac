/** GB without float noise: 0.5, 12, 31.25. */
export function gb(value: number): string {
  return String(Math.round(value * 100) / 100);
}

interface Amounts {
  cluster: number;
  cpu: number;
  memory: number;
}

/** A quota's limits: null is no limit on that resource. */
interface Limits {
  cluster: number | null;
  cpu: number | null;
  memory: number | null;
}

/** "8 / 16", or "8 / no limit" for a resource the quota leaves unlimited. */
export function ofLimit(used: string, limit: number | null, show: (n: number) => string = String): string {
  return `${used} / ${limit === null ? 'no limit' : show(limit)}`;
}

/** The clusters page's line: "Clusters 2 / 3 · CPU 8 / 16 · Memory 16 / 64 GB", or the usage alone. */
export function usageLine(totals: Amounts, limit: Limits | null | undefined): string {
  if (!limit) {
    return `Clusters ${totals.cluster} · CPU ${totals.cpu} · Memory ${gb(totals.memory)} GB · no quota`;
  }
  return (
    `Clusters ${ofLimit(String(totals.cluster), limit.cluster)} · CPU ${ofLimit(String(totals.cpu), limit.cpu)} · ` +
    `Memory ${ofLimit(gb(totals.memory), limit.memory, gb)}${limit.memory === null ? '' : ' GB'}`
  );
}
