import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '@openpks/pki';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import type { Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';
import { VariableStore } from '../director/store/variableStore.js';

const run = promisify(execFile);
const kubectlOnPath = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
);

let uaa: TestUaa;
let bosh: TestDirector;
let idToken: string;
let clusterCa: string;
let clusterCaKey: string;
let server: string;
let tmp: string;

beforeAll(async () => {
  uaa = await startTestUaa();
  bosh = await startTestDirector({ uaa, ipRange: '127.1.20.0/24' });
  tmp = await mkdtemp(join(tmpdir(), 'openpks-kube-'));
  const task = await bosh.client.deploy(kuboManifest({ name: 'kube-a', masters: 1, workers: 2 }));
  await bosh.client.waitForTask(task.id);
  const master = (await bosh.client.instances('kube-a')).find((i) => i.job === 'master')!;
  server = `https://${master.ips[0]}:8443`;
  const ca = (await new VariableStore(bosh.db, bosh.secrets).get('kube-a', 'kubo_ca')) as Record<
    string,
    string
  >;
  clusterCa = ca.certificate!;
  clusterCaKey = ca.private_key!;
  const tokens = await uaa.tokenFor({
    username: 'admin',
    password: uaa.adminPassword,
    clientId: 'pks_cluster_client',
    scope: 'openid',
  });
  idToken = tokens.id_token!;
});

afterAll(async () => {
  await bosh?.stop();
  await uaa?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A kubeconfig as PKS's get-credentials writes it: cluster CA, server, OIDC auth-provider with the id token. */
function kubeconfig(token: string, form: 'oidc' | 'token' = 'oidc') {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'kube-a',
        cluster: { server, 'certificate-authority-data': Buffer.from(clusterCa).toString('base64') },
      },
    ],
    users: [
      {
        name: 'admin',
        user:
          form === 'oidc'
            ? {
                'auth-provider': {
                  name: 'oidc',
                  config: {
                    'client-id': 'pks_cluster_client',
                    cluster_client_secret: '',
                    'id-token': token,
                    'idp-issuer-url': uaa.issuer,
                  },
                },
              }
            : { token },
      },
    ],
    contexts: [{ name: 'kube-a', context: { cluster: 'kube-a', user: 'admin' } }],
    'current-context': 'kube-a',
  };
}

function clientFor(token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(stringify(kubeconfig(token, 'token')));
  return config;
}

describe('the sim master Kubernetes API', () => {
  it('lists one Ready node per worker VM, following a scale', async () => {
    const api = clientFor(idToken).makeApiClient(CoreV1Api);
    const version = await clientFor(idToken).makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.15.5');
    const workers = (await bosh.client.vms('kube-a')).filter((vm) => vm.job === 'worker');
    let nodes = await api.listNode();
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(workers.map((w) => w.cid).sort());
    expect(
      nodes.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    ).toBe(true);
    const namespaces = await api.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-system', 'kube-public']);

    const up = await bosh.client.deploy(kuboManifest({ name: 'kube-a', masters: 1, workers: 4 }));
    await bosh.client.waitForTask(up.id);
    nodes = await api.listNode();
    expect(nodes.items).toHaveLength(4);
  });

  it('answers 401 to a wrong credential', async () => {
    const api = clientFor(`${idToken.slice(0, -4)}AAAA`).makeApiClient(CoreV1Api);
    await expect(api.listNode()).rejects.toMatchObject({ code: 401 });
    // A UAA access token is not a kubeconfig id token (its audience is not pks_cluster_client).
    const director = await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret });
    await expect(clientFor(director.access_token).makeApiClient(CoreV1Api).listNode()).rejects.toMatchObject({
      code: 401,
    });
  });

  it.runIf(kubectlOnPath)('serves real kubectl get nodes with a generated kubeconfig', async () => {
    const path = join(tmp, 'kubeconfig');
    await writeFile(path, stringify(kubeconfig(idToken, 'oidc')));
    const { stdout } = await run('kubectl', ['--kubeconfig', path, 'get', 'nodes'], { timeout: 20_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(lines.slice(1).filter((line) => /\sReady\s/.test(line))).toHaveLength(4);

    await writeFile(path, stringify(kubeconfig('not-a-token', 'token')));
    const refused = await run('kubectl', ['--kubeconfig', path, 'get', 'nodes'], { timeout: 20_000 }).catch(
      (e: { stderr: string }) => e,
    );
    expect((refused as { stderr: string }).stderr).toMatch(/Unauthorized|must be logged in/);
  });
});

/** A kubeconfig whose user is a client certificate, as `kubectl config set-credentials --client-certificate`. */
function certificateClient(credential: CertificateAndKey): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kube-a',
          cluster: { server, 'certificate-authority-data': Buffer.from(clusterCa).toString('base64') },
        },
      ],
      users: [
        {
          name: 'cert',
          user: {
            'client-certificate-data': Buffer.from(credential.certificatePem).toString('base64'),
            'client-key-data': Buffer.from(credential.privateKeyPem).toString('base64'),
          },
        },
      ],
      contexts: [{ name: 'kube-a', context: { cluster: 'kube-a', user: 'cert' } }],
      'current-context': 'kube-a',
    }),
  );
  return config;
}

