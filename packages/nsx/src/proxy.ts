import { InputError, InternalError, QuotaExceededError, type PksError } from '@openpks/domain';
import type { NsxClient } from './client.js';
import { NsxError, isExhaustion } from './nsxError.js';
import { DEFAULT_SUBNET_PREFIX, type NetworkProfileParameters } from './profile.js';
import type { NsxTopology } from './topology.js';

/** The namespaces PKS gives their own switch and tier-1 (PKS-REFERENCE §4, objects per cluster). */
export const CLUSTER_NAMESPACES = ['default', 'kube-public', 'kube-system', 'pks-infrastructure'] as const;

/** What the proxy step allocated for a cluster; the broker gets it as `nsxt_network_details`. */
export interface NsxtNetworkDetails {
  t0_router_id: string;
  tier1_router_id: string;
  node_ip_block_id: string;
  node_subnet: string;
  node_gateway: string;
  node_segment_id: string;
  pod_ip_block_id: string;
  pod_subnet_prefix: number;
  namespaces: Record<string, { tier1_router_id: string; segment_id: string; subnet: string }>;
  lb_tier1_router_id: string;
  lb_service_id: string;
  lb_size: string;
  fip_pool_id: string;
  floating_ips: Record<string, string>;
}

/**
 * The NSX-T proxy step (PKS's NSX-T Proxy Broker): before the broker deploys a cluster it creates the
 * cluster's network objects through the Policy API, and after the cluster is deleted it removes them.
 * Every object's id starts with `pks-<cluster uuid>`, so a release finds all of them, also after a crash
 * half-way, and nothing is leaked; a failed provision rolls back what it took before reporting why.
 */
export class NsxProxy {
  constructor(
    private readonly client: NsxClient,
    private readonly topology: NsxTopology,
  ) {}

  async provision(
    clusterUuid: string,
    parameters: NetworkProfileParameters = {},
  ): Promise<NsxtNetworkDetails> {
    const base = prefixOf(clusterUuid);
    const t0 = parameters.t0_router_id ?? this.topology.t0RouterId;
    const nodeBlock = parameters.node_ip_block_ids?.[0] ?? this.topology.nodeIpBlockId;
    const podBlock = parameters.pod_ip_block_ids?.[0] ?? this.topology.podIpBlockId;
    const fipPool = parameters.fip_pool_ids?.[0] ?? this.topology.floatingIpPoolId;
    const nodePrefix = parameters.node_subnet_prefix ?? DEFAULT_SUBNET_PREFIX;
    const podPrefix = parameters.pod_subnet_prefix ?? DEFAULT_SUBNET_PREFIX;
    const lbSize = parameters.lb_size ?? 'small';
    let step = { what: 'the tier-0 router', field: 'parameters.t0_router_id' };
    try {
      step = { what: 'the tier-0 router', field: 'parameters.t0_router_id' };
      await this.client.tier0s.get(t0);

      step = { what: 'the node subnet', field: 'parameters.node_ip_block_ids' };
      await this.client.ipPools.put(`${base}-nodes`, { display_name: `PKS nodes ${clusterUuid}` });
      const nodeSubnet = await this.client.poolSubnets(`${base}-nodes`).put('subnet', {
        resource_type: 'IpAddressPoolBlockSubnet',
        ip_block_path: `/infra/ip-blocks/${nodeBlock}`,
        size: 2 ** (32 - nodePrefix),
      });
      const nodeCidr = nodeSubnet.cidr!;

      step = { what: 'the cluster router', field: 'parameters.t0_router_id' };
      const tier1 = await this.client.tier1s.put(`${base}-cluster-router`, {
        tier0_path: `/infra/tier-0s/${t0}`,
      });
      const nodeGateway = gatewayOf(nodeCidr);
      step = { what: 'the node segment', field: 'parameters.node_ip_block_ids' };
      await this.client.segments.put(`${base}-nodes`, {
        connectivity_path: `/infra/tier-1s/${tier1.id}`,
        subnets: [{ gateway_address: nodeGateway }],
      });

      step = { what: 'the namespace subnets', field: 'parameters.pod_ip_block_ids' };
      await this.client.ipPools.put(`${base}-pods`, { display_name: `PKS pods ${clusterUuid}` });
      const namespaces: NsxtNetworkDetails['namespaces'] = {};
      for (const ns of CLUSTER_NAMESPACES) {
        const subnet = await this.client.poolSubnets(`${base}-pods`).put(ns, {
          resource_type: 'IpAddressPoolBlockSubnet',
          ip_block_path: `/infra/ip-blocks/${podBlock}`,
          size: 2 ** (32 - podPrefix),
        });
        const router = await this.client.tier1s.put(`${base}-ns-${ns}`, {
          tier0_path: `/infra/tier-0s/${t0}`,
        });
        const segment = await this.client.segments.put(`${base}-ns-${ns}`, {
          connectivity_path: `/infra/tier-1s/${router.id}`,
          subnets: [{ gateway_address: gatewayOf(subnet.cidr!) }],
        });
        namespaces[ns] = { tier1_router_id: router.id, segment_id: segment.id, subnet: subnet.cidr! };
      }

      step = { what: 'the load balancer', field: 'parameters.lb_size' };
      const lbRouter = await this.client.tier1s.put(`${base}-lb`, { tier0_path: `/infra/tier-0s/${t0}` });
      const lb = await this.client.lbServices.put(`${base}-lb`, {
        connectivity_path: `/infra/tier-1s/${lbRouter.id}`,
        size: lbSize.toUpperCase() as 'SMALL',
      });

      step = { what: 'the floating IPs', field: 'parameters.fip_pool_ids' };
      const floating: Record<string, string> = {};
      const wanted =
        parameters.cni_configurations?.parameters?.nsx_ingress_controller === false
          ? ['kube-api']
          : ['kube-api', 'ingress'];
      for (const purpose of wanted) {
        const allocation = await this.client.poolAllocations(fipPool).put(`${base}-${purpose}`, {});
        floating[purpose] = allocation.allocation_ip!;
      }

      return {
        t0_router_id: t0,
        tier1_router_id: tier1.id,
        node_ip_block_id: nodeBlock,
        node_subnet: nodeCidr,
        node_gateway: nodeGateway.split('/')[0]!,
        node_segment_id: `${base}-nodes`,
        pod_ip_block_id: podBlock,
        pod_subnet_prefix: podPrefix,
        namespaces,
        lb_tier1_router_id: lbRouter.id,
        lb_service_id: lb.id,
        lb_size: lbSize,
        fip_pool_id: fipPool,
        floating_ips: floating,
      };
    } catch (error) {
      // Roll back whatever was taken; the original failure is what the user needs to hear.
      await this.release(clusterUuid).catch(() => undefined);
      throw domainErrorOf(error, step.what, step.field);
    }
  }

