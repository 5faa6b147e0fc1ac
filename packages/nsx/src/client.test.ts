import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NsxClient } from './client.js';
import { NsxError, NsxErrorCode, isExhaustion } from './nsxError.js';
import { startTestNsx, type TestNsx } from '@openpks/nsx/testing';

async function failure(promise: Promise<unknown>): Promise<NsxError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NsxError);
  return error as NsxError;
}

describe.each(testDatabaseBackends())(
  'NSX Policy API client against the simulator over HTTPS on $name',
  (backend) => {
    let db: TestDatabase;
    let nsx: TestNsx;
    let client: NsxClient;
    beforeAll(async () => {
      db = await backend.open();
      nsx = await startTestNsx({ db });
      // A client built only from what a real NSX Manager would give: URL, user, password, CA.
      client = new NsxClient({ url: nsx.url, ca: nsx.caPem, ...nsx.credentials });
    });
    afterAll(async () => {
      await nsx?.stop();
      await db?.close();
    });

    it('lists the seeded tier-0, IP blocks and floating IP pool', async () => {
      expect((await client.tier0s.list()).map((t) => t.id)).toEqual(['pks-t0']);
      expect((await client.ipBlocks.list()).map((b) => [b.id, b.cidr])).toEqual([
        ['pks-node-ip-block', '172.24.0.0/14'],
        ['pks-pod-ip-block', '172.28.0.0/14'],
      ]);
      expect(await client.poolSubnets('pks-floating-ip-pool').list()).toMatchObject([
        { resource_type: 'IpAddressPoolStaticSubnet', cidr: '192.168.160.0/24' },
      ]);
    });

    it('refuses wrong credentials and a CA it does not trust', async () => {
      const wrong = new NsxClient({ url: nsx.url, ca: nsx.caPem, username: 'admin', password: 'nope' });
      expect((await failure(wrong.tier0s.list())).status).toBe(403);
      const untrusting = new NsxClient({ url: nsx.url, ...nsx.credentials });
      await expect(untrusting.tier0s.list()).rejects.toThrow(/certificate/);
    });

    it('creates, reads and deletes a tier-1, segment and load balancer; deleting twice succeeds', async () => {
      await client.tier1s.put('t1-a', { tier0_path: '/infra/tier-0s/pks-t0' });
      await client.segments.put('seg-a', {
        connectivity_path: '/infra/tier-1s/t1-a',
        subnets: [{ gateway_address: '10.9.0.1/24' }],
      });
      const lb = await client.lbServices.put('lb-a', {
        connectivity_path: '/infra/tier-1s/t1-a',
        size: 'MEDIUM',
      });
      expect(lb).toMatchObject({ id: 'lb-a', path: '/infra/lb-services/lb-a', size: 'MEDIUM' });
      // What the realized state does not carry is read back from the realised intent, or refused clearly.
      expect(await client.realizedAttribute('/infra/lb-services/lb-a', 'size')).toBe('MEDIUM');
      const untold = await failure(client.realizedAttribute('/infra/lb-services/lb-a', 'allocation_ip'));
      expect(untold.message).toBe('NSX realised /infra/lb-services/lb-a without telling its allocation_ip');
      const rule = await client.natRules('t1-a').put('no-snat', {
        action: 'NO_SNAT',
        destination_network: '10.0.0.0/24',
      });
      expect(rule).toMatchObject({ path: '/infra/tier-1s/t1-a/nat/USER/nat-rules/no-snat', enabled: true });
      expect((await failure(client.natRules('t1-a').put('bad', { action: 'SNAT' }))).message).toContain(
        'translated_network',
      );
      expect(
        (await failure(client.natRules('t1-a').put('bad', { action: 'NO_SNAT', destination_network: 'x' })))
          .status,
      ).toBe(400);
      expect(await client.tier1s.get('t1-a')).toMatchObject({ tier0_path: '/infra/tier-0s/pks-t0' });
      // A tier-1 with attached objects cannot go, as on NSX.
      const inUse = await failure(client.tier1s.delete('t1-a'));
      expect(inUse.errorCode).toBe(NsxErrorCode.IN_USE);
      await client.lbServices.delete('lb-a');
      await client.segments.delete('seg-a');
      // Its NAT rules hold the tier-1 too.
      expect((await failure(client.tier1s.delete('t1-a'))).errorCode).toBe(NsxErrorCode.IN_USE);
      expect((await client.natRules('t1-a').list()).map((r) => r.id)).toEqual(['no-snat']);
      await client.natRules('t1-a').delete('no-snat');
      await client.tier1s.delete('t1-a');
      await client.tier1s.delete('t1-a');
      expect(await client.tier1s.find('t1-a')).toBeUndefined();
      expect((await failure(client.tier1s.get('t1-a'))).status).toBe(404);
    });

    it('refuses a tier-1 on a missing tier-0', async () => {
      const error = await failure(client.tier1s.put('t1-x', { tier0_path: '/infra/tier-0s/missing' }));
      expect(error.status).toBe(404);
      expect(error.message).toContain('/infra/tier-0s/missing');
    });

    it('refuses an overlapping IP block', async () => {
      const error = await failure(client.ipBlocks.put('overlap', { cidr: '172.25.0.0/16' }));
      expect(error.errorCode).toBe(NsxErrorCode.OVERLAP);
      expect(error.message).toContain('pks-node-ip-block');
      expect((await failure(client.ipBlocks.put('bad', { cidr: '10.0.0.1/24' }))).status).toBe(400);
    });

    it('carves aligned subnets from a block until it is exhausted, told through the realized state', async () => {
      await client.ipBlocks.put('small-block', { cidr: '10.50.0.0/23' });
      await client.ipPools.put('carve', {});
      const subnets = client.poolSubnets('carve');
      const body = (size: number) => ({
        resource_type: 'IpAddressPoolBlockSubnet' as const,
        ip_block_path: '/infra/ip-blocks/small-block',
        size,
      });
      const carved = async (id: string) => {
        const intent = await subnets.put(id, body(id === 'b' || id === 'd' ? 256 : 128));
        // The intent says what was asked; which range NSX carved is only in the realized state.
        expect(intent).not.toHaveProperty('cidr');
        expect(intent.path).toBe(`/infra/ip-pools/carve/ip-subnets/${id}`);
        return client.realizedAttribute(intent.path!, 'cidr');
      };
      expect(await carved('a')).toBe('10.50.0.0/25');
      expect(await carved('b')).toBe('10.50.1.0/24');
      // Repeating a request is a no-op that keeps the same allocation.
      expect(await carved('a')).toBe('10.50.0.0/25');
      expect(await carved('c')).toBe('10.50.0.128/25');
      // NSX counts a block's space by intents, so an exhausted block refuses the request itself.
      const exhausted = await failure(subnets.put('d', body(128)));
      expect(isExhaustion(exhausted)).toBe(true);
      expect(exhausted.message).toMatch(/small-block .* is exhausted/);
      expect(await client.blockUsage('small-block')).toEqual({ total: 512, allocated: 512, free: 0 });
      // A block with subnets cannot be deleted; nor can a pool with subnets.
      expect((await failure(client.ipBlocks.delete('small-block'))).errorCode).toBe(NsxErrorCode.IN_USE);
      expect((await failure(client.ipPools.delete('carve'))).errorCode).toBe(NsxErrorCode.IN_USE);
      await subnets.delete('b');
      expect(await carved('d')).toBe('10.50.1.0/24');
      for (const id of ['a', 'c', 'd']) await subnets.delete(id);
      await client.ipPools.delete('carve');
      expect(await client.blockUsage('small-block')).toEqual({ total: 512, allocated: 0, free: 512 });
      await client.ipBlocks.delete('small-block');
    });

    it('allocates floating IPs through the realized state until the pool is exhausted', async () => {
      await client.ipPools.put('tiny', {});
      // A pool without subnets refuses an allocation at once.
      expect((await failure(client.poolAllocations('tiny').put('early', {}))).status).toBe(400);
      await client.poolSubnets('tiny').put('r', {
        resource_type: 'IpAddressPoolStaticSubnet',
        cidr: '192.168.200.0/24',
        allocation_ranges: [{ start: '192.168.200.10', end: '192.168.200.11' }],
      });
      const allocations = client.poolAllocations('tiny');
      const allocate = async (id: string) => {
        const intent = await allocations.put(id, {});
        expect(intent.allocation_ip).toBeUndefined();
        expect((await allocations.get(id)).allocation_ip).toBeUndefined();
        return client.realizedAttribute(intent.path!, 'allocation_ip');
      };
      expect(await allocate('x')).toBe('192.168.200.10');
      expect(await allocate('y')).toBe('192.168.200.11');
      // The intent is accepted; NSX reports the exhaustion when it tries to realise it.
      const error = await failure(allocate('z'));
      expect(isExhaustion(error)).toBe(true);
      expect(error.errorCode).toBe(NsxErrorCode.POOL_EXHAUSTED);
      expect(error.message).toBe('IP pool /infra/ip-pools/tiny is exhausted: no free IP address left.');
      expect((await client.realization('/infra/ip-pools/tiny/ip-allocations/z')).state).toBe('ERROR');
      await allocations.delete('z');
      await allocations.delete('x');
      expect(await allocate('z')).toBe('192.168.200.10');
      // A specific address that is taken realises as an error too.
      await allocations.put('w', { allocation_ip: '192.168.200.11' });
      const taken = await failure(client.awaitRealized('/infra/ip-pools/tiny/ip-allocations/w'));
      expect(taken.errorCode).toBe(NsxErrorCode.IN_USE);
      for (const id of ['w', 'y', 'z']) await allocations.delete(id);
      await client.poolSubnets('tiny').delete('r');
      await client.ipPools.delete('tiny');
    });

    it("computes a segment subnet's network, checks its DHCP DNS servers, and keeps Policy groups", async () => {
      await client.tier1s.put('t1-seg', { tier0_path: '/infra/tier-0s/pks-t0' });
      await client.segments.put('seg-dns', {
        connectivity_path: '/infra/tier-1s/t1-seg',
        subnets: [
          {
            gateway_address: '10.60.4.1/22',
            dhcp_config: { resource_type: 'SegmentDhcpV4Config', dns_servers: ['10.0.0.2'] },
          },
        ],
      });
      expect((await client.segments.get('seg-dns')).subnets).toEqual([
        {
          gateway_address: '10.60.4.1/22',
          network: '10.60.4.0/22',
          dhcp_config: { resource_type: 'SegmentDhcpV4Config', dns_servers: ['10.0.0.2'] },
        },
      ]);
      const badDns = await failure(
        client.segments.put('seg-bad', {
          connectivity_path: '/infra/tier-1s/t1-seg',
          subnets: [{ gateway_address: '10.61.0.1/24', dhcp_config: { dns_servers: ['dns.example'] } }],
        } as never),
      );
      expect(badDns.message).toContain('dns_servers');
      await client.segments.delete('seg-dns');
      await client.tier1s.delete('t1-seg');

      await client.groups().put('masters', { display_name: 'PKS masters' });
      expect(await client.groups().get('masters')).toMatchObject({
        path: '/infra/domains/default/groups/masters',
        resource_type: 'Group',
      });
      expect((await failure(client.groups().get('nobody'))).status).toBe(404);
      await client.groups().delete('masters');
    });

    it('answers objects under a missing parent with an NSX-style 404', async () => {
      const error = await failure(client.poolSubnets('no-such-pool').list());
      expect(error.status).toBe(404);
      expect(error.errorCode).toBe(NsxErrorCode.OBJECT_NOT_FOUND);
    });
  },
);

