import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startTestApi } from '@openpks/api/testing';
import { TlsAuthority, DataDirectory } from '@openpks/pki';
import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { QueryStats } from '../queryStats.js';
import { seedClusters } from '../seed.js';
import { quantile, round } from '../stats.js';
import { CLUSTERS, load } from './clustersQuery.js';

const CLUSTER_COUNT = 1_000;

/**
 * The `clusters` query over 1,000 clusters when the answer cache cannot help (any new query text, any read
 * after a write): an API replica on the same database with its answer cache off, against the floor for an
 * uncached answer, a bare `node:https` handler in this process that runs the same SQL and stringifies the rows.
 */
export const clustersMiss: Figure = {
  name: 'clusters-query-miss',
  title: '`clusters` query returning 1,000 clusters on an answer-cache miss: requests/s at 16 connections',
  async run(ctx) {
    const connections = 16;
    const durationMs = ctx.quick ? 2_000 : 10_000;
    const { stack } = ctx;
    // The read fleet of clusters-query (1,000 `read-*` rows), seeded here when that figure did not run.
    const { rows: seeded } = await stack.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM api.clusters WHERE name LIKE 'read-%' AND deleted_at IS NULL`,
    );
    if (Number(seeded[0]?.n ?? 0) === 0) await seedClusters(stack.db, 'read', CLUSTER_COUNT, 'bench-admin');
    const { rows: all } = await stack.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM api.clusters WHERE deleted_at IS NULL`,
    );
    const expected = Number(all[0]?.n ?? 0);

    // The cache is off in this replica, not defeated by varying the query text: every request is parsed,
    // validated and executed, which is what a miss costs (a new query text would also be parsed anew).
    // Its own statement recorder, so a capture holds this replica's statements and none of the stack's pollers'.
    const queries = new QueryStats();
    const api = await startTestApi({
      uaa: stack.uaa,
      db: queries.wrap(stack.db),
      broker: { url: stack.broker.url, ...stack.broker.credentials },
      holder: 'bench-api-no-answer-cache',
      leaseMs: 15_000,
      poll: { initialMs: 250, maxMs: 5_000 },
      answerCache: false,
    });
    const body = JSON.stringify({ query: CLUSTERS });
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${stack.adminToken}` };
    let floor: Server | undefined;
    try {
      // The statements a request sends, captured as the API sent them, are what the floor replays. The
      // replica's own pollers (revocations, leases) may send one meanwhile: over three requests in a row,
      // a request's statements are those sent exactly once per request.
      await api.raw('POST', '/graphql', { headers, body }); // token keys fetched, lazy parts loaded
      const probes = 3;
      queries.capture();
      let probe = await api.raw('POST', '/graphql', { headers, body });
      for (let i = 1; i < probes; i++) probe = await api.raw('POST', '/graphql', { headers, body });
      const captured = queries.endCapture();
      const timesSent = new Map<string, number>();
      for (const c of captured) timesSent.set(c.sql, (timesSent.get(c.sql) ?? 0) + 1);
      const statements = captured
        .filter((c) => timesSent.get(c.sql) === probes)
        .filter((c, i, all) => all.findIndex((o) => o.sql === c.sql) === i);
      const background = [...timesSent.keys()].filter((sql) => timesSent.get(sql) !== probes);
      const answer = JSON.parse(probe.body) as { data?: { clusters: unknown[] } };
      if (probe.status !== 200 || answer.data?.clusters.length !== expected) {
        throw new Error(
          `the clusters query did not answer ${expected} clusters: ${probe.body.slice(0, 300)}`,
        );
      }
      if (statements.length === 0) throw new Error('the clusters query sent no statement to the database');

      const tls = await TlsAuthority.load(await DataDirectory.open(stack.uaa.dataDir));
      const credentials = await tls.serverCredentials('api');
      // Same SQL, in the same order, on the same database handle; the largest result is the answer.
      const floorAnswer = async () => {
        let rows: unknown[] = [];
        for (const s of statements) {
          const result = await stack.db.query(s.sql, s.params);
          if (result.rows.length >= rows.length) rows = result.rows;
        }
        return JSON.stringify({ data: { clusters: rows } });
      };
      const server = createHttpsServer({ key: credentials.key, cert: credentials.cert }, (req, res) => {
        req.resume();
        req.on('end', () => {
          floorAnswer().then(
            (text) => {
              res.writeHead(200, {
                'Content-Type': 'application/json',
                'Content-Length': Buffer.byteLength(text),
              });
              res.end(text);
            },
            (error: unknown) => {
              res.writeHead(500);
              res.end(String(error));
            },
          );
        });
      });
      floor = server;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const floorUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const floorBytes = Buffer.byteLength(await floorAnswer());

      const job = (url: string, ms: number, expectBytes: number) => ({
        url,
        ca: api.caPem,
        headers,
        body,
        connections,
        durationMs: ms,
        expectBytes,
      });
      const apiBytes = Buffer.byteLength(probe.body);
      await load(job(api.graphqlUrl, 1_000, apiBytes)); // warm-up (JIT, TLS sessions, pools)
      const profiler = new CpuProfiler();
      queries.start();
      if (ctx.profile) await profiler.start();
      const cpuBefore = process.cpuUsage();
      const measured = await load(job(api.graphqlUrl, durationMs, apiBytes));
      const cpu = process.cpuUsage(cpuBefore);
      const profile = ctx.profile ? await profiler.stop() : undefined;
      const apiStatements = queries.total.count;
      const topQueries = queries.stop(5);
      await load(job(floorUrl, 1_000, floorBytes));
      const floorCpuBefore = process.cpuUsage();
      const base = await load(job(floorUrl, durationMs, floorBytes));
      const floorCpu = process.cpuUsage(floorCpuBefore);
      if (measured.errors > 0)
        throw new Error(`${measured.errors} API requests failed or answered other bytes`);
      if (base.errors > 0) throw new Error(`${base.errors} floor requests failed or answered other bytes`);
      const apiRps = measured.requests / measured.seconds;
      const floorRps = base.requests / base.seconds;
      const ratio = apiRps / floorRps;
      // Process CPU (every thread, the load worker's included: it is the same on both sides).
      const cpuMsPerAnswer = (cpu.user + cpu.system) / 1000 / measured.requests;
      const floorCpuMsPerAnswer = (floorCpu.user + floorCpu.system) / 1000 / base.requests;
      ctx.log(
        `API (no answer cache) ${round(apiRps, 1)} req/s, ${round(cpuMsPerAnswer, 1)} CPU ms each; floor ${round(floorRps, 1)} req/s, ${round(floorCpuMsPerAnswer, 1)} CPU ms each`,
      );
      return {
        measured: {
          value: round(apiRps, 1),
          unit: 'req/s',
          label: `PKS API \`clusters\`, ${expected} clusters, answer cache off (${round(cpuMsPerAnswer, 1)} CPU ms per answer)`,
        },
        baseline: {
          value: round(floorRps, 1),
          unit: 'req/s',
          label: `node:https handler running the same ${statements.length} statement(s) + JSON.stringify (${round(floorCpuMsPerAnswer, 1)} CPU ms per answer)`,
        },
        ratio: round(ratio, 3),
        ratioLabel: 'API ÷ floor',
        target: { text: '≥ 0.5 of the floor', met: ratio >= 0.5 },
        details: {
          clusters: expected,
          connections,
          durationMs,
          how: 'a second API replica on the same database with answerCache: false (the cache off, not defeated by varying query text); the floor replays the statements the API sent for one such request, with their parameters, on the same database handle, and answers JSON.stringify({ data: { clusters: rows } }) over the same TLS certificate; neither verifies more than that (the floor checks no token)',
          statementsPerAnswer: statements.length,
          backgroundStatementsLeftOut: background.map((sql) => sql.replace(/\s+/g, ' ').trim().slice(0, 120)),
          statementsReplayed: statements.map((s) => s.sql.replace(/\s+/g, ' ').trim().slice(0, 160)),
          apiStatementsPerRequest: round(apiStatements / Math.max(measured.requests, 1), 2),
          apiResponseBytes: apiBytes,
          floorResponseBytes: floorBytes,
          apiLatencyP50Ms: round(quantile(measured.latenciesMs, 0.5), 1),
          apiLatencyP99Ms: round(quantile(measured.latenciesMs, 0.99), 1),
          floorLatencyP50Ms: round(quantile(base.latenciesMs, 0.5), 1),
          floorLatencyP99Ms: round(quantile(base.latenciesMs, 0.99), 1),
          apiCpuMsPerAnswer: round(cpuMsPerAnswer, 2),
          floorCpuMsPerAnswer: round(floorCpuMsPerAnswer, 2),
          topQueries,
        },
        notes:
          ratio >= 0.5
            ? []
            : [
                `missed: ${round(ratio, 3)} of the floor, ${round(0.5 * floorRps - apiRps, 1)} req/s short of 0.5×`,
              ],
        plot: {
          title: 'requests/s at 16 connections, answer cache off',
          x: '',
          y: 'req/s',
          kind: 'bars',
          series: [
            { label: 'PKS API (no cache)', points: [[0, round(apiRps, 1)]] },
            { label: 'same SQL + stringify', points: [[1, round(floorRps, 1)]] },
          ],
        },
        ...(profile ? { profile } : {}),
      };
    } finally {
      if (floor) {
        floor.close();
        floor.closeAllConnections();
      }
      await api.stop();
    }
  },
};