  /** Removes every NSX object of the cluster (dependents first); safe to repeat. */
  async release(clusterUuid: string): Promise<void> {
    const base = prefixOf(clusterUuid);
    const mine = <T extends { id: string }>(list: T[]) => list.filter((o) => o.id.startsWith(base));
    for (const lb of mine(await this.client.lbServices.list())) await this.client.lbServices.delete(lb.id);
    for (const segment of mine(await this.client.segments.list()))
      await this.client.segments.delete(segment.id);
    for (const router of mine(await this.client.tier1s.list())) await this.client.tier1s.delete(router.id);
    const pools = await this.client.ipPools.list();
    for (const pool of pools) {
      // Another cluster's release may remove its pool meanwhile: a pool that is gone holds nothing of ours.
      const allocations = await orNone(this.client.poolAllocations(pool.id).list());
      for (const allocation of mine(allocations))
        await this.client.poolAllocations(pool.id).delete(allocation.id);
    }
    for (const pool of mine(pools)) {
      for (const subnet of await orNone(this.client.poolSubnets(pool.id).list())) {
        await this.client.poolSubnets(pool.id).delete(subnet.id);
      }
      await this.client.ipPools.delete(pool.id);
    }
  }
}

async function orNone<T>(list: Promise<T[]>): Promise<T[]> {
  return list.catch((error: unknown) => {
    if (error instanceof NsxError && error.status === 404) return [];
    throw error;
  });
}

function prefixOf(clusterUuid: string): string {
  return `pks-${clusterUuid}`;
}

/** The first host address of a subnet, with the prefix: `10.0.1.1/24`. */
function gatewayOf(cidr: string): string {
  const [ip, prefix] = cidr.split('/');
  const octets = ip!.split('.').map(Number);
  octets[3]! += 1;
  return `${octets.join('.')}/${prefix}`;
}

/** An NSX failure in words a PKS user understands, typed for the transports. */
function domainErrorOf(error: unknown, what: string, field: string): PksError {
  if (error instanceof NsxError) {
    const message = `NSX-T could not provide ${what}: ${error.message}`;
    if (isExhaustion(error)) return new QuotaExceededError(message, { cause: error, details: { field } });
    if (error.status === 404 || error.status === 400) return new InputError(field, message, { cause: error });
    return new InternalError(message, { cause: error });
  }
  return new InternalError(`NSX-T could not provide ${what}: ${(error as Error).message}`, { cause: error });
}
