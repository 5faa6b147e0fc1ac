import * as http from 'node:http';
import * as https from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

/** A closed-loop load generator: `connections` keep-alive connections, each sending its next request as soon as the last answered. */
export interface LoadRequest {
  url: string;
  ca: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationMs: number;
  /** Responses must be exactly this many bytes (a wrong answer is not a fast answer). */
  expectBytes: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

async function run(job: LoadRequest): Promise<LoadResult> {
  const url = new URL(job.url);
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ ca: job.ca, keepAlive: true, maxSockets: job.connections })
    : new http.Agent({ keepAlive: true, maxSockets: job.connections });
  const request = secure ? https.request : http.request;
  let requests = 0;
  let errors = 0;
  const latenciesMs: number[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...job.headers, 'Content-Length': Buffer.byteLength(job.body) } },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => {
            if (res.statusCode === 200 && bytes === job.expectBytes) {
              requests += 1;
              if (latenciesMs.length < 100_000) latenciesMs.push(performance.now() - started);
            } else errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(job.body);
    });
  const began = performance.now();
  const deadline = began + job.durationMs;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  agent.destroy();
  return { requests, errors, seconds, latenciesMs };
}

parentPort!.postMessage(await run(workerData as LoadRequest));
