/**
 * The testing door of `@openpks/broker`: a broker on 127.0.0.1 (port 0) against a test Director and a real
 * UAA, and an OSB client for it, for tests of the broker and of components that call it (the API).
 *
 * ```ts
 * const uaa = await startTestUaa();
 * const bosh = await startTestDirector({ uaa, ipRange: '127.1.42.0/24' });
 * const broker = await startTestBroker({ uaa, bosh, db });
 * const res = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, { body });
 * ```
 */
import { mkdtemp } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UaaTokenVerifier } from '@openpks/auth';
import type { TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import type { Plan } from '@openpks/domain';
import { DataDirectory, SecretBox, TlsAuthority, generatePassword } from '@openpks/pki';
import { createLogger, type Logger } from '@openpks/role';
import { defaultOidcSettings } from '../adapter/plan.js';
import { Broker } from '../broker.js';
import { configServerClusterCa } from '../service/clusterCa.js';

/** What the broker needs of a test UAA (the shape `startTestUaa()` returns). */
export interface TestUaaLike {
  url: string;
  issuer: string;
  caPem: string;
  dataDir: string;
}

export interface TestBrokerOptions {
  uaa: TestUaaLike;
  bosh: TestDirector;
  db: Database;
  plans?: readonly Plan[];
  /** Default: a hostname counts as resolving only when it is an IP (test hostnames are not in DNS). */
  resolves?: (hostname: string) => Promise<boolean>;
  upgrades?: { holder?: string; leaseMs?: number; scanMs?: number };
  /** How the broker drives its operations: a short lease makes a crashed broker's operations free sooner. */
  operations?: { holder?: string; leaseMs?: number; scanMs?: number; stepRetryMs?: number };
  logger?: Logger;
  /** Reuse credentials (a restarted broker). */
  credentials?: { username: string; password: string };
}

export interface OsbResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface OsbRequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Default `2.17`; `null` sends none. */
  version?: string | null;
  auth?: { username: string; password: string } | null;
}

export interface TestBroker {
  broker: Broker;
  url: string;
  credentials: { username: string; password: string };
  osb(method: string, path: string, options?: OsbRequestOptions): Promise<OsbResponse>;
  stop(options?: { release?: boolean }): Promise<void>;
}

export async function startTestBroker(options: TestBrokerOptions): Promise<TestBroker> {
  const dataDir = await DataDirectory.open(
    options.uaa.dataDir ?? (await mkdtemp(join(tmpdir(), 'openpks-broker-'))),
  );
  const tls = await TlsAuthority.load(dataDir);
  const secrets = await SecretBox.fromDataDirectory(dataDir);
  const credentials = options.credentials ?? { username: 'broker', password: generatePassword() };
  const broker = await Broker.start({
    db: options.db,
    director: options.bosh.client,
    plans: options.plans ?? parseConfig({}).plans,
    oidc: defaultOidcSettings(options.uaa.url, options.uaa.caPem),
    secrets,
    clusterCa: configServerClusterCa(options.bosh.client, options.bosh.configServer),
    idTokenVerifier: new UaaTokenVerifier({
      issuer: options.uaa.issuer,
      jwksUrl: `${options.uaa.url}/token_keys`,
      audience: 'pks_cluster_client',
      ca: options.uaa.caPem,
    }),
    credentials,
    tls: await tls.serverCredentials('broker'),
    host: '127.0.0.1',
    port: 0,
    logger: options.logger ?? createLogger({ level: 'silent', pretty: false }),
    resolves: options.resolves ?? (async (host) => /^[\d.]+$/.test(host)),
    ...(options.upgrades ? { upgrades: options.upgrades } : {}),
    ...(options.operations ? { operations: options.operations } : {}),
  });
  const agent = new Agent({ ca: tls.caPem, keepAlive: true });
  const osb = (method: string, path: string, req: OsbRequestOptions = {}): Promise<OsbResponse> =>
    new Promise((resolve, reject) => {
      const auth = req.auth === undefined ? credentials : req.auth;
      const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
      if (req.version !== null) headers['X-Broker-API-Version'] = req.version ?? '2.17';
      if (auth !== null)
        headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      const body = req.body === undefined ? undefined : JSON.stringify(req.body);
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = request(new URL(path, broker.url), { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? undefined : JSON.parse(text),
          });
        });
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(body);
    });
  return {
    broker,
    url: broker.url,
    credentials,
    osb,
    stop: async (stopOptions) => {
      await broker.stop(stopOptions);
      agent.destroy();
    },
  };
}
