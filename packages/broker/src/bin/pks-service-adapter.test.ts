import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '@openpks/config';
import { defaultOidcSettings, defaultServiceDeployment, odbPlanOf } from '../adapter/plan.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const executable = join(packageDir, 'dist/bin/pks-service-adapter.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built executable as ODB does: the subcommand in argv, one JSON document on stdin. */
function adapter(subcommand: string, stdin: unknown, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [executable, subcommand], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
  });
}

const plan = odbPlanOf(
  parseConfig({}).plans.find((p) => p.name === 'small')!,
  defaultOidcSettings('https://uaa.example.com:8443'),
);
const INSTANCE = '0b6f4d2a-1c3e-4f5a-8b7c-9d0e1f2a3b4c';
const serviceDeployment = defaultServiceDeployment(INSTANCE);
const CA = '-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----\n';

/** ODB's use_stdin document: every value is itself serialized JSON or YAML. */
const generateInput = (parameters: Record<string, unknown>, previousManifest = '') => ({
  generate_manifest: {
    service_deployment: JSON.stringify(serviceDeployment),
    plan: JSON.stringify(plan),
    request_parameters: JSON.stringify({ plan_id: plan.properties.plan_id, parameters }),
    previous_manifest: previousManifest,
    previous_plan: previousManifest === '' ? 'null' : JSON.stringify(plan),
    previous_secrets: '{}',
    previous_configs: '{}',
  },
});

describe('pks-service-adapter as a process', () => {
  let stateDir: string;
  let manifest: string;
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [
      join(packageDir, '../../node_modules/typescript/bin/tsc'),
      '-p',
      join(packageDir, 'tsconfig.build.json'),
    ]);
    stateDir = await mkdtemp(join(tmpdir(), 'openpks-adapter-'));
    const run = await adapter(
      'generate-manifest',
      generateInput({ kubernetes_master_host: 'cluster-b.example.com' }),
    );
    manifest = (JSON.parse(run.stdout) as { manifest: string }).manifest;
  }, 120_000);
  afterAll(async () => {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const bindInput = (bindingId: string, extra: Record<string, unknown> = {}) => ({
    create_binding: {
      binding_id: bindingId,
      bosh_vms: JSON.stringify({ master: ['10.0.16.5'], worker: ['10.0.16.6'] }),
      manifest,
      request_parameters: JSON.stringify({
        plan_id: plan.properties.plan_id,
        parameters: {
          user_name: 'alana',
          id_token: 'id.jwt.token',
          refresh_token: 'refresh-1',
          cluster_name: 'cluster-b',
        },
        ...extra,
      }),
      secrets: JSON.stringify({ '((kubo_ca))': JSON.stringify({ certificate: CA, ca: CA }) }),
      dns_addresses: '{}',
    },
  });

  it('generate-manifest: exit 0 with {manifest, secrets, configs, labels}', async () => {
    const run = await adapter(
      'generate-manifest',
      generateInput({ kubernetes_master_host: 'cluster-b.example.com' }),
    );
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { manifest: string; secrets: object };
    expect(Object.keys(out)).toEqual(['manifest', 'secrets', 'configs', 'labels']);
    expect((parse(out.manifest) as { name: string }).name).toBe(`service-instance_${INSTANCE}`);
  });

  it('generate-manifest: exit 1 with the user message on stdout for a worker count over the plan', async () => {
    const run = await adapter(
      'generate-manifest',
      generateInput({ kubernetes_worker_instances: 50 }, manifest),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('Invalid worker count 50: plan small allows 1 to 10 workers');
    expect(run.stderr).toContain('generate-manifest');
  });

  it('generate-plan-schemas: exit 0 with the OSB schemas', async () => {
    const run = await adapter('generate-plan-schemas', {
      generate_plan_schemas: { plan: JSON.stringify(plan) },
    });
    expect(run.code).toBe(0);
    const schemas = JSON.parse(run.stdout) as {
      service_instance: { create: { parameters: { properties: Record<string, { maximum?: number }> } } };
    };
    expect(schemas.service_instance.create.parameters.properties.kubernetes_worker_instances!.maximum).toBe(
      10,
    );
  });

  it('create-binding: exit 0 with a kubeconfig; 49 when the binding exists; 42 for an app binding without app_guid', async () => {
    const env = { PKS_ADAPTER_STATE_DIR: stateDir };
    const run = await adapter('create-binding', bindInput('binding-1'), env);
    expect(run.code).toBe(0);
    const { credentials } = JSON.parse(run.stdout) as { credentials: { kubeconfig: Record<string, any> } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const kubeconfig = credentials.kubeconfig;
    // cluster-b.example.com does not resolve: the master's IP, with the hostname checked on its certificate
    expect(kubeconfig.clusters[0]).toEqual({
      name: 'cluster-b',
      cluster: {
        'certificate-authority-data': Buffer.from(CA).toString('base64'),
        server: 'https://10.0.16.5:8443',
        'tls-server-name': 'cluster-b.example.com',
      },
    });
    expect(kubeconfig.users[0]).toEqual({
      name: 'alana',
      user: {
        'auth-provider': {
          name: 'oidc',
          config: {
            'client-id': 'pks_cluster_client',
            cluster_client_secret: '',
            'id-token': 'id.jwt.token',
            'refresh-token': 'refresh-1',
            'idp-issuer-url': 'https://uaa.example.com:8443/oauth/token',
          },
        },
      },
    });
    expect(run.stderr).not.toContain('refresh-1');

    const again = await adapter('create-binding', bindInput('binding-1'), env);
    expect(again.code).toBe(49);

    const app = await adapter('create-binding', bindInput('binding-2', { bind_resource: {} }), env);
    expect(app.code).toBe(42);

    const noTokens = await adapter('create-binding', {
      create_binding: { ...bindInput('binding-3').create_binding, request_parameters: '{"parameters":{}}' },
    });
    expect(noTokens.code).toBe(1);
    expect(noTokens.stdout).toContain("user_name: is required (the requesting user's user name from UAA)");
  });

  it('delete-binding: exit 0, then 41 when the binding is gone', async () => {
    const env = { PKS_ADAPTER_STATE_DIR: stateDir };
    await adapter('create-binding', bindInput('binding-9'), env);
    const input = { delete_binding: { ...bindInput('binding-9').create_binding } };
    expect((await adapter('delete-binding', input, env)).code).toBe(0);
    const gone = await adapter('delete-binding', input, env);
    expect(gone.code).toBe(41);
    expect(gone.stdout).toBe('');
  });

  it('dashboard-url: exit 0 with the URL; 10 for a manifest without a Kubernetes API', async () => {
    const run = await adapter('dashboard-url', {
      dashboard_url: { instance_id: INSTANCE, plan: JSON.stringify(plan), manifest },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      dashboard_url:
        'https://cluster-b.example.com:8443/api/v1/namespaces/kube-system/services/https:kubernetes-dashboard:/proxy/',
    });
    const none = await adapter('dashboard-url', {
      dashboard_url: { instance_id: INSTANCE, plan: JSON.stringify(plan), manifest: 'name: other\n' },
    });
    expect(none.code).toBe(10);
  });

  it('exit 1 for an unknown subcommand or unreadable stdin', async () => {
    expect((await adapter('frobnicate', {})).code).toBe(1);
    const garbled = await adapter('generate-manifest', 'not json');
    expect(garbled.code).toBe(1);
    expect(garbled.stdout).toBe('stdin is not a JSON document');
  });
});
