import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import { parseConfig } from '@openpks/config';
import { openDatabase, type Database } from '@openpks/db';
import { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { createLogger, SharedSecrets } from '@openpks/role';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { DirectorClient } from '../client/directorClient.js';
import type { TaskEvent } from '../protocol/types.js';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';
import { createDirectorRole } from './directorRole.js';

let uaa: TestUaa;
beforeAll(async () => {
  uaa = await startTestUaa();
});
afterAll(async () => {
  await uaa?.stop();
});

const reachable = (ip: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: ip, port: 8443, rejectUnauthorized: false }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

describe('deploy options and the other endpoints', () => {
  let bosh: TestDirector;
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    bosh = await startTestDirector({
      uaa,
      db,
      ipRange: '127.1.50.0/24',
      sim: { latencyMs: { create_vm: 40 } },
    });
  });
  afterAll(async () => {
    await bosh?.stop();
    await db?.close();
  });

  const deploy = async (manifest: string, options: Parameters<DirectorClient['deploy']>[1] = {}) => {
    const task = await bosh.client.deploy(manifest, options);
    const events: TaskEvent[] = [];
    await bosh.client.waitForTask(task.id, { onEvent: (e) => events.push(e) });
    return events;
  };

  it('dry_run changes nothing; fix recreates VMs the IaaS lost; a stemcell change recreates every VM', async () => {
    const { client, director } = bosh;
    await deploy(kuboManifest({ name: 'opts', workers: 2 }), { dryRun: true });
    await expect(client.instances('opts')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await director.cpi.vms('opts')).toEqual([]);
    expect(await client.manifest('opts')).toBeUndefined();

    await deploy(kuboManifest({ name: 'opts', workers: 2 }));
    const before = await client.vms('opts');
    const lost = before.find((vm) => vm.job === 'worker')!;
    await director.cpi.delete_vm(lost.cid!);
    const fixed = await deploy(kuboManifest({ name: 'opts', workers: 2 }), { fix: true });
    expect(fixed.filter((e) => e.stage === 'Creating missing vms' && e.state === 'finished')).toHaveLength(1);
    const after = await client.vms('opts');
    expect(after.map((vm) => vm.cid)).not.toContain(lost.cid);
    expect(after).toHaveLength(3);

    await deploy(kuboManifest({ name: 'opts', workers: 2, stemcellVersion: '621.30' }));
    const recreated = await client.vms('opts');
    expect(recreated.filter((vm) => after.some((old) => old.cid === vm.cid))).toEqual([]);
    expect((await client.stemcells()).map((s) => s.version).sort()).toEqual(['621.29', '621.30']);
    expect((await client.releases()).find((r) => r.name === 'kubo')?.release_versions[0]).toMatchObject({
      version: '0.34.0',
      currently_deployed: true,
    });
  });

  it('updates a changed group only, and reports instances in full through a task', async () => {
    const { client } = bosh;
    const events = await deploy(
      kuboManifest({
        name: 'opts',
        workers: 2,
        stemcellVersion: '621.30',
        kubeletProperties: { 'max-pods': 50 },
      }),
    );
    const updated = events.filter((e) => e.stage === 'Updating instance' && e.state === 'finished');
    expect(updated.map((e) => e.tags?.[0])).toEqual(['worker', 'worker']);
    const full = await client.instancesFull('opts');
    expect(full).toHaveLength(3);
    expect(full[0]).toMatchObject({
      job_name: 'master',
      process_state: 'running',
      vm_type: 'medium',
      bootstrap: true,
    });
    expect(full[0]!.disk_cid).toMatch(/^sim-disk-/);
    const diff = await client.diff(
      'opts',
      kuboManifest({
        name: 'opts',
        workers: 4,
        stemcellVersion: '621.30',
        kubeletProperties: { 'max-pods': 50 },
      }),
    );
    expect(diff.diff.filter(([, change]) => change !== null)).toEqual([
      ['    instances: 2', 'removed'],
      ['    instances: 4', 'added'],
    ]);
  });

  it('cancels queued and running tasks, and files tasks under their context id', async () => {
    const { client, director } = bosh;
    director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'worker', hang: true });
    const running = await client.deploy(kuboManifest({ name: 'cancel', workers: 1 }), { contextId: 'op-7' });
    const queued = await client.deploy(kuboManifest({ name: 'cancel', workers: 2 }), { contextId: 'op-7' });
    for (;;) {
      if ((await client.task(running.id)).state === 'processing') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.cancelTask(queued.id);
    expect((await client.task(queued.id)).state).toBe('cancelled');
    await client.cancelTask(running.id);
    expect((await client.task(running.id)).state).toBe('cancelling');
    director.cpi.clearFaults();
    expect((await client.followTask(running.id)).state).toBe('cancelled');
    expect((await client.tasks({ contextId: 'op-7' })).map((t) => t.id)).toEqual([queued.id, running.id]);
  });

  it('updates serial: false groups together, and cancels every task of a deployment at once', async () => {
    const { client } = bosh;
    await deploy(kuboManifest({ name: 'parallel', workers: 2, serial: false }));
    const events = await deploy(kuboManifest({ name: 'parallel', workers: 2, serial: false }), {
      recreate: true,
    });
    const updates = events.filter((e) => e.stage === 'Updating instance');
    const firstWorker = updates.findIndex((e) => e.tags?.[0] === 'worker' && e.state === 'started');
    const lastMaster = updates.findLastIndex((e) => e.tags?.[0] === 'master' && e.state === 'finished');
    expect(firstWorker).toBeLessThan(lastMaster);

    bosh.director.cpi.injectFault({ method: 'create_vm', hang: true });
    const first = await client.deploy(kuboManifest({ name: 'parallel', workers: 3 }));
    const second = await client.deploy(kuboManifest({ name: 'parallel', workers: 4 }));
    await client.cancelTasks({ deployment: 'parallel' });
    bosh.director.cpi.clearFaults();
    expect((await client.followTask(first.id)).state).toBe('cancelled');
    expect((await client.followTask(second.id)).state).toBe('cancelled');
  });

  it('stores cloud configs and lists them latest first', async () => {
    const { client } = bosh;
    await client.updateCloudConfig('azs: [{name: z1}]\n');
    await client.updateCloudConfig('azs: [{name: z1}, {name: z2}]\n');
    expect(await client.cloudConfig()).toBe('azs: [{name: z1}, {name: z2}]\n');
    expect((await client.deployments()).find((d) => d.name === 'opts')?.cloud_config).toBe('outdated');
    await client.deleteConfig('cloud');
    expect(await client.cloudConfig()).toBeUndefined();
  });

  it('registers uploaded stemcells and releases from their metadata', async () => {
    const { client } = bosh;
    const task = await client.uploadStemcell({
      location: 'https://bosh.io/d/stemcells/bosh-vsphere-esxi-ubuntu-xenial-go_agent?v=621.41',
    });
    expect(task.result).toBe('/stemcells/bosh-vsphere-esxi-ubuntu-xenial-go_agent/621.41');
    expect(await client.stemcells()).toContainEqual(
      expect.objectContaining({
        name: 'bosh-vsphere-esxi-ubuntu-xenial-go_agent',
        version: '621.41',
        operating_system: 'ubuntu-xenial',
      }),
    );
    await client.uploadRelease({
      location: 'https://example.test/kubo.tgz',
      name: 'kubo',
      version: '0.35.0',
      job_names: ['kubelet'],
    });
    const kubo = (await client.releases()).find((r) => r.name === 'kubo')!;
    expect(kubo.release_versions.map((v) => v.version)).toEqual(['0.34.0', '0.35.0']);
    await expect(
      client.uploadStemcell({ location: 'https://example.test/unknown.tgz' }),
    ).rejects.toMatchObject({
      task: { state: 'error' },
    });
  });
});

