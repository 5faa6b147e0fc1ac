import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestDirector, kuboManifest, type TestDirector } from '../testing/index.js';
import type { TaskEvent } from '../protocol/types.js';
import { VariableStore } from './store/variableStore.js';

let uaa: TestUaa;
beforeAll(async () => {
  uaa = await startTestUaa();
});
afterAll(async () => {
  await uaa?.stop();
});

/** The CA certificate (PEM-less fingerprint) a sim master presents at ip:8443, or the connection error. */
function servedIssuer(ip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port: 8443, rejectUnauthorized: false }, () => {
      const issuer = String(socket.getPeerCertificate().issuer?.CN ?? '');
      socket.end();
      resolve(issuer);
    });
    socket.on('error', reject);
  });
}

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 10 + i })))(
  'deploying a kubo-style manifest through the DirectorClient on $name',
  ({ backend, subnet }) => {
    let bosh: TestDirector;
    let db: Database;
    beforeAll(async () => {
      db = await backend.open();
      bosh = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24` });
    });
    afterAll(async () => {
      await bosh?.stop();
      await db?.close();
    });

    it('creates masters and workers, runs the errand, scales, and deletes', async () => {
      const { client } = bosh;
      const events: TaskEvent[] = [];
      const task = await client.deploy(kuboManifest({ name: 'cluster-a', masters: 1, workers: 3 }), {
        contextId: 'ctx-1',
      });
      expect(task.context_id).toBe('ctx-1');
      const done = await client.waitForTask(task.id, { onEvent: (e) => events.push(e) });
      expect(done.state).toBe('done');
      expect(done.result).toBe('/deployments/cluster-a');

      const stages = [...new Set(events.flatMap((e) => (e.stage ? [e.stage] : [])))];
      // Releases and stemcells nobody uploaded are registered by the sim, with a warning each.
      expect(events.filter((e) => e.type === 'warning').map((e) => e.message)).toContain(
        "Stemcell 'ubuntu-xenial/621.29' was not uploaded; the sim registered its metadata",
      );
      expect(stages).toEqual(['Preparing deployment', 'Creating missing vms', 'Updating instance']);
      const instances = await client.instances('cluster-a');
      expect(instances.map((i) => i.job).sort()).toEqual(['master', 'worker', 'worker', 'worker']);
      for (const instance of instances)
        expect(instance.ips[0]).toMatch(new RegExp(`^127\\.1\\.${subnet}\\.\\d+$`));

      const master = instances.find((i) => i.job === 'master')!;
      expect(await servedIssuer(master.ips[0]!)).toBe('ca');

      // A redeploy of the same manifest changes nothing and keeps every variable.
      const variables = new VariableStore(bosh.db, bosh.secrets);
      const before = await variables.all('cluster-a');
      const again = await client.deploy(kuboManifest({ name: 'cluster-a', masters: 1, workers: 3 }));
      const againEvents: TaskEvent[] = [];
      await client.waitForTask(again.id, { onEvent: (e) => againEvents.push(e) });
      expect(againEvents.filter((e) => e.stage === 'Updating instance')).toEqual([]);
      expect(await variables.all('cluster-a')).toEqual(before);

      const results = await client.runErrandAndWait('cluster-a', 'apply-addons');
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({
        errand_name: 'apply-addons',
        exit_code: 0,
        instance: { group: 'apply-addons' },
      });
      expect((await client.instances('cluster-a')).some((i) => i.job === 'apply-addons')).toBe(false);

      const up = await client.deploy(kuboManifest({ name: 'cluster-a', masters: 1, workers: 5 }));
      await client.waitForTask(up.id);
      expect(
        (await client.instances('cluster-a')).filter((i) => i.job === 'worker').map((w) => w.index),
      ).toEqual([0, 1, 2, 3, 4]);

      const down = await client.deploy(kuboManifest({ name: 'cluster-a', masters: 1, workers: 1 }));
      const downEvents: TaskEvent[] = [];
      await client.waitForTask(down.id, { onEvent: (e) => downEvents.push(e) });
      const deleted = downEvents
        .filter((e) => e.stage === 'Deleting unneeded instances' && e.state === 'finished')
        .map((e) => e.task);
      expect(deleted.map((t) => /\((\d+)\)$/.exec(t!)?.[1]).sort()).toEqual(['1', '2', '3', '4']);
      const workers = (await client.instances('cluster-a')).filter((i) => i.job === 'worker');
      expect(workers.map((w) => w.index)).toEqual([0]);

      const removal = await client.deleteDeployment('cluster-a');
      await client.waitForTask(removal.id);
      expect(await client.manifest('cluster-a')).toBeUndefined();
      expect(await bosh.director.cpi.vms('cluster-a')).toEqual([]);
      await expect(servedIssuer(master.ips[0]!)).rejects.toThrow(/ECONNREFUSED/);
    });

    it('records every instance of a multi-instance group and streams exactly the output it stores', async () => {
      const { client } = bosh;
      const streamed: TaskEvent[] = [];
      const task = await client.deploy(kuboManifest({ name: 'cluster-b', masters: 3, workers: 6 }));
      expect((await client.waitForTask(task.id, { onEvent: (e) => streamed.push(e) })).state).toBe('done');

      // New instances are recorded together before their VMs are made: each still gets its own uuid,
      // index, bootstrap flag and VM.
      const instances = await client.instances('cluster-b');
      for (const job of ['master', 'worker']) {
        const group = instances.filter((i) => i.job === job);
        expect(group.map((i) => i.index)).toEqual([...group.keys()]);
      }
      expect(new Set(instances.map((i) => i.id)).size).toBe(instances.length);
      const vms = await bosh.director.cpi.vms('cluster-b');
      expect(vms.map((vm) => vm.cid).sort()).toEqual(instances.map((i) => i.cid).sort());
      const { rows } = await db.query<{ instance_group: string; index: number; bootstrap: boolean }>(
        `SELECT instance_group, index, bootstrap FROM director.instances WHERE deployment = 'cluster-b'`,
      );
      expect(rows.every((row) => row.bootstrap === (row.index === 0))).toBe(true);

      // Lines written at once share output rows; what is read back and streamed is still one event per
      // line, in order, and every started VM finished.
      const stored = await client.taskOutput(task.id, 'event');
      expect(stored.endsWith('\n')).toBe(true);
      const lines = stored.split('\n').filter((line) => line !== '');
      expect(streamed).toEqual(lines.map((line) => JSON.parse(line) as TaskEvent));
      const creating = streamed.filter((e) => e.stage === 'Creating missing vms');
      expect(creating.filter((e) => e.state === 'started')).toHaveLength(9);
      expect(creating.filter((e) => e.state === 'finished')).toHaveLength(9);
      expect(creating.map((e) => e.index).sort((a, b) => a! - b!)).toEqual(
        [...Array(9).keys()].flatMap((i) => [i + 1, i + 1]),
      );
      const debug = await client.taskOutput(task.id, 'debug');
      expect(debug.match(/created VM /g)).toHaveLength(9);
      expect(
        debug
          .split('\n')
          .filter((line) => line !== '')
          .every((line) => /^\d{4}-\d\d-\d\dT/.test(line)),
      ).toBe(true);
    });
  },
);
