import { Worker } from 'node:worker_threads';
import { PubSub } from '@openpks/db';
import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { seedClusters } from '../seed.js';
import type { Stack } from '../stack.js';
import { mean, nowMs, quantile, round, sleep, waitUntil } from '../stats.js';
import type { FanoutJob, FanoutMessage } from './fanoutWorker.js';

/** The db channel of cluster events (apps/api services/events.ts `CLUSTER_EVENTS_CHANNEL`). */
const CLUSTER_EVENTS_CHANNEL = 'api_cluster_events';

/**
 * Commits a cluster event the way the API's operation tracker does (the row and the notification in one
 * transaction: subscribers hear it after the commit) and returns when the commit returned.
 */
async function commitEvent(
  stack: Stack,
  pubsub: PubSub,
  cluster: { uuid: string; name: string },
  description: string,
): Promise<number> {
  const event = {
    clusterUuid: cluster.uuid,
    clusterName: cluster.name,
    owner: 'bench-admin',
    kind: 'PROGRESS',
    at: new Date().toISOString(),
    lastAction: 'UPGRADE',
    lastActionState: 'in progress',
    description,
    stage: 'Updating instance',
    progress: 50,
  };
  await stack.db.transaction(async (tx) => {
    await tx.query(`INSERT INTO api.cluster_events (cluster_uuid, event) VALUES ($1, $2::jsonb)`, [
      cluster.uuid,
      JSON.stringify(event),
    ]);
    await pubsub.publish(CLUSTER_EVENTS_CHANNEL, event, tx);
  });
  return nowMs();
}

/** 1,000 graphql-ws subscribers on 100 clusters: from an event's commit to each subscriber having it. */
export const fanout: Figure = {
  name: 'subscription-fanout',
  title: '1,000 graphql-ws subscribers on 100 clusters: event delivery after commit',
  async run(ctx) {
    // --quick: a fifth of the fleet and of the subscribers, the same 10 subscribers per cluster.
    const clusterCount = ctx.quick ? 20 : 100;
    const subscribers = ctx.quick ? 200 : 1_000;
    const sockets = subscribers;
    const rounds = ctx.quick ? 3 : 15; // seconds of steady events
    const { stack } = ctx;
    const pubsub = new PubSub(stack.db);
    let worker: Worker | undefined;
    try {
      await seedClusters(stack.db, 'fan', clusterCount, 'bench-admin');
      const { rows } = await stack.db.query<{ uuid: string; name: string }>(
        `SELECT uuid, name FROM api.clusters WHERE name LIKE 'fan-%' ORDER BY name`,
      );
      const job: FanoutJob = {
        url: stack.api.graphqlUrl.replace(/^https/, 'wss'),
        ca: stack.api.caPem,
        token: stack.adminToken,
        clusters: rows.map((r) => r.name),
        subscribers,
        sockets,
      };
      let readyCount = 0;
      let receipts: [string, number][] | undefined;
      let errors: string[] = [];
      worker = new Worker(new URL('./fanoutWorker.js', import.meta.url), { workerData: job });
      worker.on('message', (m: FanoutMessage) => {
        if (m.type === 'ready') readyCount = m.count;
        if (m.type === 'receipts') {
          receipts = m.receipts;
          errors = m.errors;
        }
      });
      // graphql-ws does not acknowledge a subscription; probe events until every subscriber has one.
      const setupStarted = Date.now();
      await waitUntil(
        'every subscriber to hear a probe event',
        async () => {
          for (const row of rows) await commitEvent(stack, pubsub, row, 'probe');
          await sleep(200);
          return readyCount >= subscribers;
        },
        120_000,
        0,
      );
      const subscribeMs = Date.now() - setupStarted;
      ctx.log(`${subscribers} subscribers over ${sockets} sockets ready in ${subscribeMs} ms`);
      // Steady: every cluster gets an event each second, spread evenly (a fleet-wide progress stream,
      // 100 events and 1,000 deliveries a second). Burst: one event for every cluster back to back.
      const committed = new Map<string, number>();
      const burstCommitted = new Map<string, number>();
      const profiler = new CpuProfiler();
      stack.queries.start();
      if (ctx.profile) await profiler.start();
      const spacing = 1_000 / rows.length;
      const began = nowMs();
      for (let r = 0; r < rounds; r++) {
        for (const [i, row] of rows.entries()) {
          const due = began + (r * rows.length + i) * spacing;
          if (due > nowMs()) await sleep(due - nowMs());
          const description = `steady ${r} ${row.name}`;
          committed.set(description, await commitEvent(stack, pubsub, row, description));
        }
      }
      await sleep(500);
      const profile = ctx.profile ? await profiler.stop() : undefined;
      const topQueries = stack.queries.stop(5);
      for (let r = 0; r < 2; r++) {
        for (const row of rows) {
          const description = `burst ${r} ${row.name}`;
          burstCommitted.set(description, await commitEvent(stack, pubsub, row, description));
        }
        await sleep(500);
      }
      worker.postMessage({ type: 'stop' });
      await waitUntil('the receipts', () => receipts !== undefined, 60_000);
      const latencies = receipts!.filter(([d]) => committed.has(d)).map(([d, at]) => at - committed.get(d)!);
      const burst = receipts!
        .filter(([d]) => burstCommitted.has(d))
        .map(([d, at]) => at - burstCommitted.get(d)!);
      const expected = rounds * subscribers;
      const p99 = quantile(latencies, 0.99);
      const met = p99 <= 100 && latencies.length === expected;
      return {
        measured: {
          value: round(p99, 1),
          unit: 'ms',
          label: `delivery p99 after commit, ${clusterCount} events/s`,
        },
        baseline: { value: 0, unit: 'ms', label: 'the event committed' },
        ratio: null,
        ratioLabel: 'delivery = received − committed',
        target: { text: 'delivery p99 ≤ 100 ms, none lost', met },
        details: {
          clusters: clusterCount,
          subscribers,
          sockets,
          rounds,
          eventsPerRound: clusterCount,
          deliveriesExpected: expected,
          deliveriesReceived: latencies.length,
          p50Ms: round(quantile(latencies, 0.5), 1),
          p90Ms: round(quantile(latencies, 0.9), 1),
          p99Ms: round(p99, 1),
          meanMs: round(mean(latencies), 1),
          maxMs: round(Math.max(...latencies), 1),
          subscriptionErrors: errors.slice(0, 5),
          eventsPerSecond: rows.length,
          burstDeliveries: burst.length,
          burstP50Ms: round(quantile(burst, 0.5), 1),
          burstP99Ms: round(quantile(burst, 0.99), 1),
          subscribeSeconds: round(subscribeMs / 1000, 1),
          topQueries,
        },
        notes: met
          ? []
          : [
              ...(p99 > 100 ? [`p99 missed by ${round(p99 - 100, 1)} ms`] : []),
              ...(latencies.length !== expected ? [`${expected - latencies.length} deliveries missing`] : []),
            ],
        plot: {
          title: 'delivery latency distribution',
          x: 'percentile',
          y: 'ms',
          series: [
            {
              label: `steady, ${clusterCount} events/s`,
              points: [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100].map(
                (p) => [p, round(quantile(latencies, p / 100), 1)] as [number, number],
              ),
            },
            {
              label: `burst of ${clusterCount}`,
              points: [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100].map(
                (p) => [p, round(quantile(burst, p / 100), 1)] as [number, number],
              ),
            },
          ],
          rules: [{ label: 'p99 target 100 ms', y: 100 }],
        },
        ...(profile ? { profile } : {}),
      };
    } finally {
      await worker?.terminate();
      await pubsub.close();
    }
  },
};
