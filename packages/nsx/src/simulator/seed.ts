import { invariant } from '@openpks/domain';
import type { NsxSimSeed } from '../topology.js';
import type { NsxSimulator } from './nsxSimulator.js';

const ROOT = '/policy/api/v1/infra';

/**
 * Creates the installation's objects through the simulator's own API (so they obey the same rules),
 * idempotently: a restart finds them and changes nothing.
 */
export async function seedSimulator(sim: NsxSimulator, seed: NsxSimSeed): Promise<void> {
  const put = async (path: string, body: Record<string, unknown>) => {
    const answer = await sim.apply('PATCH', `${ROOT}/${path}`, body);
    invariant(answer.status === 200, `seeding NSX sim ${path}: ${JSON.stringify(answer.body)}`);
  };
  await put(`tier-0s/${seed.t0RouterId}`, { display_name: 'PKS tier-0 (sim)' });
  // The domain every NSX Manager has; Policy groups (NSGroups such as master_vms_nsgroup_id) live in it.
  await put('domains/default', { display_name: 'default' });
  await put(`ip-blocks/${seed.nodeIpBlockId}`, {
    display_name: 'PKS node IP block (sim)',
    cidr: seed.nodeIpBlockCidr,
  });
  await put(`ip-blocks/${seed.podIpBlockId}`, {
    display_name: 'PKS pod IP block (sim)',
    cidr: seed.podIpBlockCidr,
  });
  await put(`ip-pools/${seed.floatingIpPoolId}`, { display_name: 'PKS floating IP pool (sim)' });
  await put(`ip-pools/${seed.floatingIpPoolId}/ip-subnets/range`, {
    resource_type: 'IpAddressPoolStaticSubnet',
    cidr: seed.floatingIpPool.cidr,
    allocation_ranges: [{ start: seed.floatingIpPool.start, end: seed.floatingIpPool.end }],
  });
}
