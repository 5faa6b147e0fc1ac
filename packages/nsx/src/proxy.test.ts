import { InputError, QuotaExceededError } from '@openpks/domain';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestNsx, type TestNsx } from '@openpks/nsx/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NsxClient } from './client.js';
import { NsxProxy } from './proxy.js';
import { DEFAULT_NSX_SIM_SEED } from './topology.js';

/** Every object a Policy API user can see: top-level ones plus pool subnets and allocations. */
async function objectCount(client: NsxClient): Promise<number> {
  let count = 0;
  for (const c of [
    client.ipBlocks,
    client.ipPools,
    client.tier0s,
    client.tier1s,
    client.segments,
    client.lbServices,
  ]) {
    count += (await c.list()).length;
  }
  for (const pool of await client.ipPools.list()) {
    count +=
      (await client.poolSubnets(pool.id).list()).length +
      (await client.poolAllocations(pool.id).list()).length;
  }
  return count;
}

// Room for exactly four clusters' /24 node subnets; pods and floating IPs have room for more.
const seed = {
  ...DEFAULT_NSX_SIM_SEED,
  nodeIpBlockCidr: '172.24.0.0/22',
  podIpBlockCidr: '172.28.0.0/18',
  floatingIpPool: { cidr: '192.168.160.0/24', start: '192.168.160.10', end: '192.168.160.99' },
};

describe.each(testDatabaseBackends())('NSX proxy step against the simulator on $name', (backend) => {
  let db: TestDatabase;
  let nsx: TestNsx;
  let proxy: NsxProxy;
  beforeAll(async () => {
    db = await backend.open();
    nsx = await startTestNsx({ db, seed });
    proxy = new NsxProxy(nsx.client, seed);
  });
  afterAll(async () => {
    await nsx?.stop();
    await db?.close();
  });

  it('creates the node network, namespace networks, load balancer and floating IPs, and releases them all', async () => {
    const before = await objectCount(nsx.client);
    const details = await proxy.provision('c1', { lb_size: 'medium' });
    expect(details).toMatchObject({
      t0_router_id: 'pks-t0',
      tier1_router_id: 'pks-c1-cluster-router',
      node_subnet: '172.24.0.0/24',
      node_gateway: '172.24.0.1',
      lb_size: 'medium',
      floating_ips: { 'kube-api': '192.168.160.10', ingress: '192.168.160.11' },
    });
    expect(Object.keys(details.namespaces)).toEqual([
      'default',
      'kube-public',
      'kube-system',
      'pks-infrastructure',
    ]);
    expect(await nsx.client.lbServices.get(details.lb_service_id)).toMatchObject({ size: 'MEDIUM' });
    expect(await nsx.client.segments.get(details.node_segment_id)).toMatchObject({
      connectivity_path: '/infra/tier-1s/pks-c1-cluster-router',
      subnets: [{ gateway_address: '172.24.0.1/24' }],
    });
    // node pool + subnet, T1, node segment, pod pool + 4×(subnet, T1, segment), LB T1 + LB, 2 floating IPs
    expect((await objectCount(nsx.client)) - before).toBe(2 + 1 + 1 + 1 + 12 + 2 + 2);
    await proxy.release('c1');
    await proxy.release('c1');
    expect(await objectCount(nsx.client)).toBe(before);
  });

  it('rolls back what it took when a step fails', async () => {
    const before = await objectCount(nsx.client);
    const error = await proxy.provision('c2', { fip_pool_ids: ['no-such-pool'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('parameters.fip_pool_ids');
    expect((error as Error).message).toMatch(/^NSX-T could not provide the floating IPs: .*no-such-pool/);
    expect(await objectCount(nsx.client)).toBe(before);

    const noT0 = await proxy.provision('c3', { t0_router_id: 'missing-t0' }).catch((e: unknown) => e);
    expect((noT0 as InputError).field).toBe('parameters.t0_router_id');
    expect(await objectCount(nsx.client)).toBe(before);
  });

  it('fills the node IP block, fails the next cluster clearly, and frees everything on release', async () => {
    const before = await objectCount(nsx.client);
    const free = await nsx.client.blockUsage(seed.nodeIpBlockId);
    const podFree = await nsx.client.blockUsage(seed.podIpBlockId);
    const made: string[] = [];
    let failure: unknown;
    for (let i = 0; i < 10 && failure === undefined; i++) {
      await proxy.provision(`fill-${i}`).then(
        () => made.push(`fill-${i}`),
        (e: unknown) => (failure = e),
      );
    }
    expect(made).toHaveLength(4);
    expect(failure).toBeInstanceOf(QuotaExceededError);
    expect((failure as Error).message).toBe(
      'NSX-T could not provide the node subnet: IP block /infra/ip-blocks/pks-node-ip-block (172.24.0.0/22) is exhausted: no free subnet of size 256 left.',
    );
    // The failed cluster left nothing behind.
    expect((await nsx.client.tier1s.list()).filter((t) => t.id.startsWith('pks-fill-4'))).toEqual([]);
    for (const id of made) await proxy.release(id);
    expect(await objectCount(nsx.client)).toBe(before);
    expect(await nsx.client.blockUsage(seed.nodeIpBlockId)).toEqual(free);
    expect(await nsx.client.blockUsage(seed.podIpBlockId)).toEqual(podFree);
  });

  it('survives concurrent provisioning without handing out the same subnet twice', async () => {
    const all = await Promise.all(
      ['p1', 'p2', 'p3'].map((id) => proxy.provision(id, { node_subnet_prefix: 26 })),
    );
    expect(new Set(all.map((d) => d.node_subnet)).size).toBe(3);
    expect(new Set(all.flatMap((d) => Object.values(d.floating_ips))).size).toBe(6);
    for (const id of ['p1', 'p2', 'p3']) await proxy.release(id);
  });
});
