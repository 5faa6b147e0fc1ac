/**
 * The installation's NSX-T objects (the PKS tile's NSX settings): the tier-0 clusters attach to, and the
 * node IP block, pod IP block and floating IP pool used when a profile names none. The simulator is seeded
 * with these ids; against a real NSX Manager they name objects the operator created.
 */
export interface NsxTopology {
  t0RouterId: string;
  nodeIpBlockId: string;
  podIpBlockId: string;
  floatingIpPoolId: string;
}

/** What the simulator creates at start (besides the ids): the blocks' and the floating pool's addresses. */
export interface NsxSimSeed extends NsxTopology {
  nodeIpBlockCidr: string;
  podIpBlockCidr: string;
  floatingIpPool: { cidr: string; start: string; end: string };
}

export const DEFAULT_NSX_TOPOLOGY: NsxTopology = {
  t0RouterId: 'pks-t0',
  nodeIpBlockId: 'pks-node-ip-block',
  podIpBlockId: 'pks-pod-ip-block',
  floatingIpPoolId: 'pks-floating-ip-pool',
};

export const DEFAULT_NSX_SIM_SEED: NsxSimSeed = {
  ...DEFAULT_NSX_TOPOLOGY,
  nodeIpBlockCidr: '172.24.0.0/14',
  podIpBlockCidr: '172.28.0.0/14',
  floatingIpPool: { cidr: '192.168.160.0/24', start: '192.168.160.10', end: '192.168.160.250' },
};