describe('client certificates and RBAC at the sim master', () => {
  const signer = () => ({ certificatePem: clusterCa, privateKeyPem: clusterCaKey });

  it('lets a system:masters certificate bind a user to cluster-admin, and that user in until it is unbound', async () => {
    const admin = await issueCertificate(signer(), {
      commonName: 'operator',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const user = await issueCertificate(signer(), {
      commonName: 'binding-7',
      organizations: ['pks-bindings'],
      usage: 'client',
    });
    const asUser = certificateClient(user).makeApiClient(CoreV1Api);
    const refused = await asUser.listNode().catch((e: { code: number; body: string }) => e);
    expect(refused).toMatchObject({ code: 403 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message:
        'nodes is forbidden: User "binding-7" cannot list resource "nodes" in API group "" at the cluster scope',
    });

    const rbac = certificateClient(admin).makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'binding-7' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'binding-7' }],
      },
    });
    await expect(
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'binding-7' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [],
        },
      }),
    ).rejects.toMatchObject({ code: 409 });
    expect((await asUser.listNode()).items.length).toBeGreaterThan(0);

    // As etcd would, the cluster keeps its bindings when the master's VM is recreated.
    const master = async () => (await bosh.client.vms('kube-a')).find((vm) => vm.job === 'master')!.cid;
    const before = await master();
    const recreate = await bosh.client.deploy(kuboManifest({ name: 'kube-a', masters: 1, workers: 4 }), {
      recreate: true,
    });
    await bosh.client.waitForTask(recreate.id);
    expect(await master()).not.toBe(before);
    expect((await asUser.listNode()).items.length).toBeGreaterThan(0);

    await rbac.deleteClusterRoleBinding({ name: 'binding-7' });
    await expect(asUser.listNode()).rejects.toMatchObject({ code: 403 });
    await expect(rbac.deleteClusterRoleBinding({ name: 'binding-7' })).rejects.toMatchObject({ code: 404 });
  });

  it('answers 401 to a certificate from a CA the cluster does not trust, even one naming system:masters', async () => {
    const stranger = await createCertificateAuthority({ commonName: 'not the cluster CA' });
    const forged = await issueCertificate(stranger, {
      commonName: 'operator',
      organizations: ['system:masters'],
      usage: 'client',
    });
    await expect(certificateClient(forged).makeApiClient(CoreV1Api).listNode()).rejects.toMatchObject({
      code: 401,
    });
  });
});

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 240 + i })))(
  'ClusterRoleBindings in the Director database on $name',
  ({ backend, subnet }) => {
    let db: Database;
    beforeAll(async () => {
      db = await backend.open();
    });
    afterAll(async () => db?.close());

    it('keeps what a binding granted across a restart of the Director, and drops it with the deployment', async () => {
      const ipRange = `127.1.${subnet}.0/24`;
      let director = await startTestDirector({ uaa, db, ipRange });
      try {
        const task = await director.client.deploy(kuboManifest({ name: 'kube-r', masters: 1, workers: 1 }));
        await director.client.waitForTask(task.id);
        const ca = (await new VariableStore(director.db, director.secrets).get(
          'kube-r',
          'kubo_ca',
        )) as Record<string, string>;
        const signer = { certificatePem: ca.certificate!, privateKeyPem: ca.private_key! };
        const master = (await director.client.instances('kube-r')).find((i) => i.job === 'master')!;
        const client = (credential: CertificateAndKey) => {
          const config = new KubeConfig();
          config.loadFromOptions({
            clusters: [
              { name: 'kube-r', server: `https://${master.ips[0]}:8443`, caData: b64(signer.certificatePem) },
            ],
            users: [
              {
                name: 'cert',
                certData: b64(credential.certificatePem),
                keyData: b64(credential.privateKeyPem),
              },
            ],
            contexts: [{ name: 'kube-r', cluster: 'kube-r', user: 'cert' }],
            currentContext: 'kube-r',
          });
          return config;
        };
        const admin = await issueCertificate(signer, {
          commonName: 'operator',
          organizations: ['system:masters'],
          usage: 'client',
        });
        const user = await issueCertificate(signer, {
          commonName: 'binding-r',
          organizations: ['pks-bindings'],
          usage: 'client',
        });
        await client(admin)
          .makeApiClient(RbacAuthorizationV1Api)
          .createClusterRoleBinding({
            body: {
              metadata: { name: 'binding-r' },
              roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
              subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'binding-r' }],
            },
          });
        expect((await client(user).makeApiClient(CoreV1Api).listNode()).items).toHaveLength(1);

        await director.stop();
        director = await startTestDirector({ uaa, db, ipRange });
        // The master serves again after the restart, and the cluster still knows the binding.
        expect((await client(user).makeApiClient(CoreV1Api).listNode()).items).toHaveLength(1);
        const listed = await client(admin).makeApiClient(RbacAuthorizationV1Api).listClusterRoleBinding();
        expect(listed.items.map((b) => b.metadata?.name)).toEqual(['binding-r']);

        const removal = await director.client.deleteDeployment('kube-r');
        await director.client.waitForTask(removal.id);
        const { rows } = await db.query(
          `SELECT name FROM director.sim_cluster_role_bindings WHERE deployment = 'kube-r'`,
        );
        expect(rows).toEqual([]);
      } finally {
        await director.stop();
      }
    });
  },
);

const b64 = (text: string) => Buffer.from(text).toString('base64');