describe('NSX realisation that takes its time', () => {
  let db: TestDatabase;
  let nsx: TestNsx;
  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    // A manager that does not realise within the client's patience.
    nsx = await startTestNsx({ db, realizationDelayMs: 60_000 });
  });
  afterAll(async () => {
    await nsx?.stop();
    await db?.close();
  });

  it('shows the intent as UNREALIZED, and a client gives up clearly after its realisation timeout', async () => {
    const client = new NsxClient({
      url: nsx.url,
      ca: nsx.caPem,
      ...nsx.credentials,
      realizationTimeoutMs: 200,
    });
    const intent = await client.poolAllocations('pks-floating-ip-pool').put('slow', {});
    const realization = await client.realization(intent.path!);
    expect(realization).toEqual({ state: 'UNREALIZED', attributes: {}, errors: [] });
    const error = await failure(client.awaitRealized(intent.path!));
    expect(error.status).toBe(504);
    expect(error.message).toMatch(
      /^NSX did not realise \/infra\/ip-pools\/pks-floating-ip-pool\/ip-allocations\/slow within 200 ms \(state UNREALIZED\)$/,
    );
    expect(
      (await failure(client.realization('/infra/ip-pools/pks-floating-ip-pool/ip-allocations/none'))).status,
    ).toBe(404);
    await client.poolAllocations('pks-floating-ip-pool').delete('slow');
  });
});
