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
  for (const router of await client.tier1s.list()) count += (await client.natRules(router.id).list()).length;
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
      single_tier_topology: false,
      tier1_router_id: 'pks-c1-cluster-router',
      node_ip_block_id: seed.nodeIpBlockId,
      node_subnet: '172.24.0.0/24',
      node_gateway: '172.24.0.1',
      pod_ip_block_ids: [seed.podIpBlockId],
      lb_tier1_router_id: 'pks-c1-lb',
      lb_size: 'medium',
      floating_ips: { 'kube-api': '192.168.160.10', ingress: '192.168.160.11' },
      floating_ip_pools: { 'kube-api': seed.floatingIpPoolId, ingress: seed.floatingIpPoolId },
    });
    expect(details).not.toHaveProperty('nodes_dns');
    expect(details).not.toHaveProperty('master_vms_nsgroup_id');
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

  it('falls back to the next node and pod IP block and floating IP pool, and fails only when all are exhausted', async () => {
    const before = await objectCount(nsx.client);
    // Room for one /24 node subnet, one cluster's four /26 namespace subnets, and one floating IP.
    await nsx.client.ipBlocks.put('nodes-one', { cidr: '10.90.0.0/24' });
    await nsx.client.ipBlocks.put('nodes-two', { cidr: '10.91.0.0/24' });
    await nsx.client.ipBlocks.put('pods-one', { cidr: '10.92.0.0/24' });
    await nsx.client.ipPools.put('fip-one', {});
    await nsx.client.poolSubnets('fip-one').put('range', {
      resource_type: 'IpAddressPoolStaticSubnet',
      cidr: '192.168.170.0/24',
      allocation_ranges: [{ start: '192.168.170.5', end: '192.168.170.5' }],
    });
    const baseline = await objectCount(nsx.client);
    const profile = {
      node_ip_block_ids: ['nodes-one', 'nodes-two'],
      pod_ip_block_ids: ['pods-one', seed.podIpBlockId],
      pod_subnet_prefix: 26,
      fip_pool_ids: ['fip-one', seed.floatingIpPoolId],
    };
    const first = await proxy.provision('fb-1', profile);
    expect(first).toMatchObject({
      node_ip_block_id: 'nodes-one',
      node_subnet: '10.90.0.0/24',
      pod_ip_block_id: 'pods-one',
      pod_ip_block_ids: ['pods-one', seed.podIpBlockId],
      fip_pool_id: 'fip-one',
      floating_ips: { 'kube-api': '192.168.170.5' },
      floating_ip_pools: { 'kube-api': 'fip-one', ingress: seed.floatingIpPoolId },
    });
    expect(Object.values(first.namespaces).map((n) => [n.ip_block_id, n.subnet])).toEqual([
      ['pods-one', '10.92.0.0/26'],
      ['pods-one', '10.92.0.64/26'],
      ['pods-one', '10.92.0.128/26'],
      ['pods-one', '10.92.0.192/26'],
    ]);
    const second = await proxy.provision('fb-2', profile);
    expect(second).toMatchObject({
      node_ip_block_id: 'nodes-two',
      node_subnet: '10.91.0.0/24',
      pod_ip_block_id: seed.podIpBlockId,
      fip_pool_id: seed.floatingIpPoolId,
    });
    // The exhausted first choices were asked and given back: nothing of fb-2 is left in them.
    expect(await nsx.client.blockUsage('nodes-one')).toMatchObject({ allocated: 256 });
    expect(await nsx.client.blockUsage('pods-one')).toMatchObject({ allocated: 256 });

    const third = await proxy.provision('fb-3', profile).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(QuotaExceededError);
    expect((third as Error).message).toBe(
      'NSX-T could not provide the node subnet: ' +
        'IP block /infra/ip-blocks/nodes-one (10.90.0.0/24) is exhausted: no free subnet of size 256 left.; ' +
        'IP block /infra/ip-blocks/nodes-two (10.91.0.0/24) is exhausted: no free subnet of size 256 left.',
    );
    await proxy.release('fb-1');
    await proxy.release('fb-2');
    expect(await objectCount(nsx.client)).toBe(baseline);
    for (const id of ['nodes-one', 'nodes-two', 'pods-one']) {
      expect((await nsx.client.blockUsage(id)).allocated).toBe(0);
      await nsx.client.ipBlocks.delete(id);
    }
    await nsx.client.poolSubnets('fip-one').delete('range');
    await nsx.client.ipPools.delete('fip-one');
    expect(await objectCount(nsx.client)).toBe(before);
  });

  it('fails clearly when every floating IP pool is exhausted, and gives the node and pod subnets back', async () => {
    await nsx.client.ipPools.put('fip-empty', {});
    await nsx.client.poolSubnets('fip-empty').put('range', {
      resource_type: 'IpAddressPoolStaticSubnet',
      cidr: '192.168.171.0/24',
      allocation_ranges: [{ start: '192.168.171.5', end: '192.168.171.5' }],
    });
    await nsx.client.poolAllocations('fip-empty').put('taken', {});
    const before = await objectCount(nsx.client);
    const error = await proxy.provision('fip-x', { fip_pool_ids: ['fip-empty'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as Error).message).toBe(
      'NSX-T could not provide the floating IPs: IP pool /infra/ip-pools/fip-empty is exhausted: no free IP address left.',
    );
    expect(await objectCount(nsx.client)).toBe(before);
    await nsx.client.poolAllocations('fip-empty').delete('taken');
    await nsx.client.poolSubnets('fip-empty').delete('range');
    await nsx.client.ipPools.delete('fip-empty');
  });

  it('builds a shared tier-1 for single_tier_topology: nodes, namespaces and the load balancer on one router', async () => {
    const before = await objectCount(nsx.client);
    const details = await proxy.provision('st', {
      single_tier_topology: true,
      infrastructure_networks: ['10.0.0.0/24', '192.168.111.0/24'],
    });
    const router = 'pks-st-cluster-router';
    expect(details).toMatchObject({
      single_tier_topology: true,
      tier1_router_id: router,
      lb_tier1_router_id: router,
    });
    expect(Object.values(details.namespaces).every((n) => n.tier1_router_id === router)).toBe(true);
    expect(
      (await nsx.client.tier1s.list()).filter((t) => t.id.startsWith('pks-st-')).map((t) => t.id),
    ).toEqual([router]);
    for (const segment of (await nsx.client.segments.list()).filter((s) => s.id.startsWith('pks-st-')))
      expect(segment.connectivity_path).toBe(`/infra/tier-1s/${router}`);
    expect(await nsx.client.lbServices.get(details.lb_service_id)).toMatchObject({
      connectivity_path: `/infra/tier-1s/${router}`,
    });
    // The shared router does the cluster's NAT: the infrastructure networks are exempt from SNAT on it.
    expect(
      (await nsx.client.natRules(router).list()).map((r) => [r.id, r.action, r.destination_network]),
    ).toEqual([
      ['pks-st-infra-0', 'NO_SNAT', '10.0.0.0/24'],
      ['pks-st-infra-1', 'NO_SNAT', '192.168.111.0/24'],
    ]);
    expect(details.infrastructure_nat_rule_ids).toEqual(['pks-st-infra-0', 'pks-st-infra-1']);
    // node pool + subnet, the one T1, node segment, pod pool + 4×(subnet, segment), LB, 2 floating IPs,
    // 2 NAT rules
    expect((await objectCount(nsx.client)) - before).toBe(2 + 1 + 1 + 1 + 8 + 1 + 2 + 2);
    await proxy.release('st');
    expect(await objectCount(nsx.client)).toBe(before);
  });

  it('gives the nodes their DNS servers and passes on the master NSGroup and infrastructure networks', async () => {
    const missing = await proxy
      .provision('grp-x', { master_vms_nsgroup_id: 'no-such-group' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as InputError).field).toBe('parameters.master_vms_nsgroup_id');
    expect((missing as Error).message).toMatch(
      /^NSX-T could not provide the master VMs NSGroup: .*no-such-group/,
    );

    await nsx.client.groups().put('pks-masters', { display_name: 'PKS master VMs' });
    const details = await proxy.provision('dns', {
      nodes_dns: ['10.0.0.2', '10.0.0.3'],
      master_vms_nsgroup_id: 'pks-masters',
      infrastructure_networks: ['10.0.0.0/24', '192.168.111.0/24'],
    });
    // Multi-tier, the NAT is the tier-0's: the networks are passed on, no rule is made here.
    expect(details).not.toHaveProperty('infrastructure_nat_rule_ids');
    expect(details).toMatchObject({
      nodes_dns: ['10.0.0.2', '10.0.0.3'],
      master_vms_nsgroup_id: 'pks-masters',
      master_vms_nsgroup_path: '/infra/domains/default/groups/pks-masters',
      infrastructure_networks: ['10.0.0.0/24', '192.168.111.0/24'],
    });
    expect((await nsx.client.segments.get(details.node_segment_id)).subnets?.[0]?.dhcp_config).toEqual({
      resource_type: 'SegmentDhcpV4Config',
      dns_servers: ['10.0.0.2', '10.0.0.3'],
    });
    await proxy.release('dns');
    // The NSGroup is the operator's: releasing the cluster leaves it.
    expect(await nsx.client.groups().find('pks-masters')).toBeDefined();
    await nsx.client.groups().delete('pks-masters');
  });

  it('records added and reordered pod IP blocks on an allowed update, refusing blocks NSX does not have', async () => {
    await nsx.client.ipBlocks.put('pods-later', { cidr: '10.93.0.0/16' });
    const details = await proxy.provision('upd');
    const updated = await proxy.update(details, { pod_ip_block_ids: ['pods-later', seed.podIpBlockId] });
    expect(updated).toEqual({ ...details, pod_ip_block_ids: ['pods-later', seed.podIpBlockId] });
    const refused = await proxy
      .update(details, { pod_ip_block_ids: ['no-such-block', seed.podIpBlockId] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as InputError).field).toBe('parameters.pod_ip_block_ids');
    expect((refused as Error).message).toMatch(/^NSX-T could not provide the pod IP blocks: .*no-such-block/);
    await proxy.release('upd');
    await nsx.client.ipBlocks.delete('pods-later');
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
