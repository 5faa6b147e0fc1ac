import { InputError, InternalError, QuotaExceededError, isPksError, type PksError } from '@openpks/domain';
import { HttpsCallError } from '@openpks/auth';
import type { NsxClient } from './client.js';
import { NsxError, isExhaustion } from './nsxError.js';
import { DEFAULT_SUBNET_PREFIX, type NetworkProfileParameters } from './profile.js';
import type { NsxTopology } from './topology.js';

/** The namespaces PKS gives their own switch and tier-1 (PKS-REFERENCE §4, objects per cluster). */
export const CLUSTER_NAMESPACES = ['default', 'kube-public', 'kube-system', 'pks-infrastructure'] as const;

/** What the proxy step allocated for a cluster; the broker gets it as `nsxt_network_details`. */
export interface NsxtNetworkDetails {
  t0_router_id: string;
  /**
   * Shared tier-1 (`single_tier_topology`): one tier-1 carries the node, namespace and load-balancer
   * segments; otherwise each of them has its own tier-1 on the tier-0 (PKS 1.6's default).
   */
  single_tier_topology: boolean;
  /** The cluster router: the nodes' tier-1 (and, single-tier, everyone's). */
  tier1_router_id: string;
  /** The block the node subnet was carved from: the first of `node_ip_block_ids` with room. */
  node_ip_block_id: string;
  /** What NSX realised, read back: the carved subnet and the node segment's gateway. */
  node_subnet: string;
  node_gateway: string;
  node_segment_id: string;
  /** `nodes_dns`: the node segment's DHCP DNS servers and the DNS of the nodes' BOSH network. */
  nodes_dns?: string[];
  /** The first pod block namespace subnets came from. */
  pod_ip_block_id: string;
  /** The blocks, in order, NCP carves later namespace subnets from (grows on allowed profile updates). */
  pod_ip_block_ids: string[];
  pod_subnet_prefix: number;
  namespaces: Record<
    string,
    { tier1_router_id: string; segment_id: string; subnet: string; ip_block_id: string }
  >;
  lb_tier1_router_id: string;
  lb_service_id: string;
  lb_size: string;
  /** The pool of the Kubernetes API's floating IP (the first of `fip_pool_ids` with a free address). */
  fip_pool_id: string;
  floating_ips: Record<string, string>;
  /** Which pool each floating IP came from. */
  floating_ip_pools: Record<string, string>;
  /**
   * `master_vms_nsgroup_id`: the NSGroup (Policy group) the master VMs join; the BOSH CPI adds them when
   * it creates the VMs (the manifest's master vm_extension), so the proxy checks it exists and passes it on.
   */
  master_vms_nsgroup_id?: string;
  master_vms_nsgroup_path?: string;
  /**
   * `infrastructure_networks`: the networks of the management plane (PKS, BOSH, NSX Manager, vCenter).
   * Single-tier, the cluster router does the cluster's NAT (NCP adds its SNAT rules there), so each of
   * these gets a NO_SNAT rule on it (`infrastructure_nat_rule_ids`) and is reached untranslated.
   */
  infrastructure_networks?: string[];
  infrastructure_nat_rule_ids?: string[];
}

type Step = { what: string; field: string };

