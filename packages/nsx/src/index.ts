export {
  validateNetworkProfileParameters,
  networkProfileUpdateConflicts,
  mergeNetworkProfileUpdate,
  NETWORK_PROFILE_PARAMETERS,
  LB_SIZES,
  DEFAULT_SUBNET_PREFIX,
  SUBNET_PREFIX_RANGE,
} from './profile.js';
export type { NetworkProfileParameters, LbSize, ProfileConflict, ValidateProfileOptions } from './profile.js';
export { NsxClient, POLICY_ROOT } from './client.js';
export type {
  NsxClientOptions,
  PolicyObject,
  IpBlock,
  IpPool,
  IpPoolSubnet,
  IpPoolBlockSubnet,
  IpPoolStaticSubnet,
  IpAllocation,
  Tier0,
  Tier1,
  Segment,
  SegmentSubnet,
  Group,
  NatRule,
  LbService,
  Realization,
  RealizationState,
} from './client.js';
export { NsxError, NsxErrorCode, isExhaustion } from './nsxError.js';
export { NsxProxy, CLUSTER_NAMESPACES } from './proxy.js';
export type { NsxtNetworkDetails } from './proxy.js';
export { DEFAULT_NSX_TOPOLOGY, DEFAULT_NSX_SIM_SEED } from './topology.js';
export type { NsxTopology, NsxSimSeed } from './topology.js';
export { NsxSimulator, DEFAULT_REALIZATION_DELAY_MS } from './simulator/nsxSimulator.js';
export type { NsxSimulatorOptions } from './simulator/nsxSimulator.js';
export { nsxMigrations } from './simulator/migrations.js';
export { seedSimulator } from './simulator/seed.js';
export {
  nsxRole,
  createNsxRole,
  nsxProxyFor,
  loadNsxSimCredentials,
  NSX_SIM_USERNAME,
  NSX_SIM_PASSWORD_FILE,
} from './role.js';
export type { NsxRoleOptions } from './role.js';
