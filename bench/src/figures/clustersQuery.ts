import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { TlsAuthority, DataDirectory } from '@openpks/pki';
import type { Figure } from '../figure.js';
import { CpuProfiler } from '../profile.js';
import { seedClusters } from '../seed.js';
import { quantile, round } from '../stats.js';
import type { LoadRequest, LoadResult } from './loadWorker.js';

/** The pks CLI's `clusters` query (graphql/operations/cli.graphql `Clusters`). */
const CLUSTER_FIELDS = `name uuid planName owner lastAction lastActionState lastActionDescription
  kubernetesMasterHost kubernetesMasterPort kubernetesMasterIps workerInstances k8sVersion pksVersion
  networkProfileName`;
export const CLUSTERS = `query Clusters { clusters { ${CLUSTER_FIELDS} } }`;

export function load(job: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./loadWorker.js', import.meta.url), { workerData: job });
    worker.once('message', (result: LoadResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited ${code}`)));
  });
}

/** `clusters` returning 1,000 clusters at 16 concurrent connections, against a bare server with the same bytes. */
export const clustersQuery: Figure = {
  name: 'clusters-query',
  title: '`clusters` query returning 1,000 clusters: requests/s at 16 concurrent connections',
  async run(ctx) {
    const clusterCount = 1_000;
    const connections = 16;
    const durationMs = ctx.quick ? 1_500 : 10_000;
    const { stack } = ctx;
    {
      await seedClusters(stack.db, 'read', clusterCount, 'bench-admin');
      const body = JSON.stringify({ query: CLUSTERS });
      const headers = {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${stack.adminToken}`,
      };
      const probe = await stack.api.raw('POST', '/graphql', { headers, body });
      const answer = JSON.parse(probe.body) as { data?: { clusters: unknown[] }; errors?: unknown };
      if (probe.status !== 200 || answer.data?.clusters.length !== clusterCount) {
        throw new Error(
          `the clusters query did not answer ${clusterCount} clusters: ${probe.body.slice(0, 300)}`,
        );
      }
      const bytes = Buffer.from(probe.body, 'utf8');
      const job = (url: string, ms: number): LoadRequest => ({
        url,
        ca: stack.api.caPem,
        headers,
        body,
        connections,
        durationMs: ms,
        expectBytes: bytes.length,
      });

      // Baselines: Node's own HTTP server answering the same bytes, over the same TLS certificate as the
      // API (the like-for-like ratio), and over plain HTTP as the issue words it.
      const tls = await TlsAuthority.load(await DataDirectory.open(stack.uaa.dataDir));
      const credentials = await tls.serverCredentials('api');
      const answerBytes = (req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
          res.end(bytes);
        });
      };
      const bareTls = createHttpsServer({ key: credentials.key, cert: credentials.cert }, answerBytes);
      const bare = createHttpServer(answerBytes);
      await new Promise<void>((r) => bareTls.listen(0, '127.0.0.1', r));
      await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
      const tlsUrl = `https://127.0.0.1:${(bareTls.address() as AddressInfo).port}/graphql`;
      const plainUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/graphql`;
      try {
        await load(job(stack.api.graphqlUrl, ctx.quick ? 500 : 1_000)); // warm-up (JIT, TLS session, connection pool)
        const profiler = new CpuProfiler();
        stack.queries.start();
        if (ctx.profile) await profiler.start();
        const api = await load(job(stack.api.graphqlUrl, durationMs));
        const profile = ctx.profile ? await profiler.stop() : undefined;
        const topQueries = stack.queries.stop(5);
        ctx.log(`API ${round(api.requests / api.seconds, 1)} req/s (${api.errors} errors)`);
        await load(job(tlsUrl, 500));
        const baseTls = await load(job(tlsUrl, durationMs));
        await load(job(plainUrl, 500));
        const basePlain = await load(job(plainUrl, durationMs));
        // The paginated read the console and scripts should use: the first page of 50, same fields.
        const pageBody = JSON.stringify({
          query: `{ clustersConnection(first: 50) { edges { cursor node { ${CLUSTER_FIELDS} } } pageInfo { hasNextPage endCursor } totalCount } }`,
        });
        const pageProbe = await stack.api.raw('POST', '/graphql', { headers, body: pageBody });
        const page = await load({
          ...job(stack.api.graphqlUrl, durationMs / 2),
          body: pageBody,
          expectBytes: Buffer.byteLength(pageProbe.body),
        });
        const apiRps = api.requests / api.seconds;
        const tlsRps = baseTls.requests / baseTls.seconds;
        const plainRps = basePlain.requests / basePlain.seconds;
        const ratio = apiRps / tlsRps;
        if (api.errors > 0) throw new Error(`${api.errors} API requests failed or answered other bytes`);
        return {
          measured: { value: round(apiRps, 1), unit: 'req/s', label: 'PKS API `clusters`, 1,000 clusters' },
          baseline: {
            value: round(tlsRps, 1),
            unit: 'req/s',
            label: 'bare node:https server, same bytes, same TLS certificate',
          },
          ratio: round(ratio, 3),
          ratioLabel: 'API ÷ baseline',
          target: { text: '≥ 0.5 of baseline', met: ratio >= 0.5 },
          details: {
            clusters: clusterCount,
            connections,
            durationMs,
            responseBytes: bytes.length,
            apiLatencyP50Ms: round(quantile(api.latenciesMs, 0.5), 1),
            apiLatencyP99Ms: round(quantile(api.latenciesMs, 0.99), 1),
            baselineTlsLatencyP50Ms: round(quantile(baseTls.latenciesMs, 0.5), 1),
            plainHttpBaselineRps: round(plainRps, 1),
            ratioToPlainHttp: round(apiRps / plainRps, 3),
            firstPageOf50Rps: round(page.requests / page.seconds, 1),
            firstPageOf50LatencyP50Ms: round(quantile(page.latenciesMs, 0.5), 1),
            topQueries,
          },
          notes:
            ratio >= 0.5
              ? []
              : [
                  `missed: ${round(ratio, 3)} of baseline, ${round(0.5 * tlsRps - apiRps, 1)} req/s short of 0.5×`,
                ],
          plot: {
            title: 'requests/s at 16 connections',
            x: '',
            y: 'req/s',
            kind: 'bars',
            series: [
              { label: 'PKS API', points: [[0, round(apiRps, 1)]] },
              { label: 'node:https', points: [[1, round(tlsRps, 1)]] },
              { label: 'node:http', points: [[2, round(plainRps, 1)]] },
            ],
          },
          ...(profile ? { profile } : {}),
        };
      } finally {
        bareTls.close();
        bare.close();
        bareTls.closeAllConnections();
        bare.closeAllConnections();
      }
    }
  },
};
