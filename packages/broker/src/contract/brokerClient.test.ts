import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { ConflictError, InputError, NotFoundError } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { PKS_SERVICE_ID } from '../service/catalog.js';
import { startTestBroker, type TestBroker } from '../testing/index.js';
import { BrokerClient, BrokerError, BrokerUnreachableError, domainErrorOf } from './brokerClient.js';
import {
  adoptedOperationStringOf,
  boshContextIdOf,
  OperationType,
  parseOperationData,
} from './operationData.js';

// The one client of the broker (the PKS API's and pks-admin's) against a real broker on loopback.

const plans = parseConfig({
  plans: {
    small: { master: { instances: 1 }, worker: { instances: 1, max_instances: 10 } },
    medium: { master: { instances: 1 }, worker: { instances: 2, max_instances: 20 } },
  },
}).plans;
const planId = plans[0]!.id;

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
let broker: TestBroker;
let client: BrokerClient;

beforeAll(async () => {
  uaa = await startTestUaa();
  db = await testDatabaseBackends()[0]!.open();
  bosh = await startTestDirector({ uaa, db, ipRange: '127.1.69.0/24' });
  broker = await startTestBroker({ uaa, bosh, db, plans });
  client = new BrokerClient({ url: broker.url, ...broker.credentials, ca: uaa.caPem });
}, 120_000);
afterAll(async () => {
  client?.close();
  await broker?.stop();
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

async function settled(id: string, operation: string | undefined) {
  for (;;) {
    const last = await client.lastOperation(id, { serviceId: PKS_SERVICE_ID, planId, operation });
    if (last === 'gone' || last === 'unknown' || last.state !== 'in progress') return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function refusal(call: Promise<unknown>): Promise<BrokerError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BrokerError);
  return error as BrokerError;
}

describe('BrokerClient', () => {
  it('speaks OSB as the platform: catalog, provision, last_operation, refusals, bind, deprovision', async () => {
    const catalog = await client.catalog();
    expect(catalog.services[0]).toMatchObject({ id: PKS_SERVICE_ID, name: 'pks' });
    expect(catalog.services[0]!.plans.map((p) => p.name)).toEqual(['small', 'medium']);

    const id = randomUUID();
    const accepted = await client.provision(
      id,
      {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: 'client.example.com' },
      },
      'alana',
    );
    expect(accepted.status).toBe(202);
    expect(boshContextIdOf(accepted.operation)).toEqual(expect.any(String));
    expect(accepted.dashboardUrl).toMatch(/^https:\/\/client\.example\.com:8443\//);
    // The identity the client sent is the one the broker recorded.
    const { rows } = await db.query<{ originating_identity: unknown }>(
      'SELECT originating_identity FROM broker.operations WHERE id = $1',
      [boshContextIdOf(accepted.operation)],
    );
    expect(rows[0]!.originating_identity).toEqual({ platform: 'pks', value: { user_id: 'alana' } });
    expect(await settled(id, accepted.operation)).toEqual({
      state: 'succeeded',
      description: 'Instance provisioning completed',
    });

    // Refusals carry the broker's status, OSB error code and description, and read as domain errors.
    const planChange = await refusal(
      client.update(id, { service_id: PKS_SERVICE_ID, plan_id: plans[1]!.id, parameters: {} }, 'alana'),
    );
    expect(planChange).toMatchObject({ status: 422, error: 'UnprocessableEntity' });
    expect(planChange.description).toMatch(/^A cluster cannot change plans/);
    expect(domainErrorOf(planChange)).toBeInstanceOf(ConflictError);
    expect((domainErrorOf(planChange) as Error).message).toBe(planChange.description);
    const badDrain = await refusal(
      client.update(
        id,
        {
          service_id: PKS_SERVICE_ID,
          parameters: { kubernetes_setting_cluster_details: { kubelet_drain_grace_period: '-5' } },
        },
        'alana',
      ),
    );
    expect(badDrain).toMatchObject({
      status: 400,
      error: 'BadRequest',
      description:
        'kubernetes_setting_cluster_details.kubelet_drain_grace_period: "-5" is not allowed (allowed: an integer from -1 to 86400)',
    });
    expect(domainErrorOf(badDrain)).toBeInstanceOf(InputError);
    expect(
      await client.lastOperation(randomUUID(), { serviceId: PKS_SERVICE_ID, planId, operation: undefined }),
    ).toBe('unknown');

    await uaa.createUser('alana', 'Secret-pass-1', ['pks.clusters.manage']);
    const tokens = await uaa.tokenFor({
      username: 'alana',
      password: 'Secret-pass-1',
      clientId: 'pks_cluster_client',
    });
    const credentials = await client.bind(
      id,
      randomUUID(),
      {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        parameters: {
          user_name: 'alana',
          id_token: tokens.id_token!,
          refresh_token: tokens.refresh_token!,
          cluster_name: 'c',
        },
      },
      'alana',
    );
    expect((credentials.kubeconfig as { 'current-context': string })['current-context']).toBe('c');

    const deleting = await client.deprovision(id, PKS_SERVICE_ID, planId, 'alana');
    expect(deleting.status).toBe(202);
    expect(await settled(id, deleting.operation)).toMatchObject({ state: 'succeeded' });
    // Gone already: OSB's 410, which a platform reads as done.
    expect((await client.deprovision(id, PKS_SERVICE_ID, planId, 'alana')).status).toBe(410);
    expect(domainErrorOf(await refusal(client.upgradeRun(randomUUID())))).toBeInstanceOf(NotFoundError);
  }, 120_000);

  it('runs upgrade-all through the management API', async () => {
    const id = randomUUID();
    const created = await client.provision(
      id,
      {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: 'runs.example.com' },
      },
      'alana',
    );
    await settled(id, created.operation);
    const run = await client.startUpgradeRun(
      { instances: [id], canaries: [], max_in_flight: 1, operation_type: 'upgrade' },
      'operator',
    );
    expect(run).toMatchObject({ state: expect.any(String), created_by: 'operator', max_in_flight: 1 });
    expect(typeof run.created_at).toBe('string');
    let current = run;
    while (['pending', 'running'].includes(current.state)) current = await client.upgradeRun(run.id);
    expect(current.state).toBe('succeeded');
    expect(current.instances).toEqual([expect.objectContaining({ instance_id: id, state: 'skipped' })]);
    expect((await client.upgradeRuns()).map((r) => r.id)).toContain(run.id);
    expect((await client.activeUpgradeRuns()).map((r) => r.id)).not.toContain(run.id);
    // Ended, it is still among the recent ones, as a summary with when it finished.
    const recent = (await client.recentUpgradeRuns()).find((r) => r.id === run.id);
    expect(recent).toMatchObject({ state: 'succeeded', finished_at: expect.any(String) });
    expect(recent).not.toHaveProperty('instances');
    expect((await client.cancelUpgradeRun(run.id, 'operator')).state).toBe('succeeded');
  }, 120_000);

  it('polls an operation adopted from an upgrade run with the contract’s adopted operation data', async () => {
    const id = randomUUID();
    const created = await client.provision(
      id,
      {
        service_id: PKS_SERVICE_ID,
        plan_id: planId,
        organization_guid: 'org',
        space_guid: 'space',
        parameters: { kubernetes_master_host: 'adopted.example.com' },
      },
      'alana',
    );
    await settled(id, created.operation);
    // A recreate always has work to do: the run starts a broker operation of its own for the instance.
    const run = await client.startUpgradeRun(
      { instances: [id], canaries: [], max_in_flight: 1, operation_type: 'recreate' },
      'operator',
    );
    let operationId: string | null = null;
    while (operationId === null) {
      const current = await client.upgradeRun(run.id);
      operationId = current.instances[0]!.operation_id;
      expect(current.instances[0]!.state).not.toBe('skipped');
      if (operationId === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const adopted = adoptedOperationStringOf(operationId, OperationType.RECREATE);
    expect(parseOperationData(adopted)).toEqual({ BoshContextID: operationId, OperationType: 'recreate' });
    expect(boshContextIdOf(adopted)).toBe(operationId);
    expect(await settled(id, adopted)).toMatchObject({ state: 'succeeded' });
    // The broker's record of it is that operation: the run's, not the instance's create.
    const { rows } = await db.query<{ type: string; state: string }>(
      'SELECT type, state FROM broker.operations WHERE id = $1',
      [operationId],
    );
    expect(rows).toEqual([{ type: 'recreate', state: 'succeeded' }]);
  }, 120_000);

  it('speaks to a broker over plain HTTP as over HTTPS: the same headers, answers and refusals', async () => {
    const front = await plainHttpFront();
    const plain = new BrokerClient({ url: front.url, ...broker.credentials });
    try {
      expect(plain.url).toBe(front.url);
      expect((await plain.catalog()).services[0]).toMatchObject({ id: PKS_SERVICE_ID });
      const id = randomUUID();
      const accepted = await plain.provision(
        id,
        {
          service_id: PKS_SERVICE_ID,
          plan_id: planId,
          organization_guid: 'org',
          space_guid: 'space',
          parameters: { kubernetes_master_host: 'plain.example.com' },
        },
        'kai',
      );
      expect(accepted.status).toBe(202);
      const last = await plain.lastOperation(id, {
        serviceId: PKS_SERVICE_ID,
        planId,
        operation: accepted.operation,
      });
      expect(last).toMatchObject({ state: expect.stringMatching(/^(in progress|succeeded)$/) });
      expect(front.seen.map((headers) => headers['x-broker-api-version'])).toEqual(['2.17', '2.17', '2.17']);
      expect(front.seen[1]!['x-broker-api-originating-identity']).toBe(
        `pks ${Buffer.from(JSON.stringify({ user_id: 'kai' })).toString('base64')}`,
      );
      expect(front.seen[1]!['content-type']).toBe('application/json');
      const busy = await refusal(
        plain.update(id, { service_id: PKS_SERVICE_ID, plan_id: plans[1]!.id, parameters: {} }, 'kai'),
      );
      expect(busy.status).toBeGreaterThanOrEqual(400);
      expect(busy.description).not.toBe(`HTTP ${busy.status}`);
      await settled(id, accepted.operation);
      const wrong = new BrokerClient({ url: front.url, username: 'broker', password: 'wrong' });
      expect(await refusal(wrong.catalog())).toMatchObject({ status: 401, description: 'Unauthorized' });
      wrong.close();
    } finally {
      plain.close();
      await front.close();
    }
    expect(() => new BrokerClient({ url: 'ftp://127.0.0.1:21', username: 'b', password: 'p' })).toThrow(
      InputError,
    );
  }, 120_000);

  it('tells a refusal from no answer: bad credentials, an untrusted certificate, nothing listening, silence', async () => {
    const wrong = new BrokerClient({ url: broker.url, username: 'broker', password: 'wrong', ca: uaa.caPem });
    expect(await refusal(wrong.catalog())).toMatchObject({ status: 401, description: 'Unauthorized' });
    wrong.close();

    const untrusted = new BrokerClient({ url: broker.url, ...broker.credentials });
    const tls = await untrusted.catalog().catch((e: unknown) => e);
    expect(tls).toBeInstanceOf(BrokerUnreachableError);
    expect((tls as Error).message).toMatch(
      /^cannot reach the broker at https:\/\/127\.0\.0\.1:\d+: .*certificate/,
    );
    untrusted.close();

    // A port with nobody on it, a server that never answers, and one that answers 500 in HTML.
    const silent = await listen(() => undefined);
    const broken = await listen((res) => {
      res.writeHead(500, { 'Content-Type': 'text/html' });
      res.end('<h1>proxy error</h1>');
    });
    const closedPort = await listen(() => undefined);
    const closedUrl = urlOf(closedPort);
    await new Promise<void>((resolve) => closedPort.close(() => resolve()));
    try {
      const nobody = await new BrokerClient({ url: closedUrl, username: 'b', password: 'p' })
        .catalog()
        .catch((e: unknown) => e);
      expect(nobody).toBeInstanceOf(BrokerUnreachableError);
      expect((nobody as Error).message).toMatch(/ECONNREFUSED/);
      const slow = new BrokerClient({ url: urlOf(silent), username: 'b', password: 'p', timeoutMs: 200 });
      const timedOut = await slow.catalog().catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(BrokerUnreachableError);
      expect((timedOut as Error).message).toBe(
        `the broker at ${urlOf(silent)} did not answer GET /v2/catalog within 200 ms`,
      );
      const failing = new BrokerClient({ url: urlOf(broken), username: 'b', password: 'p' });
      const failure = await refusal(failing.catalog());
      expect(failure).toMatchObject({ status: 500, error: undefined, description: '<h1>proxy error</h1>' });
      expect((domainErrorOf(failure) as Error).message).toBe(
        'broker error: broker answered 500: <h1>proxy error</h1>',
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });
});

/**
 * A plain-HTTP front for the real broker (as a loopback set-up without TLS would have), recording the
 * headers each request came with.
 */
async function plainHttpFront(): Promise<{
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const upstream = httpsRequest(
      new URL(req.url ?? '/', broker.url),
      { method: req.method, headers: req.headers, ca: uaa.caPem, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: urlOf(server),
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(answer: (res: ServerResponse) => void): Promise<Server> {
  const server = createServer((_req, res) => answer(res));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
