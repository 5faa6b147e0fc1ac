import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { deploymentNameOf } from '@openpks/broker';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestStack, type TestStack } from './testing/index.js';

// A cluster is spec + status + conditions: what was asked, what the Director runs, and why they differ.
// On loopback with real protocols: UAA tokens, the API, the broker over OSB, the embedded Director whose
// sim CPI fails worker VMs on demand, and the sim masters' Kubernetes API.

const DETAILS = `query($n:String!){ cluster(name:$n){
  workerInstances lastAction lastActionState lastActionDescription pksVersion k8sVersion
  spec { generation workerInstances pksVersion kubernetesVersion }
  status { observedGeneration observedAt deployed workerInstances releases pksVersion kubernetesVersion
    instanceGroups { name instances running } instances { instanceGroup index state } }
  conditions { type status reason message lastTransitionTime } } }`;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

interface Details {
  workerInstances: number;
  lastAction: string;
  lastActionState: string;
  lastActionDescription: string;
  pksVersion: string;
  k8sVersion: string | null;
  spec: { generation: number; workerInstances: number; pksVersion: string; kubernetesVersion: string };
  status: {
    observedGeneration: number;
    observedAt: string | null;
    deployed: boolean;
    workerInstances: number;
    releases: string[];
    pksVersion: string | null;
    kubernetesVersion: string | null;
    instanceGroups: { name: string; instances: number; running: number }[];
    instances: { instanceGroup: string; index: number; state: string }[];
  };
  conditions: Condition[];
}

const WORKER_FAULT = 'sim: the worker VM could not be placed (no capacity)';

