import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '@openpks/config';
import type { Plan } from '@openpks/domain';
import { generateManifest } from './manifest.js';
import { defaultOidcSettings, defaultServiceDeployment, odbPlanOf } from './plan.js';
import { generatePlanSchemas } from './schemas.js';
import type { OdbPlan } from './types.js';

const plans = parseConfig({}).plans;
const planNamed = (name: string): Plan => plans.find((p) => p.name === name)!;
const oidc = defaultOidcSettings('https://pks.example.com:8443');
const small = odbPlanOf(planNamed('small'), oidc);
const medium = odbPlanOf(planNamed('medium'), oidc);
const INSTANCE = '5f0c1a2e-8d43-4b6a-9b7e-2f1d3c4b5a69';
const deployment = defaultServiceDeployment(INSTANCE);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function create(parameters: Obj, plan: OdbPlan = small): Obj & { yaml: string } {
  const { manifest } = generateManifest({
    serviceDeployment: deployment,
    plan,
    requestParams: { plan_id: plan.properties.plan_id, parameters },
  });
  return Object.assign(parse(manifest) as Obj, { yaml: manifest });
}

const group = (manifest: Obj, name: string): Obj =>
  manifest.instance_groups.find((g: Obj) => g.name === name);
const job = (manifest: Obj, groupName: string, name: string): Obj =>
  group(manifest, groupName).jobs.find((j: Obj) => j.name === name);

