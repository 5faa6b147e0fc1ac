import { Worker } from 'node:worker_threads';
import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { threadCpu, threadCpuSince } from '../threadCpu.js';
import { quantile, round, sleep } from '../stats.js';
import type { BurstMessage, BurstRequest, CreateOutcome } from './burstWorker.js';

/**
 * The API's responsiveness while the fleet works: a trivial read's p99 during a burst of concurrent
 * creates, and whether the burst's clients, each opening its own connection at the same moment, are all
 * accepted within 1 s and all get their cluster.
 */
export const apiUnderLoad: Figure = {
  name: 'api-under-load',
  title:
    'API under load: `{ me { name } }` p99 during 200 concurrent creates, 200 connections opened at once',
  async run(ctx) {
    const count = ctx.quick ? 20 : 200;
    const latencyMs = 50; // the sim CPI latency of concurrent-creates
    const { stack, trace } = ctx;
    trace.setLatency(latencyMs);
    const names = Array.from({ length: count }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    const job: BurstRequest = {
      graphqlUrl: stack.api.graphqlUrl,
      ca: stack.api.caPem,
      token: stack.adminToken,
      names,
      idleMs: ctx.quick ? 2_000 : 5_000,
      probeGapMs: 20,
      createTimeoutMs: 60_000,
    };
    const worker = new Worker(new URL('./burstWorker.js', import.meta.url), { workerData: job });
    const messages: BurstMessage[] = [];
    let wake: () => void = () => {};
    worker.on('message', (m: BurstMessage) => {
      messages.push(m);
      wake();
    });
    const failure = new Promise<never>((_, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the burst worker exited ${code}`)));
    });
    failure.catch(() => undefined);
    const next = async <K extends BurstMessage['kind']>(kind: K) => {
      for (;;) {
        const found = messages.find((m) => m.kind === kind);
        if (found) return found as Extract<BurstMessage, { kind: K }>;
        await Promise.race([new Promise<void>((r) => (wake = r)), failure]);
      }
    };
    const profiler = new CpuProfiler();
    let profile;
    try {
      await sleep(job.idleMs - 200); // the reader's idle baseline is being taken in the worker
      stack.queries.start();
      if (ctx.profile) await profiler.start();
      const cpuBefore = process.cpuUsage();
      const threadsBefore = threadCpu();
      const answered = await next('burst-answered');
      // Every accepted create runs to its end: wait for each cluster's last action to finish.
      const deadline = Date.now() + (ctx.quick ? 120_000 : 900_000);
      let states: { name: string; last_action_state: string }[] = [];
      for (;;) {
        ({ rows: states } = await stack.db.query<{ name: string; last_action_state: string }>(
          `SELECT name, last_action_state FROM api.clusters WHERE name LIKE 'burst-%' AND deleted_at IS NULL`,
        ));
        const finished = states.filter((s) => s.last_action_state !== 'in progress').length;
        if (finished === states.length || Date.now() > deadline) break;
        await sleep(250);
      }
      const allDoneAt = Date.now();
      const cpu = process.cpuUsage(cpuBefore);
      const byThread = threadCpuSince(threadsBefore, count);
      if (ctx.profile) profile = await profiler.stop();
      const statements = stack.queries.total.count;
      const topQueries = stack.queries.stop(8);
      worker.postMessage('stop');
      const done = await next('done');
      await worker.terminate();

      const creates: CreateOutcome[] = answered.creates;
      const acceptedMs = creates.map((c) => c.acceptedMs ?? Infinity);
      const notAccepted = creates.filter((c) => c.acceptedMs === null);
      const acceptedWithin1s = acceptedMs.filter((ms) => ms <= 1_000).length;
      const createErrors = creates.filter((c) => c.error !== null);
      const succeeded = states.filter((s) => s.last_action_state === 'succeeded').length;
      const loadP99 = quantile(done.loadLatenciesMs, 0.99);
      const idleP99 = quantile(done.idleLatenciesMs, 0.99);
      const cpuMsPerCreate = (cpu.user + cpu.system) / 1000 / count;
      const allSucceeded = createErrors.length === 0 && succeeded === count;
      const met = loadP99 <= 50 && acceptedWithin1s === count && allSucceeded;
      const burstSeconds = (allDoneAt - answered.burstStartedAt) / 1000;
      ctx.log(
        `me p99 ${round(loadP99, 1)} ms under load (idle ${round(idleP99, 1)} ms); ${acceptedWithin1s}/${count} accepted within 1 s; ${succeeded}/${count} succeeded; ${round(cpuMsPerCreate, 1)} CPU ms per create`,
      );
      const sortedAccept = [...acceptedMs].sort((a, b) => a - b);
      return {
        measured: {
          value: round(loadP99, 1),
          unit: 'ms',
          label: `\`{ me { name } }\` p99 during ${count} concurrent creates (${acceptedWithin1s}/${count} connections accepted within 1 s, slowest ${Number.isFinite(sortedAccept.at(-1)!) ? `${Math.round(sortedAccept.at(-1)!)} ms` : 'never'}; ${succeeded}/${count} creates succeeded; ${round(cpuMsPerCreate, 1)} CPU ms per create)`,
        },
        baseline: {
          value: round(idleP99, 1),
          unit: 'ms',
          label: 'the same reader’s p99 with the stack idle, just before',
        },
        ratio: round(loadP99 / idleP99, 2),
        ratioLabel: 'p99 under load ÷ idle',
        target: {
          text: 'p99 ≤ 50 ms; every connection accepted (TLS handshake done) within 1 s; every create succeeds',
          met,
        },
        details: {
          creates: count,
          simLatencyMsPerCall: latencyMs,
          how: 'a worker thread: one keep-alive reader sending `{ me { name } }` one at a time with 20 ms between; then every create from a client of its own (a new TLS connection each, all opened at once); accepted = the TLS handshake completed; the load phase lasts until every burst cluster’s last action finished',
          probeGapMs: job.probeGapMs,
          idleSamples: done.idleLatenciesMs.length,
          loadSamples: done.loadLatenciesMs.length,
          idleP50Ms: round(quantile(done.idleLatenciesMs, 0.5), 1),
          idleP99Ms: round(idleP99, 1),
          loadP50Ms: round(quantile(done.loadLatenciesMs, 0.5), 1),
          loadP90Ms: round(quantile(done.loadLatenciesMs, 0.9), 1),
          loadP99Ms: round(loadP99, 1),
          loadMaxMs: round(Math.max(...done.loadLatenciesMs), 1),
          probeErrors: done.probeErrors,
          tcpConnectP50Ms: round(
            quantile(
              creates.map((c) => c.connectMs ?? Infinity),
              0.5,
            ),
            1,
          ),
          acceptedP50Ms: round(quantile(acceptedMs, 0.5), 1),
          acceptedMaxMs: Number.isFinite(sortedAccept.at(-1)!) ? round(sortedAccept.at(-1)!, 1) : null,
          acceptedWithin1s,
          neverAccepted: notAccepted.length,
          answeredP50Ms: round(
            quantile(
              creates.map((c) => c.answeredMs ?? Infinity),
              0.5,
            ),
            1,
          ),
          answeredMaxMs: round(Math.max(...creates.map((c) => c.answeredMs ?? Infinity)), 1),
          createErrors: createErrors.length,
          createErrorSamples: createErrors.slice(0, 3).map((c) => `${c.name}: ${c.error}`),
          succeeded,
          burstToAllFinishedSeconds: round(burstSeconds, 1),
          cpuMsPerCreate: round(cpuMsPerCreate, 1),
          cpuMsPerCreateByThread: byThread,
          cpuHow:
            'process.cpuUsage() of the process hosting the stack (every thread, the client worker included) from the burst to the last create finishing, ÷ creates',
          statementsPerCreate: Math.round(statements / count),
          topQueries,
        },
        notes: [
          ...(loadP99 > 50 ? [`p99 missed by ${round(loadP99 - 50, 1)} ms`] : []),
          ...(acceptedWithin1s < count
            ? [`${count - acceptedWithin1s} of ${count} connections not accepted within 1 s`]
            : []),
          ...(allSucceeded
            ? []
            : [`${createErrors.length} creates answered an error; ${succeeded}/${count} succeeded`]),
        ],
        plot: {
          title: 'connections accepted after the burst began',
          x: 'ms',
          y: 'connections',
          series: [
            {
              label: 'accepted (TLS done)',
              points: sortedAccept
                .filter((ms) => Number.isFinite(ms))
                .map((ms, i) => [round(ms, 1), i + 1] as [number, number]),
            },
          ],
          rules: [],
        },
        ...(profile ? { profile } : {}),
      };
    } finally {
      await worker.terminate();
      trace.setLatency(0);
    }
  },
};