/**
 * The NSX-T proxy step (PKS's NSX-T Proxy Broker): before the broker deploys a cluster it creates the
 * cluster's network objects through the Policy API, and after the cluster is deleted it removes them.
 * Every object's id starts with `pks-<cluster uuid>`, so a release finds all of them, also after a crash
 * half-way, and nothing is leaked; a failed provision rolls back what it took before reporting why.
 *
 * Addresses are never assumed: a carved subnet or a floating IP is what NSX reports in the realized state
 * once it has realised the request, and the node gateway is read back from the segment, so the same code
 * works against a real NSX Manager, which realises asynchronously.
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
    const nodeBlocks = nonEmpty(parameters.node_ip_block_ids) ?? [this.topology.nodeIpBlockId];
    const podBlocks = nonEmpty(parameters.pod_ip_block_ids) ?? [this.topology.podIpBlockId];
    const fipPools = nonEmpty(parameters.fip_pool_ids) ?? [this.topology.floatingIpPoolId];
    const nodePrefix = parameters.node_subnet_prefix ?? DEFAULT_SUBNET_PREFIX;
    const podPrefix = parameters.pod_subnet_prefix ?? DEFAULT_SUBNET_PREFIX;
    const lbSize = parameters.lb_size ?? 'small';
    const singleTier = parameters.single_tier_topology === true;
    const dns = nonEmpty(parameters.nodes_dns);
    let step: Step = { what: 'the tier-0 router', field: 'parameters.t0_router_id' };
    try {
      await this.client.tier0s.get(t0);

      let group: { id: string; path: string } | undefined;
      if (parameters.master_vms_nsgroup_id !== undefined) {
        step = { what: 'the master VMs NSGroup', field: 'parameters.master_vms_nsgroup_id' };
        const found = await this.client.groups().get(parameters.master_vms_nsgroup_id);
        group = { id: found.id, path: found.path ?? `/infra/domains/default/groups/${found.id}` };
      }

      // The address space first, all at once: NSX realises the node subnet, the namespace subnets and the
      // floating IPs concurrently, so the create waits for one realization, not one per address.
      step = { what: 'the node subnet', field: 'parameters.node_ip_block_ids' };
      await this.client.ipPools.put(`${base}-nodes`, { display_name: `PKS nodes ${clusterUuid}` });
      step = { what: 'the namespace subnets', field: 'parameters.pod_ip_block_ids' };
      await this.client.ipPools.put(`${base}-pods`, { display_name: `PKS pods ${clusterUuid}` });
      const wanted =
        parameters.cni_configurations?.parameters?.nsx_ingress_controller === false
          ? ['kube-api']
          : ['kube-api', 'ingress'];
      const [nodeSpace, podSpace, fipSpace] = await allOrFirstFailure([
        labelled({ what: 'the node subnet', field: 'parameters.node_ip_block_ids' }, () =>
          this.#carve(`${base}-nodes`, ['subnet'], nodeBlocks, nodePrefix),
        ),
        labelled({ what: 'the namespace subnets', field: 'parameters.pod_ip_block_ids' }, () =>
          this.#carve(`${base}-pods`, CLUSTER_NAMESPACES, podBlocks, podPrefix),
        ),
        labelled({ what: 'the floating IPs', field: 'parameters.fip_pool_ids' }, () =>
          this.#allocate(
            wanted.map((purpose) => `${base}-${purpose}`),
            fipPools,
          ),
        ),
      ] as const);
      const node = nodeSpace['subnet']!;

      step = { what: 'the cluster router', field: 'parameters.t0_router_id' };
      const tier1 = await this.client.tier1s.put(`${base}-cluster-router`, {
        tier0_path: `/infra/tier-0s/${t0}`,
      });
      step = {
        what: 'the node segment',
        field: dns ? 'parameters.nodes_dns' : 'parameters.node_ip_block_ids',
      };
      await this.client.segments.put(`${base}-nodes`, {
        connectivity_path: `/infra/tier-1s/${tier1.id}`,
        subnets: [
          {
            gateway_address: gatewayOf(node.value),
            ...(dns ? { dhcp_config: { resource_type: 'SegmentDhcpV4Config', dns_servers: dns } } : {}),
          },
        ],
      });
      // Read back what NSX stored: the gateway and the network it computed must be the carved subnet's.
      const nodeSegment = await this.client.segments.get(`${base}-nodes`);
      const nodeSubnet = nodeSegment.subnets?.[0];
      if (nodeSubnet === undefined || (nodeSubnet.network ?? node.value) !== node.value) {
        throw new InternalError(
          `NSX-T realised node segment ${base}-nodes as ${JSON.stringify(nodeSegment.subnets)}, not on ${node.value}`,
        );
      }

      step = { what: 'the namespace networks', field: 'parameters.pod_ip_block_ids' };
      const namespaces: NsxtNetworkDetails['namespaces'] = {};
      for (const ns of CLUSTER_NAMESPACES) {
        const subnet = podSpace[ns]!;
        // Single-tier: every namespace segment hangs off the cluster router, no tier-1 of its own.
        const router = singleTier
          ? tier1
          : await this.client.tier1s.put(`${base}-ns-${ns}`, { tier0_path: `/infra/tier-0s/${t0}` });
        const segment = await this.client.segments.put(`${base}-ns-${ns}`, {
          connectivity_path: `/infra/tier-1s/${router.id}`,
          subnets: [{ gateway_address: gatewayOf(subnet.value) }],
        });
        namespaces[ns] = {
          tier1_router_id: router.id,
          segment_id: segment.id,
          subnet: subnet.value,
          ip_block_id: subnet.choice,
        };
      }

      step = { what: 'the load balancer', field: 'parameters.lb_size' };
      const lbRouter = singleTier
        ? tier1
        : await this.client.tier1s.put(`${base}-lb`, { tier0_path: `/infra/tier-0s/${t0}` });
      const lb = await this.client.lbServices.put(`${base}-lb`, {
        connectivity_path: `/infra/tier-1s/${lbRouter.id}`,
        size: lbSize.toUpperCase() as 'SMALL',
      });

      const infrastructure = nonEmpty(parameters.infrastructure_networks);
      const natRuleIds: string[] = [];
      if (singleTier && infrastructure) {
        step = {
          what: 'the NAT rules for the infrastructure networks',
          field: 'parameters.infrastructure_networks',
        };
        for (const [i, network] of infrastructure.entries()) {
          // Low sequence numbers come first: these exemptions must win over any SNAT rule NCP adds.
          const rule = await this.client.natRules(tier1.id).put(`${base}-infra-${i}`, {
            action: 'NO_SNAT',
            destination_network: network,
            sequence_number: 10 + i,
            display_name: `PKS ${clusterUuid}: no SNAT to ${network}`,
          });
          natRuleIds.push(rule.id);
        }
      }

      const floating: Record<string, string> = {};
      const floatingPools: Record<string, string> = {};
      for (const purpose of wanted) {
        floating[purpose] = fipSpace[`${base}-${purpose}`]!.value;
        floatingPools[purpose] = fipSpace[`${base}-${purpose}`]!.choice;
      }

      return {
        t0_router_id: t0,
        single_tier_topology: singleTier,
        tier1_router_id: tier1.id,
        node_ip_block_id: node.choice,
        node_subnet: node.value,
        node_gateway: nodeSubnet.gateway_address.split('/')[0]!,
        node_segment_id: nodeSegment.id,
        ...(dns ? { nodes_dns: dns } : {}),
        pod_ip_block_id: namespaces[CLUSTER_NAMESPACES[0]]!.ip_block_id,
        pod_ip_block_ids: podBlocks,
        pod_subnet_prefix: podPrefix,
        namespaces,
        lb_tier1_router_id: lbRouter.id,
        lb_service_id: lb.id,
        lb_size: lbSize,
        fip_pool_id: floatingPools['kube-api']!,
        floating_ips: floating,
        floating_ip_pools: floatingPools,
        ...(group ? { master_vms_nsgroup_id: group.id, master_vms_nsgroup_path: group.path } : {}),
        ...(infrastructure ? { infrastructure_networks: infrastructure } : {}),
        ...(natRuleIds.length > 0 ? { infrastructure_nat_rule_ids: natRuleIds } : {}),
      };
    } catch (error) {
      // Roll back whatever was taken; the original failure is what the user needs to hear.
      await this.release(clusterUuid).catch(() => undefined);
      throw domainErrorOf(error, step.what, step.field);
    }
  }

  /**
   * An allowed profile update (PKS 1.6: pod IP blocks added or reordered). Nothing already carved moves:
   * NCP carves the subnets of namespaces created later from the blocks in their new order, so every block
   * must exist now, and the cluster's record of them is what changes. Answers the updated details.
   */
  async update(
    details: NsxtNetworkDetails,
    parameters: NetworkProfileParameters,
  ): Promise<NsxtNetworkDetails> {
    // Details recorded before `pod_ip_block_ids` was kept name only the block they used.
    const podBlocks = nonEmpty(parameters.pod_ip_block_ids) ??
      nonEmpty(details.pod_ip_block_ids as string[] | undefined) ?? [details.pod_ip_block_id];
    const step = { what: 'the pod IP blocks', field: 'parameters.pod_ip_block_ids' };
    try {
      for (const id of podBlocks) await this.client.ipBlocks.get(id);
    } catch (error) {
      throw domainErrorOf(error, step.what, step.field);
    }
    return { ...details, pod_ip_block_ids: podBlocks };
  }

  /** Removes every NSX object of the cluster (dependents first); safe to repeat. */
  async release(clusterUuid: string): Promise<void> {
    const base = prefixOf(clusterUuid);
    const mine = <T extends { id: string }>(list: T[]) => list.filter((o) => o.id.startsWith(base));
    for (const lb of mine(await this.client.lbServices.list())) await this.client.lbServices.delete(lb.id);
    for (const segment of mine(await this.client.segments.list()))
      await this.client.segments.delete(segment.id);
    const routers = mine(await this.client.tier1s.list());
    for (const router of routers) {
      const rules = this.client.natRules(router.id);
      for (const rule of await orNone(rules.list())) await rules.delete(rule.id);
    }
    for (const router of routers) await this.client.tier1s.delete(router.id);
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

  /**
   * Subnets of 2^(32-prefix) addresses in pool `poolId`, one per id, each from the first of `blocks` with
   * room, as NSX realised them.
   */
  #carve(
    poolId: string,
    subnetIds: readonly string[],
    blocks: readonly string[],
    prefix: number,
  ): Promise<Record<string, Taken>> {
    const subnets = this.client.poolSubnets(poolId);
    return this.#takeInOrder(subnetIds, blocks, 'cidr', {
      ask: async (id, blockId) =>
        (
          await subnets.put(id, {
            resource_type: 'IpAddressPoolBlockSubnet',
            ip_block_path: `/infra/ip-blocks/${blockId}`,
            size: 2 ** (32 - prefix),
          })
        ).path ?? policyPath(poolId, 'ip-subnets', id),
      giveBack: (id) => subnets.delete(id),
    });
  }

  /** Floating IPs, one per allocation id, each from the first of `pools` with a free address. */
  #allocate(allocationIds: readonly string[], pools: readonly string[]): Promise<Record<string, Taken>> {
    return this.#takeInOrder(allocationIds, pools, 'allocation_ip', {
      ask: async (id, poolId) =>
        (await this.client.poolAllocations(poolId).put(id, {})).path ??
        policyPath(poolId, 'ip-allocations', id),
      giveBack: (id, poolId) => this.client.poolAllocations(poolId).delete(id),
    });
  }

  /**
   * Takes one thing per id (a subnet, an address) from the first of `choices` (blocks, pools) with room,
   * and answers what NSX realised for each (`key`). The requests go in one by one, in order, so NSX hands
   * out space deterministically (and may refuse an exhausted choice at once); the realizations are awaited
   * together. An exhausted choice, refused or realised as an error, gives its request back and the next
   * choice is asked; an id fails only when every choice is exhausted, with each one's reason.
   */
  async #takeInOrder(
    ids: readonly string[],
    choices: readonly string[],
    key: string,
    io: {
      ask: (id: string, choice: string) => Promise<string>;
      giveBack: (id: string, choice: string) => Promise<void>;
    },
  ): Promise<Record<string, Taken>> {
    const reasons = new Map<string, NsxError[]>(ids.map((id) => [id, []]));
    const next = new Map<string, number>(ids.map((id) => [id, 0]));
    const taken: Record<string, Taken> = {};
    const exhausted = async (id: string, at: number, error: unknown) => {
      if (!(error instanceof NsxError) || !isExhaustion(error)) throw error;
      reasons.get(id)!.push(error);
      // A failed intent still holds its name (and, on NSX, its share of a block): give it back.
      await io.giveBack(id, choices[at]!);
      next.set(id, at + 1);
    };
    let pending = [...ids];
    while (pending.length > 0) {
      const asked: { id: string; at: number; path: string }[] = [];
      for (const id of pending) {
        for (;;) {
          const at = next.get(id)!;
          if (at >= choices.length) throw combined(reasons.get(id)!);
          try {
            asked.push({ id, at, path: await io.ask(id, choices[at]!) });
            break;
          } catch (error) {
            await exhausted(id, at, error);
          }
        }
      }
      const realized = await Promise.allSettled(asked.map((a) => this.client.realizedAttribute(a.path, key)));
      pending = [];
      for (const [i, result] of realized.entries()) {
        const { id, at } = asked[i]!;
        if (result.status === 'fulfilled') taken[id] = { value: result.value, choice: choices[at]! };
        else {
          await exhausted(id, at, result.reason);
          pending.push(id);
        }
      }
    }
    return taken;
  }
}

