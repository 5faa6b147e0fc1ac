import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { kuboManifest, startTestDirector } from '../testing/index.js';

let uaa: TestUaa;
beforeAll(async () => {
  uaa = await startTestUaa();
});
afterAll(async () => {
  await uaa?.stop();
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(
  testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 32 + i * 3 })),
)('restarts on $name', ({ backend, subnet }) => {
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => db?.close());

  it('resumes a deploy interrupted by a stop, and by a crash, and nothing stays processing', async () => {
    const sim = { latencyMs: { create_vm: 100 } };
    let first = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24`, sim });
    const task = await first.client.deploy(kuboManifest({ name: 'resume', workers: 6 }));
    await until(async () => ((await first.director.cpi.vms()).length >= 2 ? true : undefined));
    await first.stop();
    const stopped = await first.director.tasks.get(task.id);
    expect(stopped.state).toBe('processing');

    const second = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24`, sim, leaseMs: 400 });
    const done = await second.client.waitForTask(task.id);
    expect(done.state).toBe('done');
    const log = await second.client.taskOutput(task.id, 'event');
    expect(log).toMatch(
      /"type":"warning","message":"Director restarted; resuming the task from its recorded progress"/,
    );
    const instances = await second.client.instances('resume');
    expect(instances).toHaveLength(7);
    expect((await second.director.cpi.vms('resume')).map((vm) => vm.cid).sort()).toEqual(
      instances.map((i) => i.cid).sort(),
    );

    // One start and one end for the deploy, though two directors ran it; an end for every VM made.
    const deployEvents = await second.director.events.list({
      task: String(task.id),
      objectType: 'deployment',
    });
    expect(deployEvents.map((e) => [e.action, e.parent_id])).toEqual([
      ['create', deployEvents[1]!.id],
      ['create', undefined],
    ]);
    const vmEnds = (await second.director.events.list({ task: String(task.id), objectType: 'vm' })).filter(
      (e) => e.parent_id !== undefined,
    );
    expect(vmEnds.map((e) => e.object_name).sort()).toEqual(instances.map((i) => i.cid).sort());

    // A crash keeps the lease: the next director takes the task over once it expires.
    const scale = await second.client.deploy(kuboManifest({ name: 'resume', workers: 9 }));
    await until(async () => ((await second.director.cpi.vms()).length >= 8 ? true : undefined));
    second.client.close();
    await second.director.crash();
    first = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24`, sim, leaseMs: 400 });
    expect((await first.client.waitForTask(scale.id)).state).toBe('done');
    expect(await first.client.instances('resume')).toHaveLength(10);
    const scaleEvents = await first.director.events.list({
      task: String(scale.id),
      objectType: 'deployment',
    });
    expect(scaleEvents.map((e) => [e.action, e.parent_id])).toEqual([
      ['update', scaleEvents[1]!.id],
      ['update', undefined],
    ]);
    expect(await first.client.tasks({ states: ['processing', 'queued', 'cancelling'] })).toEqual([]);
    await first.stop();
  });

  it('ends an errand interrupted by a restart with error, since it cannot resume', async () => {
    const errandDb = await backend.open();
    try {
      const sim = { latencyMs: { create_vm: 300 } };
      const first = await startTestDirector({ uaa, db: errandDb, ipRange: `127.1.${subnet + 1}.0/24` });
      await first.client.waitForTask(
        (await first.client.deploy(kuboManifest({ name: 'errand', workers: 1 }))).id,
      );
      await first.stop();
      const slow = await startTestDirector({ uaa, db: errandDb, ipRange: `127.1.${subnet + 1}.0/24`, sim });
      const run = await slow.client.runErrand('errand', 'apply-addons');
      await until(async () => ((await slow.client.task(run.id)).state === 'processing' ? true : undefined));
      await slow.stop();
      const next = await startTestDirector({ uaa, db: errandDb, ipRange: `127.1.${subnet + 1}.0/24` });
      const ended = await next.client.followTask(run.id);
      expect(ended.state).toBe('error');
      expect(ended.result).toMatch(/interrupted by a director restart/);
      await next.stop();
    } finally {
      await errandDb.close();
    }
  });
});
