import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDirector } from '@openpks/bosh/testing';
import { deploymentNameOf } from '@openpks/broker';
import { collect, startTestStack, type TestApi, type TestStack } from './testing/index.js';

// The whole journey on loopback with real protocols: UAA tokens, the API over GraphQL and graphql-ws,
// the broker over OSB, the embedded Director with the sim CPI.

const CLUSTER = `
  name uuid planName owner lastAction lastActionState lastActionDescription
  kubernetesMasterHost kubernetesMasterPort kubernetesMasterIps workerInstances k8sVersion pksVersion`;

interface ClusterEvent {
  kind: string;
  lastAction: string;
  lastActionState: string;
  description: string;
  stage: string | null;
  progress: number | null;
  index: number | null;
  total: number | null;
}

describe('the PKS API journey (UAA + API + broker + embedded Director)', () => {
  let stack: TestStack;
  let bosh: TestDirector;
  let api: TestApi;
  let alice: string;

  beforeAll(async () => {
    stack = await startTestStack({ ipRange: '127.1.70.0/24' });
    ({ bosh, api } = stack);
    alice = await stack.signIn('alice', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const waitFor = async (name: string, done: (c: Record<string, unknown> | undefined) => boolean) => {
    for (let i = 0; i < 300; i++) {
      const { data } = await api.query(alice, `query($n:String!){ cluster(name:$n){ ${CLUSTER} } }`, {
        n: name,
      });
      if (done(data?.cluster)) return data?.cluster as Record<string, unknown>;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`cluster ${name} did not get there`);
  };

  it('walks plans → create (live events) → details → credentials → resize 3→5→2 → upgrade → delete', async () => {
    const plans = await api.query(alice, '{ plans { name workerInstances maxWorkerInstances } }');
    expect(plans.errors).toBeUndefined();
    expect(plans.data.plans.map((p: { name: string }) => p.name)).toEqual(['small', 'medium', 'large']);

    // Subscribed before the cluster exists, so nothing is missed.
    const ws = api.wsClient(alice);
    const events = collect<ClusterEvent>(
      ws,
      `subscription($n:String!){ clusterEvents(name:$n){ kind lastAction lastActionState description stage progress index total } }`,
      { n: 'journey' },
      (e) => e.kind === 'STATE' && e.lastActionState !== 'in progress',
    );
    await new Promise((r) => setTimeout(r, 200));
    const created = await api.query(
      alice,
      `mutation($i: CreateClusterInput!){ createCluster(input:$i){ ${CLUSTER} } }`,
      { i: { name: 'journey', planName: 'small', externalHostname: 'journey.example.test' } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data.createCluster).toMatchObject({
      name: 'journey',
      owner: 'alice',
      lastAction: 'CREATE',
      lastActionState: 'in progress',
      workerInstances: 3,
      kubernetesMasterIps: [],
    });

    const seen = await events.done;
    await ws.dispose();
    expect(seen[0]).toMatchObject({ kind: 'STATE', lastAction: 'CREATE', lastActionState: 'in progress' });
    const progress = seen.filter((e) => e.kind === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toContainEqual(
      expect.objectContaining({
        stage: expect.any(String),
        index: expect.any(Number),
        total: expect.any(Number),
      }),
    );
    expect(seen.at(-1)).toMatchObject({ kind: 'STATE', lastAction: 'CREATE', lastActionState: 'succeeded' });

    const details = await waitFor('journey', (c) => c?.lastActionState === 'succeeded');
    const withEvents = await api.query(
      alice,
      '{ cluster(name:"journey"){ events(limit: 100) { kind stage } } }',
    );
    expect(withEvents.data.cluster.events.some((e: { kind: string }) => e.kind === 'PROGRESS')).toBe(true);
    expect((details.kubernetesMasterIps as string[]).length).toBe(1);
    expect(details.kubernetesMasterIps).toEqual([expect.stringMatching(/^127\.1\.70\./)]);

    const creds = await api.query(
      alice,
      `mutation($n:String!,$p:String){ clusterCredentials(name:$n, password:$p){ kubeconfig server userName contextName certificateAuthority } }`,
      { n: 'journey', p: 'alice-password-1' },
    );
    expect(creds.errors).toBeUndefined();
    expect(creds.data.clusterCredentials.userName).toBe('alice');
    expect(creds.data.clusterCredentials.kubeconfig).toContain('pks_cluster_client');
    expect(creds.data.clusterCredentials.certificateAuthority).toContain('BEGIN CERTIFICATE');

    for (const workers of [5, 2]) {
      const resized = await api.query(
        alice,
        `mutation($n:String!,$w:Int!){ resizeCluster(name:$n, numNodes:$w){ lastAction lastActionState workerInstances } }`,
        { n: 'journey', w: workers },
      );
      expect(resized.errors).toBeUndefined();
      expect(resized.data.resizeCluster).toMatchObject({
        lastAction: 'UPDATE',
        lastActionState: 'in progress',
        workerInstances: workers,
      });
      const after = await waitFor('journey', (c) => c?.lastActionState !== 'in progress');
      expect(after).toMatchObject({ lastActionState: 'succeeded', workerInstances: workers });
    }
    const instances = await bosh.client.instances(deploymentNameOf(details.uuid as string));
    expect(instances.filter((i) => i.job === 'worker')).toHaveLength(2);

    const upgraded = await api.query(
      alice,
      `mutation{ upgradeCluster(name:"journey"){ lastAction lastActionState } }`,
    );
    expect(upgraded.errors).toBeUndefined();
    expect(await waitFor('journey', (c) => c?.lastActionState !== 'in progress')).toMatchObject({
      lastAction: 'UPGRADE',
      lastActionState: 'succeeded',
    });

    // The delete's progress must come from its own Director tasks (the drain errand first), never from
    // the upgrade that ran just before it on the same deployment.
    const deleteWs = api.wsClient(alice);
    const deleteEvents = collect<ClusterEvent>(
      deleteWs,
      `subscription($n:String!){ clusterEvents(name:$n){ kind lastAction lastActionState description stage progress index total } }`,
      { n: 'journey' },
      (e) => e.kind === 'STATE' && e.lastAction === 'DELETE' && e.lastActionState !== 'in progress',
    );
    await new Promise((r) => setTimeout(r, 200));
    const deleted = await api.query(
      alice,
      `mutation{ deleteCluster(name:"journey"){ lastAction lastActionState } }`,
    );
    expect(deleted.data.deleteCluster).toMatchObject({
      lastAction: 'DELETE',
      lastActionState: 'in progress',
    });
    for (let i = 0; i < 300; i++) {
      const gone = await api.query(alice, `{ cluster(name:"journey"){ name } }`);
      if (gone.errors?.[0]?.extensions?.code === 'NOT_FOUND') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await api.query(alice, `{ clusters { name } }`)).data.clusters).toEqual([]);
    expect(await bosh.client.deployments()).toEqual([]);
    const deleteStages = new Set(
      (await deleteEvents.done).filter((e) => e.kind === 'PROGRESS').map((e) => e.stage),
    );
    await deleteWs.dispose();
    expect(deleteStages).toContain('Running errand');
    expect(deleteStages).not.toContain('Updating instance');
  }, 180_000);
});