/** What NSX realised for one request (`value`: a CIDR or an address) and the block or pool it came from. */
interface Taken {
  value: string;
  choice: string;
}

/** Runs `task`; a failure becomes the typed error that names what could not be provided and the field. */
async function labelled<T>(step: Step, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw domainErrorOf(error, step.what, step.field);
  }
}

/**
 * Waits for every task (so nothing is still creating objects when the caller rolls back), then answers
 * all results or throws the first failure in order.
 */
async function allOrFirstFailure<T extends readonly unknown[]>(tasks: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function policyPath(poolId: string, kind: string, id: string): string {
  return `/infra/ip-pools/${poolId}/${kind}/${id}`;
}

/** Every block or pool was exhausted: one error that keeps each one's reason (and stays an exhaustion). */
function combined(errors: NsxError[]): NsxError {
  if (errors.length === 1) return errors[0]!;
  const last = errors[errors.length - 1]!;
  return new NsxError(last.status, errors.map((e) => e.message).join('; '), last.path, last.errorCode);
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list !== undefined && list.length > 0 ? list : undefined;
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
  // A call that got no usable answer says so, under what could not be provided.
  if (isPksError(error) && !(error instanceof HttpsCallError)) return error;
  return new InternalError(`NSX-T could not provide ${what}: ${(error as Error).message}`, { cause: error });
}
