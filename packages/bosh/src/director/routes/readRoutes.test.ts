import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { kuboManifest, startTestDirector, type TestDirector } from '../../testing/index.js';

/**
 * The Director as bosh CLI v7 reads it: one test per read command, asserting the fields and JSON types
 * its Go structs decode (cloudfoundry/bosh-cli `director/*.go`: a string field fed a number, or an
 * int64 fed a string, fails the whole command).
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let uaa: TestUaa;
let bosh: TestDirector;
let token: string;
const DEPLOYMENT = 'cli-reads';

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${bosh.url}${path}`,
      { ca: bosh.caPem, method, headers: { Authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function json<T>(path: string): Promise<T> {
  const answer = await get(path);
  expect({ path, status: answer.status }).toEqual({ path, status: 200 });
  return JSON.parse(answer.body) as T;
}

/** What the CLI's `TaskClientRequest.GetResult` does: follow the 302, poll the task, read its result. */
async function taskResult(path: string): Promise<{ id: number; lines: Record<string, unknown>[] }> {
  const started = await get(path);
  expect(started.status).toBe(302);
  const location = new URL(String(started.headers.location));
  const id = Number(/^\/tasks\/(\d+)$/.exec(location.pathname)?.[1]);
  const done = await bosh.client.waitForTask(id);
  expect(done.state).toBe('done');
  const result = await get(`/tasks/${id}/output?type=result`);
  const lines = result.body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { id, lines };
}