describe('the director role', () => {
  it('starts from pks.yaml, advertises UAA and the event stream, and brings sim masters back after a restart', async () => {
    const dataDir = await DataDirectory.open(uaa.dataDir);
    const tls = await TlsAuthority.load(dataDir);
    const db = await openDatabase({ dataDir: 'memory://' });
    const config = parseConfig({
      roles: { director: { host: '127.0.0.1', port: 0 } },
      director: { type: 'embedded', workers: 2, sim: { ip_range: '127.1.51.0/24' } },
    });
    const deps = {
      dataDir,
      tls,
      secrets: await SecretBox.fromDataDirectory(dataDir),
      sharedSecrets: new SharedSecrets(db, await SecretBox.fromDataDirectory(dataDir), dataDir),
      db,
      logger: createLogger({ level: 'silent', pretty: false }),
      endpoints: { url: () => uaa.url },
      adminPassword: uaa.adminPassword,
    };
    const role = createDirectorRole();
    expect(role.name).toBe('director');
    expect(role.after).toEqual(['uaa']);
    let running = await role.start(config, deps);
    try {
      const client = new DirectorClient({
        url: running.url,
        ca: tls.caPem,
        client: { id: 'pks_director', secret: uaa.directorClientSecret },
      });
      const info = await client.info();
      expect(info).toMatchObject({
        cpi: 'sim',
        user_authentication: { type: 'uaa', options: { url: uaa.url } },
      });
      expect(info.features.openpks_task_event_stream?.status).toBe(true);
      const task = await client.deploy(kuboManifest({ name: 'restart', workers: 1 }));
      await client.waitForTask(task.id);
      const master = (await client.vms('restart')).find((vm) => vm.job === 'master')!;
      expect(master.ips[0]).toMatch(/^127\.1\.51\./); // pks.yaml's director.sim.ip_range
      expect(await reachable(master.ips[0]!)).toBe(true);
      client.close();

      await running.stop();
      expect(await reachable(master.ips[0]!)).toBe(false);
      running = await role.start(config, deps);
      expect(await reachable(master.ips[0]!)).toBe(true);
    } finally {
      await running.stop();
      await db.close();
    }
  });
});
