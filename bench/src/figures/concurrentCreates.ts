import { DEFAULT_DIRECTOR_WORKERS } from '@openpks/bosh';
import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { threadCpu, threadCpuSince } from '../threadCpu.js';
import { nowMs, round } from '../stats.js';
import { CPU_HOW, createAndWatch } from './createLatency.js';

/** 200 creates at once with the sim CPI at 50 ms a call: makespan against the ideal schedule. */
export const concurrentCreates: Figure = {
  name: 'concurrent-creates',
  title: '200 concurrent creates, sim CPI 50 ms per call',
  async run(ctx) {
    const count = ctx.quick ? 15 : 200;
    const latencyMs = 50;
    const { stack, trace } = ctx;
    trace.setLatency(latencyMs);
    const workers = DEFAULT_DIRECTOR_WORKERS;
    const ws = stack.api.wsClient(stack.adminToken);
    try {
      // The per-cluster critical path: one create alone, the time its CPI calls were in flight (a create
      // chains a deploy task and an errand task; inside the deploy, VMs of a group are created in parallel
      // as the manifest's max_in_flight allows). Its own latency shows the overhead on top.
      await createAndWatch(stack, ws, 'solo-warmup');
      trace.clear();
      const solo = await createAndWatch(stack, ws, 'solo');
      const criticalMs = trace.busyMs(solo.start, solo.end);
      const callsPerCluster = trace.count();
      ctx.log(
        `one create alone: ${Math.round(solo.ms)} ms, ${callsPerCluster} CPI calls, critical path ${Math.round(criticalMs)} ms`,
      );

      trace.clear();
      const profiler = new CpuProfiler();
      stack.queries.start();
      if (ctx.profile) await profiler.start();
      const cpuBefore = process.cpuUsage();
      const threadsBefore = threadCpu();
      const started = nowMs();
      const outcomes = await Promise.allSettled(
        Array.from({ length: count }, (_, i) =>
          createAndWatch(stack, ws, `many-${String(i).padStart(3, '0')}`),
        ),
      );
      const makespan = nowMs() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const byThread = threadCpuSince(threadsBefore, count);
      const cpuMsPerCreate = (cpu.user + cpu.system) / 1000 / count;
      const profile = ctx.profile ? await profiler.stop() : undefined;
      const statements = stack.queries.total.count;
      const topQueries = stack.queries.stop(8);
      const failed = outcomes.filter((o) => o.status === 'rejected');
      // None lost: the API, the broker and the Director all have every cluster.
      const { rows } = await stack.db.query<{ n: string | number; ok: string | number }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE last_action_state = 'succeeded') AS ok
         FROM api.clusters WHERE name LIKE 'many-%' AND deleted_at IS NULL`,
      );
      const deployments = await stack.bosh.client.deployments();
      const succeeded = Number(rows[0]?.ok ?? 0);
      const ideal = Math.ceil(count / workers) * criticalMs;
      const ratio = makespan / ideal;
      const allGood = failed.length === 0 && succeeded === count;
      const met = allGood && ratio <= 1.2;
      const finishes = outcomes
        .flatMap((o) => (o.status === 'fulfilled' ? [o.value.end - started] : []))
        .sort((a, b) => a - b)
        .map((ms, i) => [round(ms / 1000, 2), i + 1] as [number, number]);
      return {
        measured: {
          value: round(makespan / 1000, 2),
          unit: 's',
          label: `makespan of ${count} creates (${round(cpuMsPerCreate, 1)} CPU ms per create)`,
        },
        baseline: {
          value: round(ideal / 1000, 2),
          unit: 's',
          label: `ideal: ⌈${count}/${workers} workers⌉ × ${Math.round(criticalMs)} ms critical path`,
        },
        ratio: round(ratio, 3),
        ratioLabel: 'makespan ÷ ideal',
        target: { text: 'all succeed, none lost, ≤ 1.2 × ideal', met },
        details: {
          creates: count,
          simLatencyMsPerCall: latencyMs,
          directorWorkers: workers,
          cpiCallsPerCluster: callsPerCluster,
          criticalPathMs: round(criticalMs, 1),
          soloCreateMs: round(solo.ms, 1),
          succeeded,
          failed: failed.length,
          failures: failed.slice(0, 3).map((f) => String((f as PromiseRejectedResult).reason)),
          directorDeploymentsInStack: deployments.length,
          cpiCallsInRun: trace.count(),
          cpiBusyMsInRun: round(trace.busyMs(), 1),
          statementsPerCreate: Math.round(statements / count),
          cpuMsPerCreate: round(cpuMsPerCreate, 1),
          cpuMsPerCreateByThread: byThread,
          cpuHow: CPU_HOW,
          topQueries,
        },
        notes: [
          ...(allGood ? [] : [`not all succeeded: ${failed.length} failed, ${succeeded}/${count} succeeded`]),
          ...(ratio > 1.2
            ? [`missed by ${round(ratio - 1.2, 2)} × ideal (${round((makespan - 1.2 * ideal) / 1000, 1)} s)`]
            : []),
        ],
        plot: {
          title: 'clusters succeeded over time',
          x: 's',
          y: 'clusters',
          series: [{ label: 'succeeded', points: finishes }],
          rules: [],
        },
        ...(profile ? { profile } : {}),
      };
    } finally {
      await ws.dispose();
      trace.setLatency(0);
    }
  },
};
