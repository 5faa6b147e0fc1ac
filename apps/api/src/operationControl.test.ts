import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi, type TestApiOptions } from './testing/index.js';

/**
 * The line between an API replica and the broker, at the TCP level (TLS passes through untouched): it can
 * be cut (connections refused, as when the broker is gone) or made slow (every answer held back).
 */
class BrokerLine {
  down = false;
  delayMs = 0;
  readonly #sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async open(target: string): Promise<BrokerLine> {
    const { port: targetPort } = new URL(target);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const line = new BrokerLine(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (client) => {
      if (line.down) {
        client.destroy();
        return;
      }
      line.#sockets.add(client);
      const upstream = connect(Number(targetPort), '127.0.0.1');
      line.#sockets.add(upstream);
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        const send = () => !client.destroyed && client.write(chunk);
        if (line.delayMs > 0) setTimeout(send, line.delayMs);
        else send();
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        line.#sockets.delete(client);
        line.#sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', () => setTimeout(end, line.delayMs));
      client.on('error', end);
      upstream.on('error', end);
    });
    return line;
  }

  /** Cuts the line: open connections drop and new ones are refused. */
  cut(): void {
    this.down = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// Operations that cannot finish on their own: a broker that is gone, one that is slow, an admin who steps in.
describe.each(testDatabaseBackends())('operations an admin can rely on, on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  const apis: TestApi[] = [];
  const lines: BrokerLine[] = [];
  let admin: string;
  let manager: string;

  const startApi = async (options: Partial<TestApiOptions> = {}) => {
    const line = await BrokerLine.open(broker.url);
    lines.push(line);
    const api = await startTestApi({
      uaa,
      db,
      broker: { url: line.url, ...broker.credentials },
      director: bosh.client,
      ...options,
    });
    apis.push(api);
    return { api, line };
  };
  const cluster = async (api: TestApi, name: string) =>
    (
      await api.query(
        admin,
        `{ cluster(name:"${name}"){ lastAction lastActionState lastActionDescription workerInstances } }`,
      )
    ).data?.cluster as Record<string, string | number> | undefined;
  const until = async (
    api: TestApi,
    name: string,
    done: (c: Record<string, string | number> | undefined) => boolean,
    timeoutMs = 60_000,
  ) => {
    const start = Date.now();
    for (;;) {
      const c = await cluster(api, name);
      if (done(c)) return c!;
      if (Date.now() - start > timeoutMs) throw new Error(`${name} never got there: ${JSON.stringify(c)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const succeeded = (c: Record<string, string | number> | undefined) => c?.lastActionState === 'succeeded';
  const create = async (api: TestApi, name: string) => {
    const { errors } = await api.query(
      admin,
      `mutation{ createCluster(input:{name:"${name}", planName:"small", externalHostname:"${name}.example.test", numNodes:1}){ name } }`,
    );
    expect(errors).toBeUndefined();
    await until(api, name, succeeded);
  };
  /** Waits until the tracker has tried the broker for the cluster's operation and found it gone. */
  const outageRecorded = async (name: string) => {
    const start = Date.now();
    for (;;) {
      const { rows } = await db.query<{ since: Date | null }>(
        `SELECT o.broker_unreachable_since AS since FROM api.operations o
         JOIN api.clusters c ON c.uuid = o.cluster_uuid
         WHERE c.name = $1 AND c.deleted_at IS NULL AND o.state = 'in progress'`,
        [name],
      );
      if (rows[0]?.since) return;
      if (Date.now() - start > 30_000) throw new Error(`no broker outage recorded for ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const resize = (api: TestApi, name: string, workers: number) =>
    api.query(admin, `mutation{ resizeCluster(name:"${name}", numNodes:${workers}){ lastActionState } }`);

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: `127.1.${backend.name === 'pglite' ? 120 : 121}.0/24`,
    });
    broker = await startTestBroker({ uaa, bosh, db });
    await uaa.createUser('ops-admin', 'ops-admin-password-1', ['pks.clusters.admin']);
    await uaa.createUser('ops-manager', 'ops-manager-password-1', ['pks.clusters.manage']);
    admin = (await uaa.tokenFor({ username: 'ops-admin', password: 'ops-admin-password-1' })).access_token;
    manager = (await uaa.tokenFor({ username: 'ops-manager', password: 'ops-manager-password-1' }))
      .access_token;
  }, 120_000);

  afterAll(async () => {
    for (const api of apis) await api.stop();
    for (const line of lines) await line.close();
    await broker?.stop();
    await bosh?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('ends an operation failed with the reason once the broker has not answered for the limit', async () => {
    const { api, line } = await startApi({ holder: 'deadline', brokerUnreachableMs: 2_000 });
    await create(api, 'stranded');
    line.cut();
    const started = Date.now();
    expect((await resize(api, 'stranded', 2)).errors).toBeUndefined();
    const failed = await until(api, 'stranded', (c) => c?.lastActionState === 'failed', 30_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(failed.lastActionDescription).toMatch(
      /^the broker did not answer for 2 s \(last error: .+\); the cluster may be partly changed: check it with `pks cluster`, then repeat the change or delete the cluster$/,
    );
    line.down = false;
    // Failed, the cluster can be changed again.
    expect((await resize(api, 'stranded', 2)).errors).toBeUndefined();
    await until(api, 'stranded', (c) => succeeded(c) && c?.workerInstances === 2);
    await api.stop();
  }, 90_000);

  it('ends an operation failed with the reason once the broker has reported it in progress past the limit', async () => {
    const { api } = await startApi({ holder: 'polling-deadline', pollingDeadlineMs: 2_000 });
    await create(api, 'endless');
    // The new worker VM never comes: the Director's deploy hangs, and the broker says "in progress".
    bosh.director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'worker', hang: true });
    try {
      const started = Date.now();
      expect((await resize(api, 'endless', 2)).errors).toBeUndefined();
      const failed = await until(api, 'endless', (c) => c?.lastActionState === 'failed', 30_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(failed.lastActionDescription).toMatch(
        /^the broker reported this update in progress for more than 2 s \(its last word: Instance update in progress\); the broker and the Director may still be working on it: check the cluster with `pks cluster`, then repeat the change or delete the cluster$/,
      );
    } finally {
      bosh.director.cpi.clearFaults();
    }
    await api.stop();
  }, 90_000);

  it('lets an admin drive a stuck operation again at once, and no one else', async () => {
    // Polling so slow that, without the retry, nothing would happen within the test.
    const { api, line } = await startApi({ holder: 'retry', poll: { initialMs: 60_000, maxMs: 60_000 } });
    await create(api, 'stuck');
    line.cut();
    expect((await resize(api, 'stuck', 2)).errors).toBeUndefined();
    // The tracker has re-sent once, failed, and now waits its 60 s before the next try.
    await outageRecorded('stuck');
    line.down = false;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await cluster(api, 'stuck')).toMatchObject({
      lastAction: 'UPDATE',
      lastActionState: 'in progress',
    });

    // An admin sees it among the operations in progress; a manager may not list operations at all.
    const listed = await api.query(
      admin,
      '{ clusterOperations(clusterName:"stuck"){ clusterName kind phase state originatingUser finishedAt } }',
    );
    expect(listed.errors).toBeUndefined();
    expect(listed.data.clusterOperations).toEqual([
      {
        clusterName: 'stuck',
        kind: 'update',
        phase: 'requested',
        state: 'in progress',
        originatingUser: 'ops-admin',
        finishedAt: null,
      },
    ]);
    const hidden = await api.query(manager, '{ clusterOperations { id } }');
    expect(hidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const refused = await api.query(manager, 'mutation{ retryClusterOperation(name:"stuck"){ name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const retried = await api.query(
      admin,
      'mutation{ retryClusterOperation(name:"stuck"){ lastActionState } }',
    );
    expect(retried.errors).toBeUndefined();
    expect(retried.data.retryClusterOperation.lastActionState).toBe('in progress');
    await until(api, 'stuck', (c) => succeeded(c) && c?.workerInstances === 2, 30_000);

    const nothing = await api.query(admin, 'mutation{ retryClusterOperation(name:"stuck"){ name } }');
    expect(nothing.errors?.[0]).toMatchObject({
      message: 'Cluster stuck has no operation in progress',
      extensions: { code: 'CONFLICT' },
    });
    await api.stop();
  }, 90_000);

  it('lets an admin abandon a stuck operation, after which the cluster deletes cleanly', async () => {
    const { api, line } = await startApi({ holder: 'abandon', poll: { initialMs: 60_000, maxMs: 60_000 } });
    await create(api, 'given-up');
    line.cut();
    expect((await resize(api, 'given-up', 2)).errors).toBeUndefined();
    await outageRecorded('given-up');
    const abandoned = await api.query(
      admin,
      'mutation{ abandonClusterOperation(name:"given-up", reason:"broker moved"){ lastActionState lastActionDescription } }',
    );
    expect(abandoned.errors).toBeUndefined();
    expect(abandoned.data.abandonClusterOperation).toEqual({
      lastActionState: 'failed',
      lastActionDescription:
        'update abandoned by ops-admin: broker moved; the broker and the Director may still be working on it: ' +
        'check the cluster, then repeat the change or delete the cluster',
    });
    const audit = await api.query(admin, '{ auditEvents(limit: 5) { action target outcome } }');
    expect(audit.data.auditEvents).toContainEqual({
      action: 'abandonClusterOperation',
      target: 'given-up',
      outcome: 'succeeded',
    });

    line.down = false;
    const deleted = await api.query(admin, 'mutation{ deleteCluster(name:"given-up"){ lastAction } }');
    expect(deleted.errors).toBeUndefined();
    await until(api, 'given-up', (c) => c === undefined);
    await api.stop();
  }, 90_000);

  it('never lets two replicas drive one operation, with a broker slower than the lease', async () => {
    const leaseMs = 1_000;
    const first = await startApi({ holder: 'replica-a', leaseMs });
    const second = await startApi({ holder: 'replica-b', leaseMs });
    await create(first.api, 'contested');
    // Every broker answer now takes 2.5 s: more than twice the lease.
    first.line.delayMs = 2_500;
    second.line.delayMs = 2_500;
    let both = 0;
    const sampler = setInterval(() => {
      if (first.api.server.tracker.following > 0 && second.api.server.tracker.following > 0) both += 1;
    }, 20);
    try {
      expect((await resize(first.api, 'contested', 2)).errors).toBeUndefined();
      await until(first.api, 'contested', (c) => succeeded(c) && c?.workerInstances === 2, 90_000);
    } finally {
      clearInterval(sampler);
    }
    expect(both).toBe(0);
    await first.api.stop();
    await second.api.stop();
  }, 120_000);
});