beforeAll(async () => {
  uaa = await startTestUaa();
  token = (await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret }))
    .access_token;
});
afterAll(async () => {
  await uaa?.stop();
});

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const RUBY_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 93 + i })))(
  'bosh CLI v7 read commands on $name',
  ({ backend, subnet }) => {
    let db: Database;
    beforeAll(async () => {
      db = await backend.open();
      bosh = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24` });
      await bosh.client.updateConfig({ type: 'cloud', content: 'azs: [{name: z1}]\n' });
      await bosh.client.uploadStemcell({
        location: 'https://bosh.io/d/stemcells/bosh-vsphere-esxi-ubuntu-xenial-go_agent?v=621.29',
      });
      const task = await bosh.client.deploy(kuboManifest({ name: DEPLOYMENT, workers: 1 }), { diff: false });
      await bosh.client.waitForTask(task.id);
    });
    afterAll(async () => {
      await bosh?.stop();
      await db?.close();
    });

    it('answers bosh env --details with when the certificates it serves with expire', async () => {
      const certificates = await json<{ certificate_path: string; expiry: string; days_left: number }[]>(
        '/director/certificate_expiry',
      );
      expect(certificates.map((c) => c.certificate_path)).toEqual(['director.ssl.cert', 'director.ssl.ca']);
      const served = await new Promise<Date>((resolve, reject) => {
        const req = request(`${bosh.url}/info`, { ca: bosh.caPem }, (res) => {
          resolve(new Date((res.socket as TLSSocket).getPeerCertificate().valid_to));
          res.resume();
        });
        req.on('error', reject);
        req.end();
      });
      expect(certificates[0]!.expiry).toBe(`${served.toISOString().slice(0, 19)}Z`);
      expect(certificates[0]!.days_left).toBe(Math.floor((served.getTime() - Date.now()) / 86_400_000));
    });

    it('answers bosh deployments with sorted releases, stemcells, the cloud config state and teams', async () => {
      const deployments = await json<Record<string, unknown>[]>('/deployments');
      const mine = deployments.find((d) => d.name === DEPLOYMENT)!;
      expect(mine).toMatchObject({
        cloud_config: expect.stringMatching(/^(none|latest|outdated)$/),
        teams: [],
      });
      const releases = mine.releases as { name: string; version: string }[];
      expect(releases.length).toBeGreaterThan(0);
      for (const release of releases)
        expect(release).toEqual({ name: expect.any(String), version: expect.any(String) });
      expect(releases.map((r) => r.name)).toEqual([...releases.map((r) => r.name)].sort());
      // The uploaded stemcell's own name, though the manifest names it by OS.
      expect(mine.stemcells).toEqual([
        { name: 'bosh-vsphere-esxi-ubuntu-xenial-go_agent', version: '621.29' },
      ]);
    });

    it('answers bosh manifest with the deployed manifest, and 404 in BOSH error shape for none', async () => {
      const { manifest } = await json<{ manifest: string }>(`/deployments/${DEPLOYMENT}`);
      expect(manifest).toContain(`name: ${DEPLOYMENT}`);
      const missing = await get('/deployments/nope');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toEqual({
        code: 70000,
        description: "Deployment 'nope' doesn't exist",
      });
    });

    it('answers bosh instances with one row per instance and times to the second', async () => {
      const instances = await json<Record<string, unknown>[]>(`/deployments/${DEPLOYMENT}/instances`);
      expect(instances.map((i) => i.job)).toEqual(expect.arrayContaining(['master', 'worker']));
      for (const instance of instances) {
        expect(instance).toMatchObject({
          job: expect.any(String),
          index: expect.any(Number),
          id: expect.any(String),
          ips: expect.any(Array),
          expects_vm: expect.any(Boolean),
        });
        if (instance.cid !== null) {
          expect(instance.agent_id).toEqual(expect.any(String));
          expect(instance.vm_created_at).toMatch(RFC3339_SECONDS);
        }
      }
    });

    it('answers bosh instances --ps and --details with processes per instance through a task', async () => {
      const { lines } = await taskResult(`/deployments/${DEPLOYMENT}/instances?format=full`);
      const master = lines.find((line) => line.job_name === 'master')!;
      expect(master).toMatchObject({
        vm_cid: expect.any(String),
        disk_cids: expect.any(Array),
        ips: [expect.any(String)],
        agent_id: expect.any(String),
        index: 0,
        id: expect.any(String),
        job_state: 'running',
        state: 'started',
        bootstrap: true,
        ignore: false,
        resurrection_paused: false,
        vm_type: expect.any(String),
        active: true,
        stemcell: { name: expect.any(String), version: '621.29', api_version: 2 },
      });
      expect(master.vm_created_at).toMatch(RUBY_TIME);
      const processes = master.processes as { name: string; state: string }[];
      expect(processes).toContainEqual({ name: 'kube-apiserver', state: 'running' });
      // The CLI's IsRunning: the instance and every process running.
      expect(processes.every((p) => p.state === 'running')).toBe(true);
    });

    it('reports a master whose Kubernetes API does not answer as failing', async () => {
      const [master] = (await bosh.director.cpi.vms(DEPLOYMENT)).filter(
        (vm) => vm.instanceGroup === 'master',
      );
      await bosh.director.agent.stop({
        deployment: DEPLOYMENT,
        instanceGroup: 'master',
        index: 0,
        uuid: '',
        vmCid: master!.cid,
        ip: master!.ip,
        jobs: [],
      });
      const { lines } = await taskResult(`/deployments/${DEPLOYMENT}/instances?format=full`);
      const line = lines.find((l) => l.job_name === 'master')!;
      expect(line.job_state).toBe('failing');
      expect(line.processes).toContainEqual({ name: 'kube-apiserver', state: 'failing' });
      expect(line.processes).toContainEqual({ name: 'etcd', state: 'running' });
    });

    it('answers bosh vms --vitals with the VMs only and their uptime, through a task', async () => {
      const plain = await json<Record<string, unknown>[]>(`/deployments/${DEPLOYMENT}/vms`);
      expect(plain.every((vm) => vm.cid !== null && vm.active === true)).toBe(true);
      const { lines } = await taskResult(`/deployments/${DEPLOYMENT}/vms?format=full`);
      expect(lines).toHaveLength(plain.length);
      for (const line of lines) {
        expect(line.vm_cid).toEqual(expect.any(String));
        const vitals = line.vitals as { uptime: { secs: number } };
        expect(Number.isInteger(vitals.uptime.secs)).toBe(true);
        expect(vitals.uptime.secs).toBeGreaterThanOrEqual(0);
      }
    });

    it('answers bosh tasks, --recent and --all with epoch times and the task types each shows', async () => {
      // `bosh tasks`: the running ones, every type only with --all (verbose=2).
      const current = await json<unknown[]>('/tasks?state=processing%2Ccancelling%2Cqueued&verbose=1');
      expect(current).toEqual([]);
      const recent = await json<Record<string, unknown>[]>('/tasks?limit=30&verbose=1');
      const all = await json<Record<string, unknown>[]>('/tasks?limit=30&verbose=2');
      expect(recent.some((task) => task.description === 'retrieve vm-stats')).toBe(false);
      expect(all.some((task) => task.description === 'retrieve vm-stats')).toBe(true);
      const deploy = recent.find((task) => task.description === 'create deployment')!;
      expect(deploy).toMatchObject({
        id: expect.any(Number),
        state: 'done',
        timestamp: expect.any(Number),
        started_at: expect.any(Number),
        user: 'pks_director',
        deployment: DEPLOYMENT,
      });
      expect(await json<unknown[]>('/tasks?limit=0&verbose=2')).toHaveLength(1);
      // The CLI's --context sets X-Bosh-Context-Id on every request; BOSH refuses more than 64 characters.
      const long = await get('/tasks?verbose=2', { 'X-Bosh-Context-Id': 'x'.repeat(65) });
      expect({ status: long.status, body: JSON.parse(long.body) as unknown }).toEqual({
        status: 400,
        body: { code: 70010, description: 'X-Bosh-Context-Id cannot be more than 64 characters in length' },
      });
      const byDeployment = await json<Record<string, unknown>[]>(`/tasks?deployment=${DEPLOYMENT}&verbose=2`);
      expect(byDeployment.every((task) => task.deployment === DEPLOYMENT)).toBe(true);
    });

    it('answers bosh task N with its event, debug, result and CPI logs', async () => {
      const [deploy] = await json<{ id: number }[]>(`/tasks?deployment=${DEPLOYMENT}&limit=1&verbose=1`);
      const task = await json<Record<string, unknown>>(`/tasks/${deploy!.id}`);
      expect(task).toMatchObject({ id: deploy!.id, state: 'done', timestamp: expect.any(Number) });
      const events = (await get(`/tasks/${deploy!.id}/output?type=event`)).body.trim().split('\n');
      expect(
        events.map((line) => JSON.parse(line) as { time: number }).every((e) => Number.isInteger(e.time)),
      ).toBe(true);
      const debug = await get(`/tasks/${deploy!.id}/output?type=debug`);
      expect(debug.body).toMatch(/started by/);
      // No type is the debug log, as in BOSH.
      expect((await get(`/tasks/${deploy!.id}/output`)).body).toBe(debug.body);
      const cpi = (await get(`/tasks/${deploy!.id}/output?type=cpi`)).body;
      expect(cpi).toMatch(/\[sim-cpi\] create_vm ok in \d+ ms: \S+/);
      expect(cpi).not.toMatch(/started by/);
      const missing = await get('/tasks/999999');
      expect({ status: missing.status, body: JSON.parse(missing.body) as unknown }).toEqual({
        status: 404,
        body: { code: 10000, description: 'Task 999999 could not be found' },
      });
      const result = await get(`/tasks/${deploy!.id}/output?type=result`);
      expect(result.status).toBe(200);
      expect((await get(`/tasks/${deploy!.id}/output?type=none`)).status).toBe(204);
      const tail = await get(`/tasks/${deploy!.id}/output?type=event`, { Range: 'bytes=999999-' });
      expect(tail.status).toBe(416);
    });

    it('answers bosh events with the start and end of each change, filtered and paged', async () => {
      const events = await json<Record<string, unknown>[]>(`/events?deployment=${DEPLOYMENT}`);
      const [deploy] = await json<{ id: number }[]>(`/tasks?deployment=${DEPLOYMENT}&limit=1&verbose=1`);
      const ofDeploy = events.filter((e) => e.task === String(deploy!.id) && e.object_type === 'deployment');
      expect(ofDeploy).toHaveLength(2);
      const [end, start] = ofDeploy;
      expect(start).toMatchObject({
        id: expect.any(String),
        timestamp: expect.any(Number),
        user: 'pks_director',
        action: 'create',
        object_type: 'deployment',
        object_name: DEPLOYMENT,
        deployment: DEPLOYMENT,
        error: null,
        context: {},
      });
      expect(start).not.toHaveProperty('parent_id');
      expect(end).toMatchObject({
        action: 'create',
        parent_id: start!.id,
        error: null,
        context: {
          before: { releases: [], stemcells: [] },
          after: { releases: expect.arrayContaining(['kubo/0.34.0']), stemcells: ['ubuntu-xenial/621.29'] },
        },
      });

      const config = await json<Record<string, unknown>[]>('/events?object_type=config%2Fcloud');
      expect(config[0]).toMatchObject({ action: 'create', object_name: 'default', user: 'pks_director' });
      expect(
        await json<unknown[]>(`/events?task=${deploy!.id}&action=create&object_name=${DEPLOYMENT}`),
      ).toHaveLength(2);
      expect(await json<unknown[]>(`/events?before_id=${start!.id}&task=${deploy!.id}`)).toEqual([]);
      expect(await json<unknown[]>(`/events?after_time=${Math.floor(Date.now() / 1000) + 60}`)).toEqual([]);
      expect(await json<unknown[]>(`/events?user=nobody`)).toEqual([]);
      expect((await get('/events?before_time=not-a-time')).status).toBe(400);
    });

    it('answers bosh events with each VM, disk and instance the deploy made, under its task', async () => {
      const [deploy] = await json<{ id: number }[]>(`/tasks?deployment=${DEPLOYMENT}&limit=1&verbose=1`);
      const task = String(deploy!.id);
      const vms = await json<{ cid: string; job: string; id: string }[]>(`/deployments/${DEPLOYMENT}/vms`);
      const created = await json<Record<string, unknown>[]>(
        `/events?task=${task}&object_type=vm&action=create`,
      );
      const ends = created.filter((e) => e.parent_id !== undefined);
      // The end of each create names the VM it made; the start could not.
      expect(ends.map((e) => e.object_name).sort()).toEqual(vms.map((vm) => vm.cid).sort());
      expect(created.filter((e) => e.parent_id === undefined).every((e) => e.object_name === null)).toBe(
        true,
      );
      for (const vm of vms) {
        expect(ends.find((e) => e.object_name === vm.cid)).toMatchObject({
          instance: `${vm.job}/${vm.id}`,
          deployment: DEPLOYMENT,
          error: null,
        });
      }
      const instances = await json<Record<string, unknown>[]>(`/events?task=${task}&object_type=instance`);
      expect(
        instances
          .filter((e) => e.parent_id !== undefined)
          .map((e) => e.object_name)
          .sort(),
      ).toEqual(vms.map((vm) => `${vm.job}/${vm.id}`).sort());
      expect(instances.every((e) => e.action === 'create')).toBe(true);
      const disks = await json<Record<string, unknown>[]>(`/events?task=${task}&object_type=disk`);
      expect(disks.filter((e) => e.parent_id !== undefined).map((e) => e.object_name)).toEqual([
        expect.any(String),
      ]);
    });

    it('records a redeploy as an update, with a new instance created and the others left alone', async () => {
      const task = await bosh.client.deploy(kuboManifest({ name: 'cli-grows', workers: 1 }), { diff: false });
      await bosh.client.waitForTask(task.id);
      const grow = await bosh.client.deploy(kuboManifest({ name: 'cli-grows', workers: 2 }), { diff: false });
      await bosh.client.waitForTask(grow.id);
      const [end] = await json<Record<string, unknown>[]>(`/events?task=${grow.id}&object_type=deployment`);
      expect(end).toMatchObject({
        action: 'update',
        context: {
          before: { stemcells: ['ubuntu-xenial/621.29'] },
          after: { stemcells: ['ubuntu-xenial/621.29'] },
        },
      });
      const instances = await json<Record<string, unknown>[]>(`/events?task=${grow.id}&object_type=instance`);
      expect(instances.filter((e) => e.parent_id !== undefined)).toEqual([
        expect.objectContaining({
          action: 'create',
          object_name: expect.stringMatching(/^worker\//),
          error: null,
        }),
      ]);
    });

    it('records a failed change with its error in the end event', async () => {
      bosh.director.cpi.injectFault({ method: 'create_vm', message: 'sim: no capacity', nth: 1 });
      const task = await bosh.client.deploy(kuboManifest({ name: 'cli-fails', workers: 1 }), { diff: false });
      await bosh.client.waitForTask(task.id).catch(() => undefined);
      const events = await json<Record<string, unknown>[]>(`/events?task=${task.id}&object_type=deployment`);
      expect(events).toHaveLength(2);
      expect(events[0]).toMatchObject({
        action: 'create',
        object_type: 'deployment',
        parent_id: events[1]!.id,
        error: expect.stringMatching(/no capacity/),
      });
      expect(events[1]!.error).toBeNull();
      const vms = await json<Record<string, unknown>[]>(`/events?task=${task.id}&object_type=vm`);
      const failed = vms.filter((e) => e.error !== null);
      expect(failed).toEqual([
        expect.objectContaining({
          action: 'create',
          object_name: null,
          error: expect.stringMatching(/no capacity/),
        }),
      ]);
    });

    it('answers bosh cloud-config, runtime-config and cpi-config from the per-type lists', async () => {
      await bosh.client.updateConfig({ type: 'runtime', content: 'addons: []\n' });
      const [cloud] = await json<{ properties: string; created_at: string }[]>(
        '/cloud_configs?name=&limit=1',
      );
      expect(cloud).toEqual({ properties: 'azs: [{name: z1}]\n', created_at: expect.any(String) });
      expect(await json<unknown[]>('/runtime_configs?name=&limit=1')).toEqual([
        { properties: 'addons: []\n', created_at: expect.any(String) },
      ]);
      expect(await json<unknown[]>('/cpi_configs?limit=1')).toEqual([]);
      const noLimit = await get('/cloud_configs?name=');
      expect({ status: noLimit.status, body: noLimit.body }).toEqual({
        status: 400,
        body: 'limit is required',
      });
    });

    it('answers bosh configs with string ids, the latest per name, and recent versions by limit', async () => {
      await bosh.client.updateConfig({ type: 'cloud', name: 'extra', content: 'vm_types: []\n' });
      const again = await bosh.client.updateConfig({
        type: 'cloud',
        name: 'extra',
        content: 'vm_types: []\n',
      });
      await bosh.client.updateConfig({ type: 'cloud', name: 'extra', content: 'vm_types: [{name: a}]\n' });
      const latest = await json<Record<string, unknown>[]>('/configs?latest=true&type=cloud');
      expect(latest.map((c) => c.name)).toEqual(['default', 'extra']);
      for (const config of latest) {
        expect(config).toMatchObject({
          id: expect.any(String),
          type: 'cloud',
          created_at: expect.any(String),
        });
      }
      // The same content again made no new version: two versions of `extra`, not three.
      const recent = await json<Record<string, unknown>[]>('/configs?type=cloud&name=extra&limit=5');
      expect(recent.map((c) => c.content)).toEqual(['vm_types: [{name: a}]\n', 'vm_types: []\n']);
      expect(recent[1]!.id).toBe(again.id);
      expect(await json<Record<string, unknown>>(`/configs/${again.id}`)).toMatchObject({
        content: 'vm_types: []\n',
      });
      expect((await get('/configs?type=cloud')).status).toBe(400);
      expect((await get('/configs/999999')).status).toBe(404);
    });

    it('answers bosh stemcells and releases with what deployments use', async () => {
      const stemcells = await json<Record<string, unknown>[]>('/stemcells');
      expect(stemcells[0]).toMatchObject({
        name: expect.any(String),
        version: expect.any(String),
        operating_system: expect.any(String),
        cid: expect.any(String),
        cpi: '',
      });
      expect(
        stemcells.some((s) => (s.deployments as { name: string }[]).some((d) => d.name === DEPLOYMENT)),
      ).toBe(true);
      const releases =
        await json<{ name: string; release_versions: Record<string, unknown>[] }[]>('/releases');
      expect(releases[0]!.release_versions[0]).toMatchObject({
        version: expect.any(String),
        commit_hash: expect.any(String),
        uncommitted_changes: false,
        currently_deployed: true,
      });
    });

    it('answers bosh locks with the deployment a running task holds, and bosh cancel-task cancels only running tasks', async () => {
      expect(await json<unknown[]>('/locks')).toEqual([]);
      bosh.director.cpi.injectFault({ method: 'create_vm', hang: true, nth: 1 });
      const task = await bosh.client.deploy(kuboManifest({ name: 'cli-locked', workers: 1 }), {
        diff: false,
      });
      let locks: Record<string, unknown>[] = [];
      // Polled for up to 20 s: on a loaded machine the task may take a while to be claimed.
      for (let i = 0; i < 800 && locks.length === 0; i += 1) {
        locks = await json<Record<string, unknown>[]>('/locks');
        if (locks.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(locks).toEqual([
        {
          type: 'deployment',
          resource: ['cli-locked'],
          timeout: expect.stringMatching(/^\d+\.\d{6}$/),
          task_id: String(task.id),
        },
      ]);
      expect(Number(locks[0]!.timeout)).toBeGreaterThan(Date.now() / 1000);
      // `bosh cancel-task`: DELETE /task/N, 204 while it runs, 400 once it has ended.
      expect((await get(`/task/${task.id}`, {}, 'DELETE')).status).toBe(204);
      // The runner may already have acted on the cancel by the time we look.
      expect(['cancelling', 'cancelled']).toContain((await bosh.client.task(task.id)).state);
      const [ended] = await json<{ id: number; state: string }[]>(`/tasks?deployment=${DEPLOYMENT}&limit=1`);
      const again = await get(`/task/${ended!.id}`, {}, 'DELETE');
      expect({ status: again.status, body: again.body }).toEqual({
        status: 400,
        body: `Cannot cancel task ${ended!.id}: invalid state (${ended!.state})`,
      });
    });
  },
);
