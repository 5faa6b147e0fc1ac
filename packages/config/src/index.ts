export { loadConfig, parseConfig, ENV_OVERRIDES } from './config.js';
export type {
  PksConfig,
  ListenAddress,
  ConsoleSettings,
  DirectorTarget,
  NsxTarget,
  LoadConfigOptions,
  SimSettings,
  SimCpiMethod,
  BrokerSettings,
  NsxTopologySettings,
} from './config.js';
export { Role, ROLES, DEFAULT_PORTS, isRole } from './roles.js';
export { DEFAULT_PLANS, DEFAULT_VM_TYPES, planIdFor } from './schema.js';
