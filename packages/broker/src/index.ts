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
  POST_DEPLOY_ERRAND,
  PRE_DELETE_ERRAND,
} from './adapter/plan.js';
export type * from './adapter/types.js';

// The ODB contract, declared once for both sides: deployment naming, the BoshContextID convention and
// ODB's operation data, the OSB and management wire types, and the one client of the broker.
export { DEPLOYMENT_PREFIX, deploymentNameOf, instanceIdOf } from './contract/deployment.js';
export {
  OperationType,
  OperationState,
  operationStringOf,
  adoptedOperationStringOf,
  parseOperationData,
  boshContextIdOf,
} from './contract/operationData.js';
export type { AdoptedOperationData, OperationData } from './contract/operationData.js';
export { OSB_API_VERSION, originatingIdentityHeader, parseOriginatingIdentity } from './contract/osb.js';
export type {
  OriginatingIdentity,
  OsbCatalog,
  OsbProvisionRequest,
  OsbUpdateRequest,
  OsbBindRequest,
  OsbAsyncResponse,
  OsbLastOperation,
  OsbBindResponse,
  OsbErrorBody,
} from './contract/osb.js';
export { UpgradeRunState, UpgradeInstanceState } from './contract/upgradeRuns.js';
export type {
  UpgradeRun,
  UpgradeRunInstance,
  UpgradeRunRequest,
  UpgradeRunSummary,
} from './contract/upgradeRuns.js';
export { BrokerClient, BrokerError, BrokerUnreachableError, domainErrorOf } from './contract/brokerClient.js';
export type { BrokerClientOptions, OsbAccepted } from './contract/brokerClient.js';

// The broker: OSB v2.17 + management API, its service and upgrade runs, and the pks-server role.
export { Broker } from './broker.js';
export type { BrokerOptions } from './broker.js';
export { BrokerService } from './service/brokerService.js';
export { PKS_SERVICE_ID, PKS_SERVICE_NAME, brokerCatalog } from './service/catalog.js';
export type {
  BrokerServiceOptions,
  ClusterCaSource,
  RequestMeta,
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
export { createOsbHandler } from './http/osbHandler.js';
export {
  FIELDS_SINCE,
  ENDPOINTS_SINCE,
  HEADERS_SINCE,
  MIN_MINOR_VERSION,
  MAX_MINOR_VERSION,
} from './http/osbVersions.js';
export { UpgradeRuns, ODB_UPGRADE_DEFAULTS } from './upgrades/upgradeRuns.js';
export type { UpgradeRunDefaults } from './upgrades/upgradeRuns.js';
export { OperationDriver } from './operations/operationDriver.js';
export type { OperationDriverOptions } from './operations/operationDriver.js';
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
