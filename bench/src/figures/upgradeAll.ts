import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { threadCpu, threadCpuSince } from '../threadCpu.js';
import { UPGRADE_DIRECTOR_WORKERS, type Stack } from '../stack.js';
import { nowMs, round, sleep } from '../stats.js';
import { CPU_HOW, createAndWatch } from './createLatency.js';

interface UpgradeRun {
  id: string;
  state: string;
  description: string;
  instances: {
    instance_id: string;
    state: string;
    attempts: number;
    operation_id: string | null;
    description: string;
    started_at: string | null;
    finished_at: string | null;
  }[];
}

const DONE = ['succeeded', 'failed', 'cancelled'];

async function upgradeRun(stack: Stack, body: Record<string, unknown>): Promise<UpgradeRun> {
  const started = await stack.broker.osb('POST', '/mgmt/upgrade_runs', { body, version: null });
  if (started.status !== 202)
    throw new Error(`upgrade run refused: ${started.status} ${JSON.stringify(started.body)}`);
  const id = (started.body as UpgradeRun).id;
  let state = (started.body as UpgradeRun).state;
  // Watched by its summary: the run with its 1,000 instances, read ten times a second, was a fifth of
  // the measured process's CPU (the watcher loading what it measures).
  while (!DONE.includes(state)) {
    await sleep(100);
    state = (
      (await stack.broker.osb('GET', `/mgmt/upgrade_runs/${id}?instances=false`, { version: null }))
        .body as UpgradeRun
    ).state;
  }
  return (await stack.broker.osb('GET', `/mgmt/upgrade_runs/${id}`, { version: null })).body as UpgradeRun;
}

/**
 * Upgrade-all through the broker's upgrade run (`/mgmt/upgrade_runs`, ODB's upgrade-all errand): every VM
 * of every cluster recreated, 100 ms of sim CPI per VM (create_vm), max_in_flight 50.
 */
