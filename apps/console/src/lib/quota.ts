/** GB without float noise: 0.5, 12, 31.25. */
export function gb(value: number): string {
  return String(Math.round(value * 100) / 100);
}

interface Amounts {
  cluster: number;
  cpu: number;
  memory: number;
}

/** The clusters page's line: "Clusters 2 / 3 · CPU 8 / 16 · Memory 16 / 64 GB", or the usage alone. */
export function usageLine(totals: Amounts, limit: Amounts | null | undefined): string {
  if (!limit) {
    return `Clusters ${totals.cluster} · CPU ${totals.cpu} · Memory ${gb(totals.memory)} GB · no quota`;
  }
  return (
    `Clusters ${totals.cluster} / ${limit.cluster} · CPU ${totals.cpu} / ${limit.cpu} · ` +
    `Memory ${gb(totals.memory)} / ${gb(limit.memory)} GB`
  );
}
