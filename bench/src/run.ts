import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, FigureResult } from './figure.js';
import { apiUnderLoad } from './figures/apiUnderLoad.js';
import { clustersMiss } from './figures/clustersMiss.js';
import { clustersQuery } from './figures/clustersQuery.js';
import { concurrentCreates } from './figures/concurrentCreates.js';
import { createLatency } from './figures/createLatency.js';
import { fanout } from './figures/fanout.js';
import { liveFleet } from './figures/liveFleet.js';
import { memory } from './figures/memory.js';
import { upgradeAll } from './figures/upgradeAll.js';
import { renderPerformance, resultFile } from './render.js';
import { BACKEND } from './backend.js';
import { CpiTrace } from './cpiTrace.js';
import { UPGRADE_DIRECTOR_WORKERS, startStack, type Stack } from './stack.js';

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

// The live-fleet figure runs last: it starts its own server and browser, and leaves the shared stack idle.
const FIGURES: Figure[] = [
  clustersQuery,
  clustersMiss,
  createLatency,
  concurrentCreates,
  apiUnderLoad,
  fanout,
  memory,
  upgradeAll,
  liveFleet,
];

function usage(): never {
  console.error(
    `usage: npm run bench -- [--quick] [--only name,name] [--no-render]\nfigures: ${FIGURES.map((f) => f.name).join(', ')}`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let quick = false;
  let only: string[] | undefined;
  let render = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--no-render') render = false;
    else if (arg === '--only') only = (args[++i] ?? usage()).split(',');
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',');
    else usage();
  }
  const chosen = only ? FIGURES.filter((f) => only.includes(f.name)) : FIGURES;
  if (only && chosen.length !== only.length) usage();
  // A standalone figure runs the built pks-server on its own PGlite whatever DATABASE_URL says: on a
  // PostgreSQL run its result would be labelled with a database it never used.
  const figures = BACKEND === 'postgres' ? chosen.filter((f) => !f.standalone) : chosen;
  for (const f of chosen.filter((c) => !figures.includes(c))) {
    console.log(`${f.name}: skipped on PostgreSQL (it runs pks-server on its own PGlite)`);
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  const began = Date.now();
  let failed = 0;
  // One stack for the run (starting one costs tens of seconds on a small machine); each figure sets the
  // sim CPI latency it needs and uses names of its own. Figures that run their own server do not need it.
  let shared: { stack: Stack; trace: CpiTrace } | undefined;
  if (figures.some((f) => !f.standalone)) {
    console.log(
      `starting the stack (UAA, Director, broker, API) on loopback, on ${BACKEND === 'postgres' ? 'PostgreSQL (a database of its own per stack on the DATABASE_URL server)' : 'PGlite'}`,
    );
    const stack = await startStack();
    shared = { stack, trace: new CpiTrace(stack.bosh.director.cpi) };
    console.log(`stack up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
  const sharedStack = () => {
    if (!shared) throw new Error('a standalone figure read the shared stack, which this run did not start');
    return shared;
  };
  let second: Promise<{ stack: Stack; trace: CpiTrace }> | undefined;
  const upgradeStack = () =>
    (second ??= startStack({ workers: UPGRADE_DIRECTOR_WORKERS }).then((s) => ({
      stack: s,
      trace: new CpiTrace(s.bosh.director.cpi),
    })));
  let stopped = false;
  const stopStacks = async () => {
    if (stopped) return;
    stopped = true;
    await shared?.stack.stop().catch((error: unknown) => console.error('stopping the stack failed', error));
    if (second) await (await second).stack.stop().catch(() => undefined);
  };
  for (const [index, figure] of figures.entries()) {
    // An idle stack still polls and renews leases: stop it before figures that measure their own server,
    // once no later figure needs it.
    if (figures.slice(index).every((f) => f.standalone)) await stopStacks();
    const startedAt = new Date();
    const loadBefore = loadavg()[0]!;
    const log = (message: string) =>
      console.log(`[${((Date.now() - began) / 1000).toFixed(1)}s] ${figure.name}: ${message}`);
    log(quick ? 'starting (quick)' : 'starting');
    try {
      // The memory figure measures another process's resident memory, which CPU work here does not
      // change: start the upgrade figure's stack meanwhile, to keep --quick short.
      if (figure.name === 'api-memory' && figures.some((f) => f.name === 'upgrade-all')) void upgradeStack();
      const outcome = await figure.run({
        quick,
        profile: true,
        log,
        get stack() {
          return sharedStack().stack;
        },
        get trace() {
          return sharedStack().trace;
        },
        upgradeStack,
      });
      const result: FigureResult = {
        name: figure.name,
        title: figure.title,
        mode: quick ? 'quick' : 'full',
        backend: BACKEND,
        ...outcome,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        machine: {
          cores: cpus().length,
          cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
          memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
          node: process.version,
          platform: `${platform()} ${release()}`,
          // Other work on the machine: the 1-minute load average when the figure started and ended.
          loadAverage: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
        },
      };
      await writeFile(
        join(RESULTS_DIR, resultFile(figure.name, BACKEND)),
        `${JSON.stringify(result, null, 2)}\n`,
      );
      log(
        `${result.measured.value} ${result.measured.unit} vs baseline ${result.baseline.value} ${result.baseline.unit}` +
          `${result.ratio === null ? '' : ` (ratio ${result.ratio})`}: target ${result.target.met ? 'met' : 'MISSED'} (${result.target.text})`,
      );
    } catch (error) {
      failed += 1;
      log(`failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
  await stopStacks();
  if (render) {
    const file = await renderPerformance(RESULTS_DIR, join(BENCH_DIR, '..', 'docs'));
    console.log(`wrote ${file}`);
  }
  console.log(`done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  // Sim masters' listeners and pools may linger a moment after the stacks stop; the run is over.
  process.exit(failed > 0 ? 1 : 0);
}

await main();
