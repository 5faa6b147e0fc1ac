import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends } from '@openpks/db/testing';
import { seedCluster, startTestStack, type TestStack } from '../testing/index.js';
import { modelProblems, readFixture } from './fixtures/models.js';

// Who may call which PKS v1 endpoint (the same scopes and ownership as GraphQL, PKS-REFERENCE §3), how
// bad input is answered (a 400 whose `body` names each field as the request named it), and the HTTP edges
// (unknown paths, wrong methods, bad JSON, the body limit, the OpenAPI description).

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Record<string, unknown>;
}

const CALLERS = ['manage', 'admin', 'adminRead', 'noScope', 'none'] as const;
type Who = (typeof CALLERS)[number];

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 164 + i })))(
  'PKS v1 REST access and bad input on $name',
  ({ backend, subnet }) => {
    let stack: TestStack;
    const tokens: Partial<Record<Who, string>> = {};

    beforeAll(async () => {
      stack = await startTestStack({
        backend,
        ipRange: `127.1.${subnet}.0/24`,
        api: { maxBodyBytes: 64 * 1024 },
      });
      tokens.manage = await stack.signIn('alice', ['pks.clusters.manage']);
      tokens.admin = await stack.signIn('root', ['pks.clusters.admin']);
      tokens.adminRead = await stack.signIn('auditor', ['pks.clusters.admin.read']);
      // Nobody without a PKS scope gets a pks_cli token; a signed-in user without one is who the
      // kubeconfig client (openid only) serves.
      await stack.uaa.createUser('nobody', 'nobody-password-1', []);
      tokens.noScope = (
        await stack.uaa.tokenFor({
          username: 'nobody',
          password: 'nobody-password-1',
          clientId: 'pks_cluster_client',
          scope: 'openid',
        })
      ).access_token;
      // Recorded as created and succeeded earlier: these tests read and refuse, they do not provision.
      await seedCluster(stack.db, 'alices', 'alice');
      await seedCluster(stack.db, 'roots', 'root');
      const np = await rest('admin', 'POST', '/v1/network-profiles', {
        name: 'np1',
        parameters: { lb_size: 'small' },
      });
      expect(np.status).toBe(201);
      const cp = await rest('admin', 'POST', '/v1/compute-profiles', {
        name: 'cp1',
        parameters: { azs: [{ name: 'z1' }] },
      });
      expect(cp.status).toBe(201);
      const quota = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'alice',
        limit: { cluster: 10, cpu: 100, memory: 400 },
      });
      expect(quota.status).toBe(201);
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    });

    async function rest(
      who: Who,
      method: string,
      path: string,
      body?: unknown,
      options: { raw?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> {
      const token = tokens[who];
      const text = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      const res = await stack.api.raw(method, path, {
        headers: {
          ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
          ...(text === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...options.headers,
        },
        ...(text === undefined ? {} : { body: text }),
      });
      return {
        status: res.status,
        json: res.body === '' ? undefined : (JSON.parse(res.body) as unknown),
        headers: res.headers,
      };
    }

    const missingTask = randomUUID();
    // Writes are sent in a form that is refused after authorisation (bad input, a missing name), so a 400
    // or a 404 for one caller against a 403 for another shows the scope check without changing anything.
    const MATRIX: [string, string, unknown, Record<Who, number>][] = [
      ['GET', '/v1/plans', undefined, { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 }],
      [
        'GET',
        '/v1/clusters',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/clusters/alices',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/clusters/roots',
        undefined,
        { manage: 404, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/clusterdetails/roots',
        undefined,
        { manage: 404, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'POST',
        '/v1/clusters',
        { name: 'new-one', plan_name: 'huge', parameters: { kubernetes_master_host: 'n.example.test' } },
        { manage: 400, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'PATCH',
        '/v1/clusters',
        { clusters: ['alices'], max_in_flight: 0 },
        { manage: 400, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'PATCH',
        '/v1/clusters/alices',
        { kubernetes_worker_instances: 999 },
        { manage: 400, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'PATCH',
        '/v1/clusters/roots',
        { kubernetes_worker_instances: 999 },
        { manage: 404, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'DELETE',
        '/v1/clusters/ghost',
        undefined,
        { manage: 404, admin: 404, adminRead: 403, noScope: 403, none: 401 },
      ],
      // Binds without a password: authorised callers get as far as the missing password.
      [
        'POST',
        '/v1/clusters/alices/binds',
        {},
        { manage: 400, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'POST',
        '/v1/clusters/roots/binds',
        {},
        { manage: 404, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/clusters/alices/binds/alice',
        undefined,
        { manage: 400, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/network-profiles',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/network-profiles/np1',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'POST',
        '/v1/network-profiles',
        { name: 'bad name!', parameters: {} },
        { manage: 403, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'DELETE',
        '/v1/network-profiles/nope',
        undefined,
        { manage: 403, admin: 404, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/compute-profiles',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/compute-profiles/cp1',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'POST',
        '/v1/compute-profiles',
        { name: 'x'.repeat(27), parameters: { azs: [{ name: 'z1' }] } },
        { manage: 403, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'DELETE',
        '/v1/compute-profiles/nope',
        undefined,
        { manage: 403, admin: 404, adminRead: 403, noScope: 403, none: 401 },
      ],
      ['GET', '/v1/tasks', undefined, { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 }],
      [
        'GET',
        `/v1/tasks/${missingTask}`,
        undefined,
        { manage: 404, admin: 404, adminRead: 404, noScope: 403, none: 401 },
      ],
      [
        'PUT',
        `/v1/tasks/${missingTask}`,
        undefined,
        { manage: 404, admin: 404, adminRead: 403, noScope: 403, none: 401 },
      ],
      ['GET', '/v1/quotas', undefined, { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 }],
      [
        'POST',
        '/v1/quotas',
        { owner: 'bob', limit: { cluster: 0, cpu: 1, memory: 1 } },
        { manage: 403, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/quotas/alice',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/quotas/root',
        undefined,
        { manage: 404, admin: 404, adminRead: 404, noScope: 403, none: 401 },
      ],
      [
        'PATCH',
        '/v1/quotas/alice',
        { limit: { cluster: 0 } },
        { manage: 403, admin: 400, adminRead: 403, noScope: 403, none: 401 },
      ],
      [
        'DELETE',
        '/v1/quotas/root',
        undefined,
        { manage: 403, admin: 404, adminRead: 403, noScope: 403, none: 401 },
      ],
      ['GET', '/v1/usages', undefined, { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 }],
      [
        'GET',
        '/v1/usages/alice',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/usages/root',
        undefined,
        { manage: 404, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/upgradable',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 403, none: 401 },
      ],
      [
        'GET',
        '/v1/openapi.json',
        undefined,
        { manage: 200, admin: 200, adminRead: 200, noScope: 200, none: 200 },
      ],
    ];

    it('answers every endpoint for manage, admin, admin.read, no scope and no token as PKS-REFERENCE §3 says', async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const [method, path, body, expected] of MATRIX) {
        for (const who of CALLERS) {
          const answer = await rest(who, method, path, body);
          got.push(`${method} ${path} ${who} → ${answer.status}`);
          want.push(`${method} ${path} ${who} → ${expected[who]}`);
          if (answer.status >= 400) expect(modelProblems(answer.json, 'ErrorResponse')).toEqual([]);
          if (answer.status === 401)
            expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="pks"/);
        }
      }
      expect(got).toEqual(want);
      // Every endpoint PKS has is in the matrix.
      const endpoints = readFixture<{ endpoints: { method: string; path: string }[] }>(
        'endpoints.json',
      ).endpoints;
      const asPattern = (path: string) =>
        /^\/v1\/(quotas|usages)\/[^/]+$/.test(path)
          ? path.replace(/[^/]+$/, '{owner}')
          : path.replace(
              /\/(alices|roots|ghost|np1|nope|cp1|alice|[0-9a-f-]{36})(?=\/|$)/g,
              (_, v: string) => (v === 'alice' ? '/{user}' : /^[0-9a-f-]{36}$/.test(v) ? '/{id}' : '/{name}'),
            );
      const covered = new Set(MATRIX.map(([method, path]) => `${method} ${asPattern(path)}`));
      expect(endpoints.map((e) => `${e.method} ${e.path}`).filter((e) => !covered.has(e))).toEqual([]);
    });

    it('serves quotas and usages as PKS models: create, duplicate, change, usage, a refusal over the limit, delete', async () => {
      const created = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'carol',
        limit: { cluster: 2, cpu: 16, memory: 32.5 },
      });
      expect(created.status).toBe(201);
      expect(modelProblems(created.json, 'Quota')).toEqual([]);
      expect(created.json).toEqual({ owner: 'carol', limit: { cluster: 2, cpu: 16, memory: 32.5 } });
      // A second POST for one owner does not overwrite what an operator set: PATCH changes it.
      const again = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'carol',
        limit: { cluster: 9, cpu: 9, memory: 9 },
      });
      expect(again.status).toBe(409);
      expect(again.json.body).toMatch(/carol/);
      const patched = await rest('admin', 'PATCH', '/v1/quotas/carol', { limit: { cpu: 24 } });
      expect(patched.status).toBe(200);
      expect(patched.json).toEqual({ owner: 'carol', limit: { cluster: 2, cpu: 24, memory: 32.5 } });
      // Bad input names each field as the request named it.
      const bad = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'dave',
        limit: { cluster: 1.5, cpu: -1, memory: 'lots', disk: 1 },
      });
      expect(bad.status).toBe(400);
      expect((bad.json.body as string).split('\n').map((line) => line.split(':')[0])).toEqual(['limit.disk']);
      const values = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'dave',
        limit: { cluster: 1.5, cpu: -1, memory: 'lots' },
      });
      expect((values.json.body as string).split('\n').map((line) => line.split(':')[0])).toEqual([
        'limit.cluster',
        'limit.cpu',
        'limit.memory',
      ]);
      const otherOwner = await rest('admin', 'PATCH', '/v1/quotas/carol', {
        owner: 'dave',
        limit: { cpu: 1 },
      });
      expect(otherOwner.status).toBe(400);
      expect(otherOwner.json.body).toMatch(/^owner: "dave" is not the owner in the path/);

      // alice owns one cluster on plan small: a medium master and three medium workers (2 CPU, 4 GB each).
      const usage = await rest('manage', 'GET', '/v1/usages/alice');
      expect(usage.status).toBe(200);
      expect(modelProblems(usage.json, 'Usage')).toEqual([]);
      expect(usage.json).toEqual({
        owner: 'alice',
        totals: { cpu: 8, memory: 16, cluster: 1 },
        clusters: [{ name: 'alices', cpu: 8, memory: 16 }],
      });
      const all = await rest('adminRead', 'GET', '/v1/usages');
      for (const u of all.json as unknown[]) expect(modelProblems(u, 'Usage')).toEqual([]);
      expect((all.json as { owner: string }[]).map((u) => u.owner)).toEqual(
        expect.arrayContaining(['alice', 'carol', 'root']),
      );
      for (const q of (await rest('admin', 'GET', '/v1/quotas')).json as unknown[]) {
        expect(modelProblems(q, 'Quota')).toEqual([]);
      }

      // At the limit, a manager's create is refused with what was used and what was asked.
      expect((await rest('admin', 'PATCH', '/v1/quotas/alice', { limit: { cluster: 1 } })).status).toBe(200);
      const over = await rest('manage', 'POST', '/v1/clusters', {
        name: 'one-too-many',
        plan_name: 'small',
        parameters: { kubernetes_master_host: 'one-too-many.example.test' },
      });
      expect(over.status).toBe(403);
      expect(over.json).toEqual({ body: 'clusters: 1 of 1 used, creating one more exceeds the limit' });
      expect((await rest('admin', 'GET', '/v1/clusters/one-too-many')).status).toBe(404);

      // PKS tooling's quota without a cluster count (PKS 1.5 had only cpu and memory): absent is no limit,
      // and the answer leaves it out as PKS's model does. alice holds 8 CPU and 16 GB; the create needs as
      // much again.
      expect((await rest('admin', 'DELETE', '/v1/quotas/alice')).status).toBe(204);
      const partial = await rest('admin', 'POST', '/v1/quotas', {
        owner: 'alice',
        limit: { cpu: 12, memory: 20 },
      });
      expect(partial.status).toBe(201);
      expect(partial.json).toEqual({ owner: 'alice', limit: { cpu: 12, memory: 20 } });
      expect(modelProblems(partial.json, 'Quota')).toEqual([]);
      const second = {
        name: 'second',
        plan_name: 'small',
        parameters: { kubernetes_master_host: 'second.example.test' },
      };
      // Refused on cpu, not on a cluster count (which the check would name first).
      expect((await rest('manage', 'POST', '/v1/clusters', second)).json).toEqual({
        body: 'cpu: 8 of 12 used, this cluster needs 8',
      });
      // null removes one limit; the fields not sent stay.
      const lifted = await rest('admin', 'PATCH', '/v1/quotas/alice', { limit: { cpu: null } });
      expect(lifted.status).toBe(200);
      expect(lifted.json).toEqual({ owner: 'alice', limit: { memory: 20 } });
      expect((await rest('manage', 'GET', '/v1/quotas/alice')).json).toEqual({
        owner: 'alice',
        limit: { memory: 20 },
      });
      expect((await rest('manage', 'POST', '/v1/clusters', second)).json).toEqual({
        body: 'memory: 16 of 20 GB used, this cluster needs 16 GB',
      });
      // A quota must limit something: an empty limit on POST, or removing the last one on PATCH.
      const empty = await rest('admin', 'POST', '/v1/quotas', { owner: 'dave', limit: {} });
      expect(empty.status).toBe(400);
      expect(empty.json.body).toMatch(
        /^limit: sets no limit \(allowed: at least one of cluster, cpu, memory/,
      );
      const last = await rest('admin', 'PATCH', '/v1/quotas/alice', { limit: { memory: null } });
      expect(last.status).toBe(400);
      expect(last.json.body).toMatch(/^limit: would leave the quota limiting nothing/);
      expect((await rest('admin', 'GET', '/v1/quotas/dave')).status).toBe(404);
      expect((await rest('admin', 'GET', '/v1/quotas/alice')).json).toEqual({
        owner: 'alice',
        limit: { memory: 20 },
      });
      const restored = await rest('admin', 'PATCH', '/v1/quotas/alice', {
        limit: { cluster: 10, cpu: 100, memory: 400 },
      });
      expect(restored.json).toEqual({ owner: 'alice', limit: { cluster: 10, cpu: 100, memory: 400 } });

      expect((await rest('admin', 'DELETE', '/v1/quotas/carol')).status).toBe(204);
      const gone = await rest('admin', 'GET', '/v1/quotas/carol');
      expect(gone.status).toBe(404);
      expect(gone.json).toEqual({ body: 'The quota owner named: "carol" not found.' });
      // Every change above is in the audit trail, by the admin who made it.
      const { rows } = await stack.db.query<{ action: string; target: string }>(
        `SELECT action, target FROM api.audit_events WHERE target = 'carol' ORDER BY id`,
      );
      expect(rows.map((r) => r.action)).toEqual(
        expect.arrayContaining(['createQuota', 'updateQuota', 'deleteQuota']),
      );
    });

    it('shows a manager their own clusters only and an admin.read reader all of them', async () => {
      const names = async (who: Who) =>
        ((await rest(who, 'GET', '/v1/clusters')).json as { name: string }[]).map((c) => c.name).sort();
      expect(await names('manage')).toEqual(['alices']);
      expect(await names('adminRead')).toEqual(['alices', 'roots']);
      expect((await rest('manage', 'GET', '/v1/clusters/roots')).json).toEqual({
        body: 'Cluster roots not found',
      });
      // Another's cluster is not found for every change too, never forbidden.
      expect((await rest('manage', 'DELETE', '/v1/clusters/roots')).json).toEqual({
        body: 'Cluster roots not found',
      });
    });

    it('names each bad field of a ClusterRequest as the request named it, all in one answer', async () => {
      const bad = async (body: unknown) => {
        const answer = await rest('manage', 'POST', '/v1/clusters', body);
        expect(answer.status).toBe(400);
        expect(modelProblems(answer.json, 'ErrorResponse')).toEqual([]);
        return answer.json.body as string;
      };
      expect(
        await bad({ plan_name: 'small', parameters: { kubernetes_master_host: 'a.example.test' } }),
      ).toBe('name: is required');
      expect(
        await bad({
          name: 'c2',
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'a.example.test', kubernetes_worker_instances: 99 },
        }),
      ).toBe(
        "parameters.kubernetes_worker_instances: 99 workers is outside plan small's limits (allowed: 1 to 10)",
      );
      expect(
        await bad({
          name: 5,
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'a.example.test', kubernetes_worker_instances: '3' },
        }),
      ).toBe(
        'name: must be a string, not the number 5\n' +
          'parameters.kubernetes_worker_instances: must be an integer, not the string "3"',
      );
      expect(await bad({ name: 'c2', plan_name: 'small' })).toBe('parameters: is required');
      expect(
        await bad({
          name: 'c2',
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'a.example.test', kubernetes_master_port: 6443 },
        }),
      ).toBe('parameters.kubernetes_master_port: 6443 is not served (allowed: 8443)');
      expect(
        await bad({
          name: 'c2',
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'a.example.test' },
          plan: 'x',
        }),
      ).toBe(
        'plan: is not a field of this request (allowed: name, plan_name, network_profile_name, compute_profile_name, parameters)',
      );
      expect(
        await bad({
          name: 'c2',
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'a.example.test', authorization_mode: 'rbac' },
        }),
      ).toBe('parameters.authorization_mode: is a PKS field openpks does not support');
      // The service's own checks, with its fields named as the REST request names them.
      expect(
        await bad({
          name: 'Bad_Name',
          plan_name: 'huge',
          parameters: { kubernetes_master_host: 'not a host' },
        }),
      ).toMatch(
        /^name: cluster name "Bad_Name" contains uppercase letters .*\nplan_name: plan "huge" not found \(allowed: small, medium, large\)\nparameters\.kubernetes_master_host: /,
      );
      expect(
        await bad({
          name: 'c2',
          plan_name: 'small',
          compute_profile_name: 'nope',
          network_profile_name: 'nope',
          parameters: { kubernetes_master_host: 'a.example.test' },
        }),
      ).toBe(
        'network_profile_name: network profile "nope" not found\n' +
          'compute_profile_name: compute profile "nope" not found',
      );
      expect((await rest('manage', 'GET', '/v1/clusters/c2')).status).toBe(404);
    });

    it('names the bad fields of updates, upgrades, profiles and binds', async () => {
      const patch = await rest('manage', 'PATCH', '/v1/clusters/alices', {});
      expect(patch.status).toBe(400);
      expect(patch.json.body).toMatch(
        /^nothing to change \(allowed: at least one of kubernetes_worker_instances, /,
      );
      const drain = await rest('manage', 'PATCH', '/v1/clusters/alices', {
        kubelet_drain_timeout: 'soon',
        kubelet_drain_force: true,
      });
      expect(drain.status).toBe(400);
      expect(drain.json.body).toBe('kubelet_drain_force: must be a string, not the boolean true');
      const drainValue = await rest('manage', 'PATCH', '/v1/clusters/alices', {
        kubelet_drain_timeout: 'soon',
      });
      expect(drainValue.json.body).toMatch(
        /^kubelet_drain_timeout: .*soon.*\(allowed: an integer from 0 to 1440\)$/,
      );
      const resize = await rest('manage', 'PATCH', '/v1/clusters/alices', { kubernetes_worker_instances: 0 });
      expect(resize.json.body).toBe(
        "kubernetes_worker_instances: 0 workers is outside plan small's limits (allowed: 1 to 10)",
      );
      const upgrade = await rest('manage', 'PATCH', '/v1/clusters', { canaries: ['x'], max_in_flight: 1.5 });
      expect(upgrade.status).toBe(400);
      expect(upgrade.json.body).toBe(
        'clusters: is required (allowed: a list of cluster names)\nmax_in_flight: must be an integer, not the number 1.5',
      );
      const np = await rest('admin', 'POST', '/v1/network-profiles', {
        name: 'np2',
        parameters: { lb_size: 'huge' },
      });
      expect(np.status).toBe(400);
      expect(np.json.body).toMatch(/^parameters\.lb_size: /);
      const bind = await rest('manage', 'POST', '/v1/clusters/alices/binds', { password: 7 });
      expect(bind.json.body).toBe('password: must be a string, not the number 7');
    });

    it('validates compute profiles field by field and keeps a duplicate out', async () => {
      const bad = async (body: unknown) => {
        const answer = await rest('admin', 'POST', '/v1/compute-profiles', body);
        expect(answer.status).toBe(400);
        return answer.json.body as string;
      };
      expect(await bad({ name: 'x'.repeat(27), parameters: { azs: [{ name: 'z1' }] } })).toMatch(
        /^name: "x{27}" is 27 characters long \(allowed: .*at most 26 characters\)$/,
      );
      expect(await bad({ name: 'cp2' })).toMatch(/^parameters: is required/);
      expect(await bad({ name: 'cp2', parameters: { azs: [] } })).toBe(
        'parameters.azs: lists no AZ (allowed: one or more of z1)',
      );
      expect(
        await bad({
          name: 'cp2',
          description: 3,
          parameters: {
            azs: [{ name: 'z9' }, { name: 'z1', cluster: '' }, { name: 'z1', rack: 'r1' }, 'z1'],
            worker_azs: ['z1'],
          },
        }),
      ).toBe(
        [
          'description: must be a string, not the number 3',
          'parameters.worker_azs: is not a compute profile parameter (allowed: azs)',
          'parameters.azs[0].name: AZ "z9" does not exist (allowed: z1)',
          'parameters.azs[1].cluster: must be a non-empty string, not ""',
          'parameters.azs[2].rack: is not a field of an AZ (allowed: name, datacenter, cluster, resource_pool)',
          'parameters.azs[2].name: AZ "z1" is listed twice',
          'parameters.azs[3]: must be an object, not the string "z1"',
        ].join('\n'),
      );
      const duplicate = await rest('admin', 'POST', '/v1/compute-profiles', {
        name: 'cp1',
        parameters: { azs: [{ name: 'z1' }] },
      });
      expect(duplicate.status).toBe(409);
      expect(duplicate.json.body).toBe('Compute profile cp1 already exists');
      // Audited like network profiles: who, what, and how it ended.
      const { rows } = await stack.db.query<{
        actor: string;
        target: string;
        outcome: string;
        error_code: string | null;
      }>(
        `SELECT actor, target, outcome, error_code FROM api.audit_events WHERE action = 'createComputeProfile' ORDER BY id`,
      );
      expect(rows[0]).toEqual({ actor: 'root', target: 'cp1', outcome: 'succeeded', error_code: null });
      expect(rows.at(-1)).toEqual({
        actor: 'root',
        target: 'cp1',
        outcome: 'failed',
        error_code: 'CONFLICT',
      });
      expect(rows.filter((r) => r.error_code === 'FORBIDDEN').length).toBeGreaterThan(0);
    });

    it('answers unknown paths 404, wrong methods 405 with Allow, bad JSON and oversized bodies with {"body"}', async () => {
      const unknown = await rest('manage', 'GET', '/v1/clusterz');
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual({ body: 'no such endpoint: /v1/clusterz' });
      const wrong = await rest('manage', 'PUT', '/v1/clusters/alices', {});
      expect(wrong.status).toBe(405);
      expect(wrong.headers.allow).toBe('GET, PATCH, DELETE');
      expect(wrong.json.body).toBe('PUT is not allowed on /v1/clusters/alices (allowed: GET, PATCH, DELETE)');
      const notJson = await rest('manage', 'POST', '/v1/clusters', undefined, { raw: '{"name": "c3",' });
      expect(notJson.status).toBe(400);
      expect(notJson.json.body).toMatch(/^the body is not JSON: /);
      const notObject = await rest('manage', 'POST', '/v1/clusters', [1, 2]);
      expect(notObject.status).toBe(400);
      expect(notObject.json.body).toBe('the body must be a JSON object (ClusterRequest), not a list');
      const huge = await rest('admin', 'POST', '/v1/network-profiles', {
        name: 'big',
        description: 'x'.repeat(70 * 1024),
        parameters: {},
      });
      expect(huge.status).toBe(413);
      expect(huge.json.body).toBe(`the request body is over ${64 * 1024} bytes`);
      const badToken = await stack.api.raw('GET', '/v1/plans', {
        headers: { Authorization: 'Bearer not-a-jwt' },
      });
      expect(badToken.status).toBe(401);
      expect(JSON.parse(badToken.body).body).toEqual(expect.any(String));
    });

    it('describes every endpoint of the fixtures in /v1/openapi.json', async () => {
      const answer = await rest('none', 'GET', '/v1/openapi.json');
      expect(answer.status).toBe(200);
      expect(answer.json.openapi).toMatch(/^3\./);
      const endpoints = readFixture<{ endpoints: { method: string; path: string }[] }>(
        'endpoints.json',
      ).endpoints;
      const missing = endpoints.filter(
        (e) => answer.json.paths[e.path]?.[e.method.toLowerCase()] === undefined,
      );
      expect(missing).toEqual([]);
      // And the router serves each of them (a 404 here would be "no such endpoint", not a missing object).
      for (const e of endpoints) {
        // Names that do not exist: nothing is changed, whoever the route calls.
        const path = e.path.replace('{name}', 'ghost').replace('{user}', 'root').replace('{id}', missingTask);
        const served = await rest(
          'admin',
          e.method,
          path,
          e.method === 'GET' || e.method === 'DELETE' ? undefined : {},
        );
        expect(served.json?.body ?? '', `${e.method} ${e.path}`).not.toMatch(
          /^no such endpoint|is not allowed on/,
        );
      }
    });
  },
);
