import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorClient } from '@openpks/bosh';
import type { TestDirector } from '@openpks/bosh/testing';
import type { TestBroker } from '@openpks/broker/testing';
import type { TestDatabase } from '@openpks/db/testing';
import type { TestUaa } from '@openpks/uaa/testing';
import { startTestApi, startTestStack, type TestApi, type TestStack } from './testing/index.js';

// A cluster's VMs as the Director reports them, on loopback with real protocols: UAA tokens, the API,
// the broker over OSB, the embedded Director with the sim CPI (VMs get IPs from 127.1.75.0/24).

interface ClusterNode {
  instanceGroup: string;
  index: number;
  id: string;
  ips: string[];
  state: string;
  vmType: string | null;
  az: string | null;
}

const NODES = `query($n:String!){ cluster(name:$n){ name workerInstances lastActionState
  nodes { instanceGroup index id ips state vmType az } } }`;

describe('cluster nodes (UAA + API + broker + embedded Director)', () => {
  let stack: TestStack;
  let db: TestDatabase;
  let uaa: TestUaa;
  let bosh: TestDirector;
  let broker: TestBroker;
  let api: TestApi;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    stack = await startTestStack({ ipRange: '127.1.75.0/24' });
    ({ db, uaa, bosh, broker, api } = stack);
    alice = await stack.signIn('alice', ['pks.clusters.manage']);
    bob = await stack.signIn('bob', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const waitForSucceeded = async (name: string) => {
    for (let i = 0; i < 300; i++) {
      const { data } = await api.query(alice, `query($n:String!){ cluster(name:$n){ lastActionState } }`, {
        n: name,
      });
      const state = data?.cluster?.lastActionState as string | undefined;
      if (state === 'succeeded') return;
      if (state === 'failed') throw new Error(`cluster ${name} failed`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`cluster ${name} did not succeed`);
  };

  const nodesOf = async (token: string, name: string) => {
    const result = await api.query(token, NODES, { n: name });
    expect(result.errors).toBeUndefined();
    return result.data.cluster.nodes as ClusterNode[];
  };

  const inRange = expect.stringMatching(/^127\.1\.75\.\d+$/);

  it('lists one master and every worker running, with IPs from the Director, and follows a resize', async () => {
    const created = await api.query(
      alice,
      `mutation($i: CreateClusterInput!){ createCluster(input:$i){ name } }`,
      { i: { name: 'nodes', planName: 'small', externalHostname: 'nodes.example.test' } },
    );
    expect(created.errors).toBeUndefined();
    await waitForSucceeded('nodes');

    const nodes = await nodesOf(alice, 'nodes');
    expect(nodes.map((n) => `${n.instanceGroup}/${n.index}`)).toEqual([
      'master/0',
      'worker/0',
      'worker/1',
      'worker/2',
    ]);
    for (const node of nodes) {
      expect(node).toMatchObject({ state: 'running', ips: [inRange], vmType: expect.any(String) });
      expect(node.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The master's IP is the one the cluster reports for its Kubernetes API.
    const { data } = await api.query(alice, '{ cluster(name:"nodes"){ kubernetesMasterIps } }');
    expect(data.cluster.kubernetesMasterIps).toEqual(nodes[0]!.ips);

    const resized = await api.query(
      alice,
      `mutation($n:String!,$w:Int!){ resizeCluster(name:$n, numNodes:$w){ workerInstances } }`,
      { n: 'nodes', w: 2 },
    );
    expect(resized.errors).toBeUndefined();
    await waitForSucceeded('nodes');
    const after = await nodesOf(alice, 'nodes');
    expect(after.filter((n) => n.instanceGroup === 'worker').map((n) => n.index)).toEqual([0, 1]);
    expect(after.every((n) => n.state === 'running')).toBe(true);
    // A resize down keeps the VMs that stay.
    expect(after.map((n) => n.id)).toEqual(nodes.slice(0, 3).map((n) => n.id));
  }, 180_000);

  it('does not show another manager’s cluster or its nodes (not found)', async () => {
    const result = await api.query(bob, NODES, { n: 'nodes' });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lists no nodes for a cluster the Director has no deployment of', async () => {
    // A create the broker never got to deploy leaves a cluster row and nothing on the Director.
    await db.query(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version,
         last_action, last_action_state, last_action_description)
       VALUES (gen_random_uuid(), 'undeployed', 'alice', 'small', 'undeployed.example.test', 3,
         '1.6.0-openpks', 'CREATE', 'failed', 'the broker refused it')`,
    );
    expect(await nodesOf(alice, 'undeployed')).toEqual([]);
  });

  it('lists no nodes when the API has no Director, and errors on nodes alone when the Director fails', async () => {
    // Two more replicas on the same database once nothing is in flight: one without Director access, one
    // whose Director credentials the UAA refuses.
    const withoutDirector = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
    });
    const failing = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
      director: new DirectorClient({
        url: bosh.url,
        ca: bosh.caPem,
        client: { id: 'pks_director', secret: 'not-the-secret' },
      }),
    });
    try {
      const none = await withoutDirector.query(alice, NODES, { n: 'nodes' });
      expect(none.errors).toBeUndefined();
      expect(none.data.cluster).toMatchObject({ name: 'nodes', nodes: [] });

      const both = await failing.query(alice, `{ clusters { name workerInstances nodes { id } } }`);
      // Every cluster is still there; only each `nodes` is null, with an INTERNAL error at its path.
      expect(both.data.clusters).toEqual([
        { name: 'nodes', workerInstances: 2, nodes: null },
        { name: 'undeployed', workerInstances: 3, nodes: null },
      ]);
      expect(both.errors).toHaveLength(2);
      for (const [i, error] of both.errors!.entries()) {
        expect(error.path).toEqual(['clusters', i, 'nodes']);
        expect(error.extensions).toMatchObject({
          code: 'INTERNAL',
          reason: expect.stringContaining('BOSH Director could not list'),
        });
      }
    } finally {
      await failing.stop();
      await withoutDirector.stop();
    }
  });
});
