import type { Backend } from './backend.js';
import type { CpiTrace } from './cpiTrace.js';
import type { Stack } from './stack.js';
import type { ProfileSummary } from './profile.js';

export interface Quantity {
  value: number;
  unit: string;
  /** What was measured, in a few words. */
  label: string;
}

/** A plot's line: x and y values in the units of its axes. */
export interface Series {
  label: string;
  points: [number, number][];
}

export interface Plot {
  title: string;
  x: string;
  y: string;
  series: Series[];
  /** A horizontal line (a target or a baseline). */
  rules?: { label: string; y: number }[];
  kind?: 'line' | 'bars';
}

/** One row of the table in docs/performance.md, as written to bench/results/<name>.json. */
export interface FigureResult {
  name: string;
  title: string;
  mode: 'quick' | 'full';
  /** The database every stack of the run used (results before this field were all on PGlite). */
  backend?: Backend;
  measured: Quantity;
  baseline: Quantity;
  /** measured ÷ baseline, or the figure's own comparison (see `ratioLabel`). */
  ratio: number | null;
  ratioLabel: string;
  target: { text: string; met: boolean };
  /** Sizes, the settings used, and secondary measurements. */
  details: Record<string, unknown>;
  notes: string[];
  plot?: Plot;
  profile?: ProfileSummary;
  startedAt: string;
  durationMs: number;
  machine: {
    cores: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    platform: string;
    loadAverage?: [number, number];
  };
}

export interface FigureContext {
  quick: boolean;
  /** The stack every figure of the run shares (sim CPI latency set per figure through `trace`). */
  stack: Stack;
  trace: CpiTrace;
  /** A second stack whose Director runs 50 tasks at once (the upgrade figure's), started on first use. */
  upgradeStack: () => Promise<{ stack: Stack; trace: CpiTrace }>;
  /** Sample the CPU during the measurement (always on; the summary goes into the results). */
  profile: boolean;
  log: (message: string) => void;
}

export interface Figure {
  name: string;
  title: string;
  /**
   * Runs its own server (the built pks-server) and never reads `stack` or `trace`: a run of only such
   * figures does not start the shared stack.
   */
  standalone?: boolean;
  run(
    ctx: FigureContext,
  ): Promise<
    Omit<FigureResult, 'name' | 'title' | 'mode' | 'backend' | 'startedAt' | 'durationMs' | 'machine'>
  >;
}