describe('generateManifest', () => {
  it('pins the rendered kubo manifest of a small cluster', async () => {
    const manifest = create({ kubernetes_master_host: 'cluster-a.example.com' });
    await expect(manifest.yaml).toMatchFileSnapshot('__snapshots__/small-cluster.manifest.snap');
  });

  it('names the deployment service-instance_<id> and renders master, worker and errand groups', () => {
    const manifest = create({ kubernetes_master_host: 'cluster-a.example.com' });
    expect(manifest.name).toBe(`service-instance_${INSTANCE}`);
    expect(manifest.instance_groups.map((g: Obj) => [g.name, g.instances, g.lifecycle ?? 'service'])).toEqual(
      [
        ['master', 1, 'service'],
        ['worker', 3, 'service'],
        ['apply-addons', 1, 'errand'],
        ['drain-cluster', 1, 'errand'],
      ],
    );
    expect(group(manifest, 'master').jobs.map((j: Obj) => j.name)).toEqual([
      'bpm',
      'flanneld',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kubernetes-roles',
      'etcd',
    ]);
    expect(group(manifest, 'worker').jobs.map((j: Obj) => j.name)).toEqual([
      'flanneld',
      'docker',
      'kubernetes-dependencies',
      'kubelet',
      'kube-proxy',
    ]);
    expect(job(manifest, 'master', 'etcd').release).toBe('cfcr-etcd');
    expect(manifest.releases.every((r: Obj) => !String(r.version).endsWith('latest'))).toBe(true);
  });

  it('declares the cluster CA, apiserver, kubelet and etcd certificates and the service-account key', () => {
    const manifest = create({ kubernetes_master_host: 'cluster-a.example.com' });
    const variables = Object.fromEntries(manifest.variables.map((v: Obj) => [v.name, v]));
    expect(Object.keys(variables)).toEqual([
      'kubo-admin-password',
      'kubo_ca',
      'tls-kubernetes',
      'tls-kubelet',
      'tls-kubelet-client',
      'etcd_ca',
      'tls-etcd-server',
      'tls-etcd-client',
      'service-account-key',
    ]);
    expect(variables.kubo_ca.options.is_ca).toBe(true);
    expect(variables['service-account-key'].type).toBe('rsa');
    expect(variables['tls-kubernetes'].options.ca).toBe('kubo_ca');
    expect(variables['tls-kubernetes'].options.alternative_names).toEqual(
      expect.arrayContaining([
        'cluster-a.example.com',
        '10.100.200.1',
        'kubernetes.default.svc.cluster.local',
        'master.cfcr.internal',
      ]),
    );
    // master IPs come from BOSH once placed
    expect(variables['tls-kubernetes'].consumes).toEqual({ alternative_name: { from: 'kube-apiserver' } });
    expect(variables['tls-etcd-server'].options.ca).toBe('etcd_ca');
  });

  it('configures the apiserver for UAA as OIDC issuer with pks_cluster_client and oidc: prefixes', () => {
    const apiserver = job(
      create({ kubernetes_master_host: 'cluster-a.example.com' }),
      'master',
      'kube-apiserver',
    );
    expect(apiserver.properties.oidc).toEqual({
      'issuer-url': 'https://pks.example.com:8443/oauth/token',
      'client-id': 'pks_cluster_client',
      'username-claim': 'user_name',
      'username-prefix': 'oidc:',
      'groups-claim': 'roles',
      'groups-prefix': 'oidc:',
    });
    expect(apiserver.properties).toMatchObject({
      'external-hostname': 'cluster-a.example.com',
      port: 8443,
      'authorization-mode': 'rbac',
      'allow-privileged': false,
    });
  });

  it('takes the update block from the plan and stretches the watch time over the drain timeout', () => {
    const plain = create({ kubernetes_master_host: 'a.example.com' });
    expect(plain.update).toEqual({
      canaries: 1,
      max_in_flight: 4,
      canary_watch_time: '10000-300000',
      update_watch_time: '10000-300000',
      serial: true,
    });
    expect(group(plain, 'worker').update).toEqual({ max_in_flight: 4, serial: true });
    const draining = create({
      kubernetes_master_host: 'a.example.com',
      kubernetes_setting_cluster_details: { kubelet_drain_timeout: '10', kubelet_drain_force: 'true' },
    });
    expect(draining.update.update_watch_time).toBe('10000-900000');
    expect(job(draining, 'worker', 'kubelet').properties.drain).toMatchObject({ timeout: 10, force: true });
  });

  it('carries parameters not sent on an update over from the previous manifest', () => {
    const first = create({
      kubernetes_master_host: 'cluster-a.example.com',
      kubernetes_worker_instances: 5,
      nsxt_network_details: { lb_size: 'small' },
      kubernetes_setting_cluster_details: { kubelet_drain_timeout: '15' },
    });
    const { manifest } = generateManifest({
      serviceDeployment: deployment,
      plan: small,
      requestParams: { plan_id: small.properties.plan_id, parameters: { kubernetes_worker_instances: 7 } },
      previousManifest: first.yaml,
      previousPlan: small,
    });
    const next = parse(manifest) as Obj;
    expect(group(next, 'worker').instances).toBe(7);
    expect(job(next, 'master', 'kube-apiserver').properties['external-hostname']).toBe(
      'cluster-a.example.com',
    );
    expect(job(next, 'master', 'kube-apiserver').properties['network-details']).toEqual({ lb_size: 'small' });
    expect(job(next, 'worker', 'kubelet').properties.drain.timeout).toBe(15);

    // an upgrade sends no parameters at all: everything carries over
    const upgraded = parse(
      generateManifest({
        serviceDeployment: deployment,
        plan: small,
        requestParams: null,
        previousManifest: manifest,
        previousPlan: small,
      }).manifest,
    ) as Obj;
    expect(upgraded).toEqual(next);
  });

  it("places every instance group in a compute profile's AZs, and keeps them there on later updates", () => {
    const profile = JSON.stringify({ name: 'cp', parameters: { azs: [{ name: 'z2' }, { name: 'z3' }] } });
    const first = create({ kubernetes_master_host: 'cluster-a.example.com', compute_profile: profile });
    expect(first.instance_groups.map((g: Obj) => [g.name, g.azs])).toEqual([
      ['master', ['z2', 'z3']],
      ['worker', ['z2', 'z3']],
      ['apply-addons', ['z2']],
      ['drain-cluster', ['z2']],
    ]);
    const resized = parse(
      generateManifest({
        serviceDeployment: deployment,
        plan: small,
        requestParams: { plan_id: small.properties.plan_id, parameters: { kubernetes_worker_instances: 4 } },
        previousManifest: first.yaml,
        previousPlan: small,
      }).manifest,
    ) as Obj;
    expect(group(resized, 'worker')).toMatchObject({ instances: 4, azs: ['z2', 'z3'] });
    expect(group(resized, 'master').azs).toEqual(['z2', 'z3']);
    // Without one, the plan's AZs.
    expect(group(create({ kubernetes_master_host: 'cluster-a.example.com' }), 'worker').azs).toEqual(['z1']);
    expect(() =>
      create({ kubernetes_master_host: 'cluster-a.example.com', compute_profile: '{"name":"cp"}' }),
    ).toThrow(expect.objectContaining({ field: 'compute_profile' }));
  });

  it('rejects a worker count above the plan maximum or below 1', () => {
    expect(() =>
      create({ kubernetes_master_host: 'a.example.com', kubernetes_worker_instances: 11 }),
    ).toThrow('Invalid worker count 11: plan small allows 1 to 10 workers');
    expect(() => create({ kubernetes_master_host: 'a.example.com', kubernetes_worker_instances: 0 })).toThrow(
      /allows 1 to 10 workers/,
    );
  });

  it('rejects a master-count change, per cluster or by the plan', () => {
    expect(() => create({ kubernetes_master_host: 'a.example.com', kubernetes_master_instances: 3 })).toThrow(
      'The number of master nodes is set by the plan (1) and cannot be changed per cluster',
    );
    const previous = create({ kubernetes_master_host: 'a.example.com' }).yaml;
    const grown: OdbPlan = {
      ...small,
      instance_groups: small.instance_groups.map((g) => (g.name === 'master' ? { ...g, instances: 3 } : g)),
    };
    expect(() =>
      generateManifest({
        serviceDeployment: deployment,
        plan: grown,
        requestParams: null,
        previousManifest: previous,
        previousPlan: small,
      }),
    ).toThrow(
      'The number of master nodes cannot change on an existing cluster: it has 1, the plan now says 3',
    );
  });

  it('rejects a plan change', () => {
    const previous = create({ kubernetes_master_host: 'a.example.com' }).yaml;
    expect(() =>
      generateManifest({
        serviceDeployment: deployment,
        plan: medium,
        requestParams: { plan_id: medium.properties.plan_id, parameters: {} },
        previousManifest: previous,
        previousPlan: small,
      }),
    ).toThrow('A cluster cannot change plans: it was created with plan small, the request asks for medium');
  });

  it('requires the external hostname on create and checks its form', () => {
    expect(() => create({})).toThrow(/^is required \(the external hostname/);
    expect(() => create({ kubernetes_master_host: 'not a host!' })).toThrow();
  });
});

describe('generatePlanSchemas', () => {
  it('bounds the worker count by the plan, requires the hostname on create, and all OIDC binding fields or none', () => {
    const schemas = generatePlanSchemas(small);
    const create = schemas.service_instance.create.parameters as Obj;
    expect(create.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(create.required).toEqual(['kubernetes_master_host']);
    expect(create.properties.kubernetes_worker_instances).toMatchObject({
      minimum: 1,
      maximum: 10,
      default: 3,
    });
    expect(
      (schemas.service_instance.update.parameters as Obj).properties.kubernetes_worker_instances.maximum,
    ).toBe(10);
    const bind = schemas.service_binding.create.parameters as Obj;
    expect(bind.required).toBeUndefined();
    expect(bind.dependencies).toEqual({
      user_name: ['id_token', 'refresh_token'],
      id_token: ['user_name', 'refresh_token'],
      refresh_token: ['user_name', 'id_token'],
    });
  });
});
