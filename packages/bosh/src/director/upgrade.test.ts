import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '@openpks/db';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import type { TaskEvent } from '../protocol/types.js';
import { DirectorTaskError } from '../client/errors.js';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
const name = 'service-instance_roll';

beforeAll(async () => {
  uaa = await startTestUaa();
  db = await openDatabase({ dataDir: 'memory://' });
  bosh = await startTestDirector({
    uaa,
    db,
    ipRange: '127.1.54.0/24',
    sim: { latencyMs: { create_vm: 30 } },
  });
}, 60_000);
afterAll(async () => {
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

const deploy = async (manifest: string) => {
  const task = await bosh.client.deploy(manifest);
  const events: TaskEvent[] = [];
  await bosh.client.waitForTask(task.id, { onEvent: (e) => events.push(e) });
  return events;
};
const byGroup = async (group: string) =>
  (await bosh.client.instances(name)).filter((i) => i.job === group).sort((a, b) => a.index - b.index);
const disks = async () =>
  (
    await db.query<{ index: number; disk_cid: string }>(
      `SELECT index, disk_cid FROM director.instances WHERE deployment = $1 AND instance_group = 'master' ORDER BY index`,
      [name],
    )
  ).rows;

describe('upgrades roll VMs as BOSH does', () => {
  it('recreates every worker VM on a vm_type change (canary first), keeping each instance its IP', async () => {
    await deploy(kuboManifest({ name, masters: 1, workers: 3, workerVmType: 'medium' }));
    const masters = await byGroup('master');
    const workers = await byGroup('worker');

    const events = await deploy(kuboManifest({ name, masters: 1, workers: 3, workerVmType: 'large' }));
    const after = await byGroup('worker');
    expect(after.map((w) => w.cid)).not.toEqual(expect.arrayContaining(workers.map((w) => w.cid)));
    expect(after.every((w, i) => w.cid !== workers[i]!.cid)).toBe(true);
    expect(after.map((w) => w.ips)).toEqual(workers.map((w) => w.ips));
    expect(await byGroup('master')).toEqual(masters); // masters untouched
    const { rows: vms } = await db.query<{ vm_type: string }>(
      `SELECT cloud_properties->>'vm_type' AS vm_type FROM director.sim_vms WHERE deployment = $1 AND instance_group = 'worker'`,
      [name],
    );
    expect(vms.map((vm) => vm.vm_type)).toEqual(['large', 'large', 'large']);
    const updates = events.filter((e) => e.stage === 'Updating instance' && e.state === 'started');
    expect(updates.map((e) => e.task)).toEqual([
      expect.stringMatching(/^worker\/.* \(0\) \(canary\)$/),
      expect.stringMatching(/^worker\/.* \(1\)$/),
      expect.stringMatching(/^worker\/.* \(2\)$/),
    ]);
  });

  it("migrates the masters' disks on a persistent_disk_type change without recreating their VMs", async () => {
    await deploy(
      kuboManifest({ name, masters: 1, workers: 3, workerVmType: 'large', masterDiskType: '10GB' }),
    );
    const master = (await byGroup('master'))[0]!;
    const before = await disks();
    await deploy(
      kuboManifest({ name, masters: 1, workers: 3, workerVmType: 'large', masterDiskType: '50GB' }),
    );
    expect((await byGroup('master'))[0]!.cid).toBe(master.cid);
    const after = await disks();
    expect(after[0]!.disk_cid).not.toBe(before[0]!.disk_cid);
    const { rows } = await db.query<{ cid: string; vm_cid: string | null }>(
      'SELECT cid, vm_cid FROM director.sim_disks WHERE cid = ANY($1)',
      [[before[0]!.disk_cid, after[0]!.disk_cid]],
    );
    expect(rows).toEqual([{ cid: after[0]!.disk_cid, vm_cid: master.cid }]); // the old disk is gone
  });

  it('fails the upgrade when create_vm fails for a worker canary, leaving the rest on the old VMs', async () => {
    const workers = await byGroup('worker');
    bosh.director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'worker', nth: 1, times: 1 });
    const error = await deploy(
      kuboManifest({ name, masters: 1, workers: 3, workerVmType: 'xlarge', masterDiskType: '50GB' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorTaskError);
    const after = await byGroup('worker');
    expect(after.slice(1).map((w) => w.cid)).toEqual(workers.slice(1).map((w) => w.cid));
  });
});