export const upgradeAll: Figure = {
  name: 'upgrade-all',
  title: 'upgrade of 1,000 clusters, max_in_flight 50, sim upgrade 100 ms per VM',
  async run(ctx) {
    // The fleet, created through the API (real broker instances and Director deployments) on a stack of
    // its own; 1,000 takes longer to create than the whole run may (see the notes), so by default fewer.
    const wanted = ctx.quick ? 8 : Number(process.env.BENCH_UPGRADE_CLUSTERS ?? 100);
    const maxInFlight = 50;
    // The Director must be able to run max_in_flight deployments at once for the ideal to be reachable.
    const workers = UPGRADE_DIRECTOR_WORKERS;
    const { stack, trace } = await ctx.upgradeStack();
    const ws = stack.api.wsClient(stack.adminToken);
    try {
      const instancesNow = async () =>
        (
          (await stack.broker.osb('GET', '/mgmt/service_instances', { version: null })).body as {
            service_instance_id: string;
          }[]
        ).map((i) => i.service_instance_id);
      const existing = (await instancesNow()).length;
      const setupStarted = Date.now();
      let next = existing;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < wanted) {
            const i = next++;
            await createAndWatch(stack, ws, `fleet-${String(i).padStart(4, '0')}`);
            if ((i + 1) % 50 === 0) ctx.log(`${i + 1}/${wanted} clusters`);
          }
        }),
      );
      const setupMs = Date.now() - setupStarted;
      const ids = await instancesNow();
      const count = ids.length;
      ctx.log(
        `${count} clusters (${count - existing} created for this figure in ${Math.round(setupMs / 1000)} s)`,
      );
      trace.setLatency({ create_vm: 100 });
      const common = {
        operation_type: 'recreate',
        canaries: 0,
        polling_interval_ms: 100,
        created_by: 'bench',
      };

      // Per-cluster time: one cluster upgraded alone (its CPI time, and its time end to end).
      trace.clear();
      const soloStart = nowMs();
      const solo = await upgradeRun(stack, { ...common, instances: [ids[0]], max_in_flight: 1 });
      const soloMs = nowMs() - soloStart;
      if (solo.state !== 'succeeded') throw new Error(`the solo upgrade ${solo.state}: ${solo.description}`);
      const perClusterCpiMs = trace.busyMs(soloStart, nowMs());
      const vmsPerCluster = trace.count('create_vm');
      ctx.log(
        `one cluster alone: ${Math.round(soloMs)} ms, CPI ${Math.round(perClusterCpiMs)} ms, ${vmsPerCluster} VMs`,
      );

      trace.clear();
      const profiler = new CpuProfiler();
      stack.queries.start();
      if (ctx.profile) await profiler.start();
      const cpuBefore = process.cpuUsage();
      const threadsBefore = threadCpu();
      const started = nowMs();
      const run = await upgradeRun(stack, { ...common, max_in_flight: maxInFlight });
      const makespan = nowMs() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const byThread = threadCpuSince(threadsBefore, count);
      const profile = ctx.profile ? await profiler.stop() : undefined;
      const statements = stack.queries.total.count;
      const topQueries = stack.queries.stop(Number(process.env.BENCH_TOP_QUERIES ?? 8));
      const succeeded = run.instances.filter((i) => i.state === 'succeeded').length;
      const cpuMsPerCluster = (cpu.user + cpu.system) / 1000 / count;
      const ideal = Math.ceil(count / maxInFlight) * perClusterCpiMs;
      const idealEndToEnd = Math.ceil(count / maxInFlight) * soloMs;
      const ratio = makespan / ideal;
      const met = run.state === 'succeeded' && ratio <= 1.1;
      const finishes = run.instances
        .flatMap((i) => (i.finished_at ? [new Date(i.finished_at).getTime() - started] : []))
        .sort((a, b) => a - b)
        .map((ms, i) => [round(ms / 1000, 2), i + 1] as [number, number]);
      return {
        measured: {
          value: round(makespan / 1000, 2),
          unit: 's',
          label: `upgrade run over ${count} clusters (${round(cpuMsPerCluster, 1)} CPU ms per upgraded cluster)`,
        },
        baseline: {
          value: round(ideal / 1000, 2),
          unit: 's',
          label: `⌈${count}/${maxInFlight}⌉ × ${Math.round(perClusterCpiMs)} ms per cluster (sim CPI)`,
        },
        ratio: round(ratio, 3),
        ratioLabel: 'makespan ÷ ideal',
        target: { text: '≤ 1.10 × ideal', met },
        details: {
          clusters: count,
          maxInFlight,
          directorWorkers: workers,
          vmsPerCluster,
          perClusterCpiMs: round(perClusterCpiMs, 1),
          soloUpgradeMs: round(soloMs, 1),
          ratioToSoloSchedule: round(makespan / idealEndToEnd, 3),
          runState: run.state,
          runDescription: run.description,
          succeeded,
          // Why any instance did not succeed, as the broker recorded it (the figure must say, not only count).
          notSucceeded: run.instances
            .filter((i) => i.state !== 'succeeded')
            .slice(0, 20)
            .map((i) => ({
              instance: i.instance_id,
              state: i.state,
              attempts: i.attempts,
              operation: i.operation_id,
              description: i.description,
            })),
          setupSeconds: round(setupMs / 1000, 1),
          createdForThisFigure: count - existing,
          pollingIntervalMs: common.polling_interval_ms,
          statementsPerCluster: Math.round(statements / count),
          cpuMsPerUpgradedCluster: round(cpuMsPerCluster, 1),
          cpuMsPerUpgradedClusterByThread: byThread,
          cpuHow: CPU_HOW,
          topQueries,
        },
        notes: [
          ...(count < 1_000
            ? [
                `scaled to ${count} clusters: creating them took ${round(setupMs / 1000, 1)} s here (${round(count / (setupMs / 1000), 2)} creates/s, 50 at a time), so 1,000 would take ~${Math.round(1000 / (count / (setupMs / 1000)) / 60)} min of setup; BENCH_UPGRADE_CLUSTERS=1000 runs it`,
              ]
            : []),
          ...(ratio > 1.1
            ? [`missed by ${round(ratio - 1.1, 2)} × ideal (${round((makespan - 1.1 * ideal) / 1000, 1)} s)`]
            : []),
          ...(succeeded < count
            ? [
                `${count - succeeded} of ${count} instances did not succeed; the first: ` +
                  (run.instances.find((i) => i.state !== 'succeeded')?.description ?? '?'),
              ]
            : []),
        ],
        plot: {
          title: 'clusters upgraded over time',
          x: 's',
          y: 'clusters',
          series: [
            { label: 'upgraded', points: finishes },
            {
              label: 'ideal',
              points: Array.from(
                { length: Math.ceil(count / maxInFlight) },
                (_, w) =>
                  [round(((w + 1) * perClusterCpiMs) / 1000, 2), Math.min((w + 1) * maxInFlight, count)] as [
                    number,
                    number,
                  ],
              ),
            },
          ],
        },
        ...(profile ? { profile } : {}),
      };
    } finally {
      await ws.dispose();
      trace.setLatency(0);
    }
  },
};
