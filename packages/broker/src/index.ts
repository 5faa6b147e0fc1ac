// The service adapter (ODB's contract), as a library.
export {
  generateManifest,
  validateWorkerCount,
  settingsFromManifest,
  SERVICE_CLUSTER_IP,
} from './adapter/manifest.js';
export type { ClusterSettings } from './adapter/manifest.js';
export { generatePlanSchemas } from './adapter/schemas.js';
export {
  createBinding,
  deleteBinding,
  dashboardUrl,
  bindingUserOf,
  kubeClusterOf,
} from './adapter/binding.js';
export type { BindingRegistry, CreateBindingOptions, BindingUser } from './adapter/binding.js';
export { runAdapterCommand } from './adapter/command.js';
export type { AdapterRun, AdapterCommandOptions } from './adapter/command.js';
export {
  AdapterExitCode,
  NotImplementedError,
  BindingNotFoundError,
  BindingAlreadyExistsError,
  AppGuidNotProvidedError,
} from './adapter/errors.js';
export {
  odbPlanOf,
  defaultOidcSettings,
  defaultServiceDeployment,
  deploymentNameOf,
  DEPLOYMENT_PREFIX,
  POST_DEPLOY_ERRAND,
  PRE_DELETE_ERRAND,
} from './adapter/plan.js';
export type * from './adapter/types.js';

// The broker: OSB v2.17 + management API, its service and upgrade runs, and the pks-server role.
export { Broker } from './broker.js';
export type { BrokerOptions } from './broker.js';
export {
  BrokerService,
  PKS_SERVICE_ID,
  PKS_SERVICE_NAME,
  OperationType,
  OperationState,
} from './service/brokerService.js';
export type {
  BrokerServiceOptions,
  ClusterCaSource,
  OriginatingIdentity,
  RequestMeta,
  OperationData,
  LastOperation,
  ProvisionOutcome,
  UpdateOutcome,
  DeprovisionOutcome,
  UpgradeOutcome,
} from './service/brokerService.js';
export { AsyncRequiredError, ConcurrencyError, GoneError, UnprocessableError } from './service/errors.js';
export { BindingService } from './service/bindingService.js';
export type { BindingServiceOptions, BindOutcome, InstanceGuard } from './service/bindingService.js';
export { BINDING_GROUP, certificateUserOf, clusterRoleBindingOf } from './bindings/certificateBinding.js';
export { loadOrCreateClientCa } from './bindings/clientCa.js';
export { createOsbHandler, parseOriginatingIdentity } from './http/osbHandler.js';
export {
  FIELDS_SINCE,
  ENDPOINTS_SINCE,
  HEADERS_SINCE,
  MIN_MINOR_VERSION,
  MAX_MINOR_VERSION,
} from './http/osbVersions.js';
export {
  UpgradeRuns,
  UpgradeRunState,
  UpgradeInstanceState,
  ODB_UPGRADE_DEFAULTS,
} from './upgrades/upgradeRuns.js';
export type {
  UpgradeRun,
  UpgradeRunInstance,
  UpgradeRunRequest,
  UpgradeRunDefaults,
} from './upgrades/upgradeRuns.js';
export { configServerClusterCa, CLUSTER_CA_VARIABLE } from './service/clusterCa.js';
export { brokerMigrations } from './store/migrations.js';
export {
  createBrokerRole,
  brokerRole,
  loadBrokerCredentials,
  BROKER_USERNAME,
  BROKER_PASSWORD_FILE,
  BROKER_URL_FILE,
  oidcSettingsOf,
} from './role.js';
export type { BrokerRoleOptions } from './role.js';
