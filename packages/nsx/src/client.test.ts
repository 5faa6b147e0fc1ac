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
      expect(await client.tier1s.get('t1-a')).toMatchObject({ tier0_path: '/infra/tier-0s/pks-t0' });
      // A tier-1 with attached objects cannot go, as on NSX.
      const inUse = await failure(client.tier1s.delete('t1-a'));
      expect(inUse.errorCode).toBe(NsxErrorCode.IN_USE);
      await client.lbServices.delete('lb-a');
      await client.segments.delete('seg-a');
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

    it('carves aligned subnets from a block until it is exhausted, and gives the space back', async () => {
      await client.ipBlocks.put('small-block', { cidr: '10.50.0.0/23' });
      await client.ipPools.put('carve', {});
      const subnets = client.poolSubnets('carve');
      const body = (size: number) => ({
        resource_type: 'IpAddressPoolBlockSubnet' as const,
        ip_block_path: '/infra/ip-blocks/small-block',
        size,
      });
      expect((await subnets.put('a', body(128))).cidr).toBe('10.50.0.0/25');
      expect((await subnets.put('b', body(256))).cidr).toBe('10.50.1.0/24');
      // Repeating a request answers with the same allocation.
      expect((await subnets.put('a', body(128))).cidr).toBe('10.50.0.0/25');
      expect((await subnets.put('c', body(128))).cidr).toBe('10.50.0.128/25');
      const exhausted = await failure(subnets.put('d', body(128)));
      expect(isExhaustion(exhausted)).toBe(true);
      expect(exhausted.message).toMatch(/small-block .* is exhausted/);
      expect(await client.blockUsage('small-block')).toEqual({ total: 512, allocated: 512, free: 0 });
      // A block with subnets cannot be deleted; nor can a pool with subnets.
      expect((await failure(client.ipBlocks.delete('small-block'))).errorCode).toBe(NsxErrorCode.IN_USE);
      expect((await failure(client.ipPools.delete('carve'))).errorCode).toBe(NsxErrorCode.IN_USE);
      await subnets.delete('b');
      expect((await subnets.put('d', body(256))).cidr).toBe('10.50.1.0/24');
      for (const id of ['a', 'c', 'd']) await subnets.delete(id);
      await client.ipPools.delete('carve');
      expect(await client.blockUsage('small-block')).toEqual({ total: 512, allocated: 0, free: 512 });
      await client.ipBlocks.delete('small-block');
    });

    it('allocates floating IPs until the pool is exhausted', async () => {
      await client.ipPools.put('tiny', {});
      await client.poolSubnets('tiny').put('r', {
        resource_type: 'IpAddressPoolStaticSubnet',
        cidr: '192.168.200.0/24',
        allocation_ranges: [{ start: '192.168.200.10', end: '192.168.200.11' }],
      });
      const allocations = client.poolAllocations('tiny');
      expect((await allocations.put('x', {})).allocation_ip).toBe('192.168.200.10');
      expect((await allocations.put('y', {})).allocation_ip).toBe('192.168.200.11');
      const error = await failure(allocations.put('z', {}));
      expect(isExhaustion(error)).toBe(true);
      expect(error.errorCode).toBe(NsxErrorCode.POOL_EXHAUSTED);
      await allocations.delete('x');
      expect((await allocations.put('z', {})).allocation_ip).toBe('192.168.200.10');
      for (const id of ['y', 'z']) await allocations.delete(id);
      await client.poolSubnets('tiny').delete('r');
      await client.ipPools.delete('tiny');
    });

    it('answers objects under a missing parent with an NSX-style 404', async () => {
      const error = await failure(client.poolSubnets('no-such-pool').list());
      expect(error.status).toBe(404);
      expect(error.errorCode).toBe(NsxErrorCode.OBJECT_NOT_FOUND);
    });
  },
);
