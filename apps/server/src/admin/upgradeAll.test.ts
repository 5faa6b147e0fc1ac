import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { PKS_SERVICE_ID } from '@openpks/broker';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { parseConfig } from '@openpks/config';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { runAdminCli } from './adminCli.js';
import { capture } from './testSupport.js';

// `pks-admin upgrade-all-clusters`: the tile-style upgrade of every cluster, on the broker's durable
// upgrade-all, against a real broker and the embedded Director (sim CPI).

const plansWith = (workerVmType: string): Plan[] =>
  parseConfig({}).plans.map((p) =>
    p.name === 'small'
      ? {
          ...p,
          master: { ...p.master, instances: 1 },
          worker: { ...p.worker, instances: 1, vmType: workerVmType },
        }
      : p,
  );

describe('pks-admin upgrade-all-clusters', () => {
  let uaa: TestUaa;
  let db: Database;
  let bosh: TestDirector;
  let broker: TestBroker;
  let dataDir: string;
  const instances: string[] = [];

  const startBroker = async (plans: Plan[]) => {
    broker = await startTestBroker({
      uaa,
      bosh,
      db,
      plans,
      upgrades: { scanMs: 50 },
      ...(broker ? { credentials: broker.credentials } : {}),
    });
    // What the broker role leaves in pks-server's data directory.
    await writeFile(join(dataDir, 'broker/url'), `${broker.url}\n`);
    await writeFile(join(dataDir, 'broker/password'), `${broker.credentials.password}\n`);
  };

  async function run(...argv: string[]) {
    const stdout = capture();
    const stderr = capture();
    const code = await runAdminCli(['--data-dir', dataDir, ...argv], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: {},
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  beforeAll(async () => {
    uaa = await startTestUaa();
    db = await testDatabaseBackends()[0]!.open();
    bosh = await startTestDirector({ uaa, db, ipRange: '127.1.100.0/24', workers: 4 });
    dataDir = await mkdtemp(join(tmpdir(), 'openpks-admin-upgrade-'));
    await mkdir(join(dataDir, 'broker'), { recursive: true });
    await cp(join(uaa.dataDir, 'tls'), join(dataDir, 'tls'), { recursive: true });
    const plans = plansWith('medium');
    await startBroker(plans);
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      instances.push(id);
      const res = await broker.osb('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, {
        body: {
          service_id: PKS_SERVICE_ID,
          plan_id: plans.find((p) => p.name === 'small')!.id,
          organization_guid: 'org',
          space_guid: 'space',
          parameters: { kubernetes_master_host: `u${i}.example.com` },
        },
      });
      expect(res.status).toBe(202);
      const operation = JSON.parse(res.body.operation).BoshContextID as string;
      for (let t = 0; t < 600; t++) {
        const state = await broker.broker.service.operationState(operation);
        if (state?.state !== 'in progress') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 180_000);

  afterAll(async () => {
    await broker?.stop();
    await bosh?.stop();
    await db?.close();
    await uaa?.stop();
  });

  it('skips clusters that are already current', async () => {
    const result = await run('upgrade-all-clusters', '--wait', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const run_ = JSON.parse(result.stdout);
    expect(run_.state).toBe('succeeded');
    expect(run_.instances.map((i: { state: string }) => i.state)).toEqual(['skipped', 'skipped', 'skipped']);
  }, 60_000);

  it('upgrades every cluster of a new version: the canary first, alone, then up to max in flight', async () => {
    await broker.stop();
    await startBroker(plansWith('large'));
    const result = await run('upgrade-all-clusters', '--canaries', '1', '--max-in-flight', '2', '--wait');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/started for 3 service instances/);
    expect(result.stdout).toMatch(/\(canary\) {2}in progress/);
    const id = /Upgrade run (\S+) succeeded: 3 instances upgraded/.exec(result.stdout)?.[1];
    expect(id).toBeDefined();
    const shown = JSON.parse((await run('upgrade-run', id!, '--json')).stdout);
    expect(shown.created_by).toBe('operator');
    const [canary, ...rest] = shown.instances as {
      is_canary: boolean;
      started_at: string;
      finished_at: string;
    }[];
    expect(canary!.is_canary).toBe(true);
    // Nothing else started before the canary had finished.
    for (const other of rest)
      expect(Date.parse(other.started_at)).toBeGreaterThanOrEqual(Date.parse(canary!.finished_at));
    const listed = await run('upgrade-runs');
    expect(listed.stdout).toContain(id!);
    expect(listed.stdout).toMatch(/succeeded\s+3\s+operator/);
    const cancelled = await run('cancel-upgrade-run', id!);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/0 service instances cancelled/);
  }, 120_000);

  it('leaves no connection to the broker open when a command ends, succeeded or failed', async () => {
    const server = broker.broker.listener.server;
    const open = () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    /** The broker's open connections once closed ones are seen closed (or `withinMs` has passed). */
    const openAfter = async (withinMs: number) => {
      for (const end = Date.now() + withinMs; Date.now() < end;) {
        if ((await open()) === 0) return 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      return open();
    };
    // Another client's idle keep-alive connection ends at the server's keep-alive timeout (5 s).
    expect(await openAfter(7_000)).toBe(0);
    // A connection left open would stay open as long (the client had kept it alive).
    const listed = await run('upgrade-runs');
    expect(listed.code).toBe(0);
    expect(await openAfter(1_000)).toBe(0);
    const unknown = await run('upgrade-run', randomUUID());
    expect(unknown.code).toBe(1);
    expect(await openAfter(1_000)).toBe(0);
  }, 30_000);

  it('refuses bad flags as usage errors and says where the broker is missing', async () => {
    const bad = await run('upgrade-all-clusters', '--max-in-flight', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-in-flight must be a whole number of at least 1/);
    const empty = await mkdtemp(join(tmpdir(), 'openpks-admin-nobroker-'));
    const stderr = capture();
    const code = await runAdminCli(['--data-dir', empty, 'upgrade-runs'], {
      stdout: capture().stream,
      stderr: stderr.stream,
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr.text()).toMatch(/no broker URL: .*broker\/url does not exist/);
    const unknown = await run('upgrade-run', randomUUID());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not found \(HTTP 404\)/);
  }, 30_000);
});
