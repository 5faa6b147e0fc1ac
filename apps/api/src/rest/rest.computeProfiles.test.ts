import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentNameOf } from '@openpks/broker';
import { parseConfig } from '@openpks/config';
import { testDatabaseBackends } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestStack, type TestStack } from '../testing/index.js';
import { modelProblems } from './fixtures/models.js';

// Where compute profiles take effect: a cluster created with one has every VM in the profile's AZs (the
// broker's service adapter renders them so; the embedded Director places the VMs), keeps them there, is
// not resized through the API (PKS §5), and holds its profile against deletion.

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

// The installation knows z1 and z2 (the AZs its plans use); the broker's plans put every VM in z1.
const plans: Plan[] = parseConfig({}).plans.map((p) => ({
  ...p,
  master: { ...p.master, azs: ['z1', 'z2'] },
}));

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 166 + i })))(
  'compute profiles over PKS v1 REST on $name',
  ({ backend, subnet }) => {
    let stack: TestStack;
    let alice: string;
    let admin: string;

    beforeAll(async () => {
      stack = await startTestStack({ backend, ipRange: `127.1.${subnet}.0/24`, api: { plans } });
      alice = await stack.signIn('alice', ['pks.clusters.manage']);
      admin = await stack.signIn('root', ['pks.clusters.admin']);
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    });

    const rest = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
      const res = await stack.api.raw(method, path, {
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: res.body === '' ? undefined : JSON.parse(res.body) };
    };

    const settled = async (name: string, gone = false): Promise<Answer> => {
      for (let i = 0; i < 400; i++) {
        const answer = await rest(alice, 'GET', `/v1/clusters/${name}`);
        if (gone ? answer.status === 404 : answer.json?.last_action_state !== 'in progress') return answer;
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(`cluster ${name} did not settle`);
    };

    it('places every VM of a cluster in its profile’s AZs, refuses resizing it, and keeps the profile in use', async () => {
      const profile = {
        name: 'only-z2',
        description: 'everything in z2',
        parameters: { azs: [{ name: 'z2' }] },
      };
      expect((await rest(admin, 'POST', '/v1/compute-profiles', profile)).status).toBe(201);
      const unknownAz = await rest(admin, 'POST', '/v1/compute-profiles', {
        name: 'z3',
        parameters: { azs: [{ name: 'z3' }] },
      });
      expect(unknownAz.json).toEqual({
        body: 'parameters.azs[0].name: AZ "z3" does not exist (allowed: z1, z2)',
      });

      const missing = await rest(alice, 'POST', '/v1/clusters', {
        name: 'placed',
        plan_name: 'small',
        compute_profile_name: 'nope',
        parameters: { kubernetes_master_host: 'placed.example.test' },
      });
      expect(missing.status).toBe(400);
      expect(missing.json.body).toBe('compute_profile_name: compute profile "nope" not found');

      const created = await rest(alice, 'POST', '/v1/clusters', {
        name: 'placed',
        plan_name: 'small',
        compute_profile_name: 'only-z2',
        parameters: { kubernetes_master_host: 'placed.example.test', kubernetes_worker_instances: 2 },
      });
      expect(created.status).toBe(202);
      expect(created.json.compute_profile_name).toBe('only-z2');
      const ready = await settled('placed');
      expect(ready.json).toMatchObject({ last_action_state: 'succeeded', compute_profile_name: 'only-z2' });
      expect(modelProblems(ready.json, 'Cluster')).toEqual([]);
      const instances = await stack.bosh.client.instances(deploymentNameOf(ready.json.uuid as string));
      expect(
        instances.filter((i) => i.job === 'master' || i.job === 'worker').map((i) => [i.job, i.az]),
      ).toEqual(
        expect.arrayContaining([
          ['master', 'z2'],
          ['worker', 'z2'],
          ['worker', 'z2'],
        ]),
      );
      expect(instances.every((i) => i.az === 'z2')).toBe(true);

      const resize = await rest(alice, 'PATCH', '/v1/clusters/placed', { kubernetes_worker_instances: 3 });
      expect(resize.status).toBe(400);
      expect(resize.json.body).toBe(
        'kubernetes_worker_instances: cluster placed was created with compute profile only-z2 and cannot be resized; delete it and create it again',
      );
      // Other changes still apply, and the VMs stay where the profile put them.
      expect((await rest(alice, 'PATCH', '/v1/clusters/placed', { kubelet_drain_timeout: '5' })).status).toBe(
        202,
      );
      expect((await settled('placed')).json.last_action_state).toBe('succeeded');
      const after = await stack.bosh.client.instances(deploymentNameOf(ready.json.uuid as string));
      expect(after.every((i) => i.az === 'z2')).toBe(true);

      const inUse = await rest(admin, 'DELETE', '/v1/compute-profiles/only-z2');
      expect(inUse.status).toBe(409);
      expect(inUse.json.body).toBe('Compute profile only-z2 is in use by cluster(s): placed');

      expect((await rest(alice, 'DELETE', '/v1/clusters/placed')).status).toBe(204);
      await settled('placed', true);
      expect((await rest(admin, 'DELETE', '/v1/compute-profiles/only-z2')).status).toBe(204);
    }, 180_000);
  },
);
