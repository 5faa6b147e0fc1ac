import { Session } from 'node:inspector/promises';

export interface ProfileEntry {
  name: string;
  selfMs: number;
  percent: number;
}

/** Where a figure's CPU time went: the top functions by self time, and self time by package. */
export interface ProfileSummary {
  totalMs: number;
  idlePercent: number;
  topFunctions: ProfileEntry[];
  byPackage: ProfileEntry[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * The V8 CPU profiler of this process (what `node --cpu-prof` writes), started and stopped around a
 * figure so the summary covers that figure only. Worker threads (load generators) are not sampled.
 */
export class CpuProfiler {
  readonly #session = new Session();

  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post('Profiler.enable');
    await this.#session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await this.#session.post('Profiler.start');
  }

  async stop(): Promise<ProfileSummary> {
    const { profile } = (await this.#session.post('Profiler.stop')) as { profile: CpuProfile };
    await this.#session.post('Profiler.disable');
    this.#session.disconnect();
    return summarise(profile);
  }
}

function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModule = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModule) return nodeModule[1]!;
  const workspace = /\/(packages|apps|bench)\/([^/]+)\//.exec(url);
  if (workspace) return workspace[1] === 'bench' ? 'bench' : `@openpks/${workspace[2]}`;
  if (url.startsWith('node:')) return 'node (core)';
  return url;
}

export function summarise(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap to the next one (V8 records the delta before each sample).
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + ms);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let idle = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const file = url.replace(/^.*\/(node_modules|packages|apps|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  }
  const busy = Math.max(totalMs - idle, 1e-9);
  const entries = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({
        name,
        selfMs: Math.round(ms),
        percent: Math.round((ms / busy) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(totalMs),
    idlePercent: Math.round((idle / Math.max(totalMs, 1e-9)) * 1000) / 10,
    topFunctions: entries(functions),
    byPackage: entries(packages),
  };
}