describe.each(testDatabaseBackends())('cluster spec, status and conditions, on $name', (backend) => {
  let stack: TestStack;
  let alice: string;

  beforeAll(async () => {
    stack = await startTestStack({
      backend,
      ipRange: `127.1.${backend.name === 'pglite' ? 124 : 125}.0/24`,
    });
    alice = await stack.signIn('alice', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const details = async (name: string): Promise<Details> => {
    const { data, errors } = await stack.api.query(alice, DETAILS, { n: name });
    expect(errors).toBeUndefined();
    return data.cluster as Details;
  };
  const settled = async (name: string): Promise<Details> => {
    for (let i = 0; i < 600; i++) {
      const { data } = await stack.api.query(
        alice,
        `query($n:String!){ cluster(name:$n){ lastActionState } }`,
        { n: name },
      );
      if (data?.cluster?.lastActionState !== 'in progress') return details(name);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} never settled`);
  };
  const mutate = async (query: string) => {
    const { errors } = await stack.api.query(alice, query);
    expect(errors).toBeUndefined();
  };
  const condition = (cluster: Details, type: string) => cluster.conditions.find((c) => c.type === type)!;
  const workerFault = () =>
    stack.bosh.director.cpi.injectFault({
      method: 'create_vm',
      instanceGroup: 'worker',
      message: WORKER_FAULT,
    });

  /** The nodes the sim master's Kubernetes API reports Ready, read with a kubeconfig from the API. */
  const readyNodes = async (name: string): Promise<string[]> => {
    const { data, errors } = await stack.api.query(
      alice,
      `mutation($n:String!,$p:String){ clusterCredentials(name:$n, password:$p){ kubeconfig } }`,
      { n: name, p: 'alice-password-1' },
    );
    expect(errors).toBeUndefined();
    const kubeconfig = parse(data.clusterCredentials.kubeconfig as string);
    const cluster = kubeconfig.clusters[0].cluster as Record<string, string>;
    const token = kubeconfig.users[0].user['auth-provider'].config['id-token'] as string;
    const body = await new Promise<string>((resolve, reject) => {
      const url = new URL('/api/v1/nodes', cluster.server);
      const req = request(
        url,
        {
          ca: Buffer.from(cluster['certificate-authority-data']!, 'base64').toString('utf8'),
          servername: cluster['tls-server-name'] ?? url.hostname,
          headers: { Authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Buffer.concat(chunks).toString('utf8'))
              : reject(new Error(`GET /api/v1/nodes: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
    const nodes = JSON.parse(body) as {
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    };
    return nodes.items
      .filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name);
  };

  it('after a failed resize 2 → 4 says desired 4, running 2, and why; a retry, a revert and a delete work', async () => {
    await mutate(
      'mutation{ createCluster(input:{name:"resizing", planName:"small", externalHostname:"resizing.example.test", numNodes:2}){ name } }',
    );
    const created = await settled('resizing');
    expect(created).toMatchObject({
      lastActionState: 'succeeded',
      spec: { generation: 1, workerInstances: 2 },
      status: { observedGeneration: 1, deployed: true, workerInstances: 2 },
    });
    for (const type of ['Ready', 'Provisioned', 'UpToDate', 'NodesHealthy']) {
      expect(condition(created, type)).toMatchObject({ status: 'True' });
    }
    const readySince = condition(created, 'Ready').lastTransitionTime;

    // Every new worker VM fails: the resize cannot bring a third or fourth worker up.
    workerFault();
    await mutate('mutation{ resizeCluster(name:"resizing", numNodes:4){ name } }');
    const failed = await settled('resizing');
    expect(failed).toMatchObject({
      workerInstances: 4,
      lastAction: 'UPDATE',
      lastActionState: 'failed',
      spec: { generation: 2, workerInstances: 4 },
      status: { observedGeneration: 1, workerInstances: 2 },
    });
    expect(failed.status.instanceGroups).toContainEqual({ name: 'worker', instances: 4, running: 2 });
    const upToDate = condition(failed, 'UpToDate');
    expect(upToDate).toMatchObject({ status: 'False', reason: 'UpdateFailed' });
    expect(upToDate.message).toContain(WORKER_FAULT);
    expect(upToDate.message).toContain('wants 4 workers, 2 running');
    expect(condition(failed, 'NodesHealthy')).toMatchObject({ status: 'False', reason: 'NodesNotRunning' });
    expect(condition(failed, 'NodesHealthy').message).toMatch(/worker\/[23] no vm/);
    // The two workers that run still serve: not Ready (a node is missing), with the same reason.
    expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'NodesNotRunning' });
    expect(condition(failed, 'Provisioned')).toMatchObject({ status: 'True' });

    // The same resize again, with the fault gone: it succeeds and the Kubernetes API has 4 Ready nodes.
    stack.bosh.director.cpi.clearFaults();
    await mutate('mutation{ resizeCluster(name:"resizing", numNodes:4){ name } }');
    const retried = await settled('resizing');
    expect(retried).toMatchObject({
      lastActionState: 'succeeded',
      spec: { generation: 2, workerInstances: 4 },
      status: { observedGeneration: 2, workerInstances: 4 },
    });
    expect(retried.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Ready', 'True'],
      ['Provisioned', 'True'],
      ['UpToDate', 'True'],
      ['NodesHealthy', 'True'],
    ]);
    // Ready went False and back: its transition time moved; Provisioned never changed, so its did not.
    expect(condition(retried, 'Ready').lastTransitionTime > readySince).toBe(true);
    expect(condition(retried, 'Provisioned').lastTransitionTime).toBe(
      condition(created, 'Provisioned').lastTransitionTime,
    );
    expect(await readyNodes('resizing')).toHaveLength(4);

    // Revert to what it was.
    await mutate('mutation{ resizeCluster(name:"resizing", numNodes:2){ name } }');
    const reverted = await settled('resizing');
    expect(reverted).toMatchObject({
      lastActionState: 'succeeded',
      spec: { generation: 3, workerInstances: 2 },
      status: { observedGeneration: 3, workerInstances: 2 },
    });
    expect(await readyNodes('resizing')).toHaveLength(2);

    // Failed again, it still deletes cleanly: nothing of it is left on the Director.
    workerFault();
    await mutate('mutation{ resizeCluster(name:"resizing", numNodes:3){ name } }');
    expect(await settled('resizing')).toMatchObject({ lastActionState: 'failed' });
    stack.bosh.director.cpi.clearFaults();
    const { uuid } = (
      await stack.db.query<{ uuid: string }>(
        `SELECT uuid FROM api.clusters WHERE name = 'resizing' AND deleted_at IS NULL`,
      )
    ).rows[0]!;
    await mutate('mutation{ deleteCluster(name:"resizing"){ name } }');
    for (let i = 0; ; i++) {
      const { errors } = await stack.api.query(alice, '{ cluster(name:"resizing"){ name } }');
      if (errors?.[0]?.extensions?.code === 'NOT_FOUND') break;
      expect(i).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await stack.bosh.client.manifest(deploymentNameOf(uuid))).toBeUndefined();
  }, 240_000);

  it('reports the versions the Director runs: another release set, and a failed upgrade, show as they are', async () => {
    await mutate(
      'mutation{ createCluster(input:{name:"versions", planName:"small", externalHostname:"versions.example.test", numNodes:1}){ name } }',
    );
    const current = await settled('versions');
    expect(current).toMatchObject({
      pksVersion: '1.6.0-openpks',
      k8sVersion: '1.15.5',
      status: { pksVersion: '1.6.0-openpks', kubernetesVersion: '1.15.5' },
    });
    expect(current.status.releases).toContain('kubo/0.34.0');

    // The deployment is made to run what an older PKS deployed (another kubo and stemcell), straight on
    // the Director: the API learns it only by reading the Director.
    const { uuid } = (
      await stack.db.query<{ uuid: string }>(
        `SELECT uuid FROM api.clusters WHERE name = 'versions' AND deleted_at IS NULL`,
      )
    ).rows[0]!;
    const deployment = deploymentNameOf(uuid);
    const manifest = parse((await stack.bosh.client.manifest(deployment))!) as {
      releases: { name: string; version: string }[];
      stemcells: { version: string }[];
    };
    manifest.releases = manifest.releases.map((r) => (r.name === 'kubo' ? { ...r, version: '0.33.0' } : r));
    manifest.stemcells = manifest.stemcells.map((s) => ({ ...s, version: '621.28' }));
    await stack.bosh.client.waitForTask((await stack.bosh.client.deploy(stringify(manifest))).id);

    const older = await details('versions');
    expect(older.status.releases).toContain('kubo/0.33.0');
    expect(older).toMatchObject({
      pksVersion: 'unknown',
      k8sVersion: null,
      spec: { pksVersion: '1.6.0-openpks' },
      status: { pksVersion: null, kubernetesVersion: null },
    });
    expect(condition(older, 'UpToDate')).toMatchObject({ status: 'False', reason: 'VersionsDiffer' });
    expect(condition(older, 'UpToDate').message).toContain('kubo 0.33.0');
    // A list shows it as last observed, without asking the Director.
    const listed = await stack.api.query(alice, '{ clusters { name pksVersion k8sVersion } }');
    expect(listed.data.clusters).toContainEqual({
      name: 'versions',
      pksVersion: 'unknown',
      k8sVersion: null,
    });

    // An upgrade that fails (its new worker VM cannot be made) leaves the older releases running.
    workerFault();
    await mutate('mutation{ upgradeCluster(name:"versions"){ name } }');
    const failed = await settled('versions');
    expect(failed).toMatchObject({ lastAction: 'UPGRADE', lastActionState: 'failed', pksVersion: 'unknown' });
    expect(failed.status.releases).toContain('kubo/0.33.0');
    expect(condition(failed, 'UpToDate')).toMatchObject({ status: 'False', reason: 'UpgradeFailed' });
    expect(condition(failed, 'UpToDate').message).toContain(WORKER_FAULT);

    stack.bosh.director.cpi.clearFaults();
    await mutate('mutation{ upgradeCluster(name:"versions"){ name } }');
    const upgraded = await settled('versions');
    expect(upgraded).toMatchObject({
      lastAction: 'UPGRADE',
      lastActionState: 'succeeded',
      lastActionDescription: 'Instance upgrade completed',
      pksVersion: '1.6.0-openpks',
      k8sVersion: '1.15.5',
      status: { pksVersion: '1.6.0-openpks', kubernetesVersion: '1.15.5' },
    });
    expect(upgraded.status.releases).toContain('kubo/0.34.0');
    expect(condition(upgraded, 'UpToDate')).toMatchObject({ status: 'True' });
  }, 240_000);
});
