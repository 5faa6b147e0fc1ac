import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestStack, type TestStack } from '../testing/index.js';
import { modelProblems, readFixture } from './fixtures/models.js';

// The PKS v1 journey through REST alone, on loopback with real parts: UAA tokens, the API's /v1 routes,
// the broker over OSB, the embedded Director with the sim CPI, and kubectl reading the kubeconfig.
// Requests and answer shapes come from fixtures written from PKS-REFERENCE §2, never from openapi.json.

const run = promisify(execFile);
const requests = readFixture<Record<string, Record<string, unknown>>>('requests.json');

interface Answer {
  status: number;
  // Tests read answers loosely (`json.last_action`); `any` keeps them short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Record<string, unknown>;
}

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 160 + i })))(
  'the PKS v1 REST journey on $name',
  ({ backend, subnet }) => {
    let stack: TestStack;
    let alice: string;
    let admin: string;
    let dir: string;

    beforeAll(async () => {
      stack = await startTestStack({ backend, ipRange: `127.1.${subnet}.0/24` });
      alice = await stack.signIn('alice', ['pks.clusters.manage']);
      admin = await stack.signIn('admin-user', ['pks.clusters.admin']);
      dir = await mkdtemp(join(tmpdir(), 'openpks-rest-'));
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const rest = async (
      token: string,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Answer> => {
      const res = await stack.api.raw(method, path, {
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return {
        status: res.status,
        json: res.body === '' ? undefined : JSON.parse(res.body),
        headers: res.headers,
      };
    };

    const pollCluster = async (name: string, done: (a: Answer) => boolean): Promise<Answer> => {
      for (let i = 0; i < 400; i++) {
        const answer = await rest(alice, 'GET', `/v1/clusters/${name}`);
        if (done(answer)) return answer;
        expect(answer.status).toBe(200);
        expect(modelProblems(answer.json, 'Cluster')).toEqual([]);
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(`cluster ${name} did not get there`);
    };

    it('plans → create → poll → details → resize → binds + kubectl → profiles → upgrade many → delete → 404', async () => {
      const plans = await rest(alice, 'GET', '/v1/plans');
      expect(plans.status).toBe(200);
      expect(plans.json.map((p: { name: string }) => p.name)).toEqual(['small', 'medium', 'large']);
      for (const plan of plans.json) expect(modelProblems(plan, 'Plan')).toEqual([]);
      expect(plans.json[0]).toHaveProperty('allow-privileged-containers');

      const request = requests.clusterRequest!;
      const name = request.name as string;
      const created = await rest(alice, 'POST', '/v1/clusters', request);
      expect(created.status).toBe(202);
      expect(modelProblems(created.json, 'Cluster')).toEqual([]);
      expect(created.json).toMatchObject({
        name,
        plan_name: 'small',
        last_action: 'CREATE',
        last_action_state: 'in progress',
        kubernetes_master_ips: [],
        parameters: { kubernetes_master_host: 'rest-journey.example.test', kubernetes_worker_instances: 1 },
      });
      const duplicate = await rest(alice, 'POST', '/v1/clusters', request);
      expect(duplicate.status).toBe(409);
      expect(modelProblems(duplicate.json, 'ErrorResponse')).toEqual([]);
      const busy = await rest(alice, 'PATCH', `/v1/clusters/${name}`, requests.resize);
      expect(busy.status).toBe(409);
      expect(busy.json.body).toContain('in progress');

      const ready = await pollCluster(name, (a) => a.json?.last_action_state !== 'in progress');
      expect(ready.json).toMatchObject({ last_action: 'CREATE', last_action_state: 'succeeded' });
      expect(ready.json.kubernetes_master_ips).toEqual([
        expect.stringMatching(new RegExp(`^127\\.1\\.${subnet}\\.`)),
      ]);
      expect(ready.json.uuid).toBe(created.json.uuid);

      const listed = await rest(alice, 'GET', '/v1/clusters');
      expect(listed.status).toBe(200);
      expect(listed.json.map((c: { name: string }) => c.name)).toEqual([name]);

      const details = await rest(alice, 'GET', `/v1/clusterdetails/${name}`);
      expect(details.status).toBe(200);
      expect(modelProblems(details.json, 'Cluster')).toEqual([]);
      // The plan's drain settings, as PKS's strings.
      expect(details.json.parameters.kubernetes_setting_plan_details).toMatchObject({
        kubelet_drain_timeout: expect.stringMatching(/^\d+$/),
        kubelet_drain_force: expect.stringMatching(/^(true|false)$/),
      });

      const resized = await rest(alice, 'PATCH', `/v1/clusters/${name}`, requests.resize);
      expect(resized.status).toBe(202);
      expect(resized.json).toMatchObject({
        last_action: 'UPDATE',
        last_action_state: 'in progress',
        parameters: { kubernetes_worker_instances: 2 },
      });
      const afterResize = await pollCluster(name, (a) => a.json?.last_action_state !== 'in progress');
      expect(afterResize.json).toMatchObject({
        last_action: 'UPDATE',
        last_action_state: 'succeeded',
        parameters: { kubernetes_worker_instances: 2 },
      });
      const drained = await rest(alice, 'PATCH', `/v1/clusters/${name}`, requests.updateDrain);
      expect(drained.status).toBe(202);
      await pollCluster(name, (a) => a.json?.last_action_state !== 'in progress');
      const drainDetails = await rest(alice, 'GET', `/v1/clusterdetails/${name}`);
      expect(modelProblems(drainDetails.json, 'Cluster')).toEqual([]);
      expect(drainDetails.json.parameters.kubernetes_setting_cluster_details).toMatchObject({
        kubelet_drain_timeout: '15',
        kubelet_drain_force: 'true',
      });

      // PKS's body is {}; openpks needs the password the kubeconfig's OIDC tokens are issued with.
      const noPassword = await rest(alice, 'POST', `/v1/clusters/${name}/binds`, requests.bindRequest);
      expect(noPassword.status).toBe(400);
      expect(noPassword.json.body).toMatch(/^password: is required/);
      const bound = await rest(alice, 'POST', `/v1/clusters/${name}/binds`, { password: 'alice-password-1' });
      expect(bound.status).toBe(201);
      expect(bound.json).toMatchObject({ kind: 'Config', 'current-context': name });
      const kubeconfig = join(dir, 'kubeconfig.json');
      await writeFile(kubeconfig, JSON.stringify(bound.json), { mode: 0o600 });
      const minified = await run('/usr/bin/kubectl', [
        '--kubeconfig',
        kubeconfig,
        'config',
        'view',
        '--minify',
        '-o',
        'json',
      ]);
      const view = JSON.parse(minified.stdout);
      expect(view.clusters[0].cluster.server).toMatch(/^https:\/\//);
      expect(view.users[0].user['auth-provider'].config['client-id']).toBe('pks_cluster_client');
      const contexts = await run('/usr/bin/kubectl', [
        '--kubeconfig',
        kubeconfig,
        'config',
        'get-contexts',
        '-o',
        'name',
      ]);
      expect(contexts.stdout.trim().split('\n')).toContain(name);
      const nodes = await run(
        '/usr/bin/kubectl',
        ['--kubeconfig', kubeconfig, 'get', 'nodes', '--no-headers'],
        {
          timeout: 30_000,
        },
      );
      expect(
        nodes.stdout
          .trim()
          .split('\n')
          .filter((l) => / Ready /.test(l)),
      ).toHaveLength(2);

      const forUser = await rest(
        alice,
        'GET',
        `/v1/clusters/${name}/binds/alice?suppressClusterRoleBinding=true`,
        undefined,
        {
          'X-Pks-User-Password': 'alice-password-1',
        },
      );
      expect(forUser.status).toBe(200);
      expect(forUser.json.users[0].name).toBe('alice');
      const forOther = await rest(alice, 'GET', `/v1/clusters/${name}/binds/bob`, undefined, {
        'X-Pks-User-Password': 'alice-password-1',
      });
      expect(forOther.status).toBe(400);
      expect(forOther.json.body).toMatch(/^user: "bob" is not you/);

      const networkProfile = requests.networkProfileRequest!;
      const npCreated = await rest(admin, 'POST', '/v1/network-profiles', networkProfile);
      expect(npCreated.status).toBe(201);
      expect(modelProblems(npCreated.json, 'NetworkProfile')).toEqual([]);
      expect(npCreated.json).toEqual(networkProfile);
      const npGot = await rest(alice, 'GET', `/v1/network-profiles/${networkProfile.name as string}`);
      expect(npGot.status).toBe(200);
      expect(npGot.json).toEqual(networkProfile);
      expect((await rest(alice, 'GET', '/v1/network-profiles')).json).toEqual([networkProfile]);
      expect((await rest(admin, 'POST', '/v1/network-profiles', networkProfile)).status).toBe(409);
      expect(
        (await rest(admin, 'DELETE', `/v1/network-profiles/${networkProfile.name as string}`)).status,
      ).toBe(204);
      const npGone = await rest(alice, 'GET', `/v1/network-profiles/${networkProfile.name as string}`);
      expect(npGone.status).toBe(404);
      expect(npGone.json.body).toBe(`Network profile ${networkProfile.name as string} not found`);

      const computeProfile = requests.computeProfileRequest!;
      const cpCreated = await rest(admin, 'POST', '/v1/compute-profiles', computeProfile);
      expect(cpCreated.status).toBe(201);
      expect(modelProblems(cpCreated.json, 'ComputeProfile')).toEqual([]);
      expect(cpCreated.json).toEqual(computeProfile);
      expect(
        (await rest(alice, 'GET', `/v1/compute-profiles/${computeProfile.name as string}`)).json,
      ).toEqual(computeProfile);
      expect((await rest(alice, 'GET', '/v1/compute-profiles')).json).toEqual([computeProfile]);
      expect(
        (await rest(admin, 'DELETE', `/v1/compute-profiles/${computeProfile.name as string}`)).status,
      ).toBe(204);
      expect((await rest(alice, 'GET', `/v1/compute-profiles/${computeProfile.name as string}`)).status).toBe(
        404,
      );

      const upgradable = await rest(alice, 'GET', '/v1/upgradable');
      expect(upgradable.status).toBe(200);
      expect(upgradable.json).toBe(ready.json.pks_version);

      const upgrade = await rest(alice, 'PATCH', '/v1/clusters', requests.upgradeClustersRequest);
      expect(upgrade.status).toBe(202);
      expect(modelProblems(upgrade.json, 'TaskInfo')).toEqual([]);
      expect(upgrade.json.clusters.map((c: { cluster_name: string }) => c.cluster_name)).toEqual([name]);
      let task: Answer | undefined;
      for (let i = 0; i < 400; i++) {
        task = await rest(alice, 'GET', `/v1/tasks/${upgrade.json.uuid as string}`);
        expect(task.status).toBe(200);
        expect(modelProblems(task.json, 'TaskInfo')).toEqual([]);
        if (task.json.status === 'done') break;
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(task!.json).toMatchObject({
        uuid: upgrade.json.uuid,
        type: 'UPGRADE',
        status: 'done',
        clusters: [
          { cluster_name: name, last_action: 'UPGRADE', last_action_state: 'succeeded', is_canary: false },
        ],
      });
      expect(task!.json.end_time).toBeGreaterThanOrEqual(task!.json.start_time);
      expect(task!.json.start_time).toBeGreaterThan(1_600_000_000);
      const tasks = await rest(alice, 'GET', '/v1/tasks');
      expect(tasks.json.map((t: { uuid: string }) => t.uuid)).toContain(upgrade.json.uuid);
      // A finished task cannot be canceled (PUT cancels).
      const cancel = await rest(alice, 'PUT', `/v1/tasks/${upgrade.json.uuid as string}`);
      expect(cancel.status).toBe(409);
      await pollCluster(name, (a) => a.json?.last_action_state !== 'in progress');

      const deleted = await rest(alice, 'DELETE', `/v1/clusters/${name}`);
      expect(deleted.status).toBe(204);
      const gone = await pollCluster(name, (a) => a.status === 404);
      expect(gone.json).toEqual({ body: `Cluster ${name} not found` });
      expect((await rest(alice, 'GET', '/v1/clusters')).json).toEqual([]);
      expect(await stack.bosh.client.deployments()).toEqual([]);
      // Clients treat 404 on DELETE as already deleted.
      expect((await rest(alice, 'DELETE', `/v1/clusters/${name}`)).status).toBe(404);
    }, 240_000);
  },
);
