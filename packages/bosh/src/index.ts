export { DirectorClient } from './client/directorClient.js';
export type {
  DirectorClientOptions,
  DeployOptions,
  FollowOptions,
  TaskListFilter,
} from './client/directorClient.js';
export {
  ConfigServerClient,
  CONFIG_SERVER_FEATURE,
  configServerName,
  configServerUrlOf,
} from './client/configServerClient.js';
export type {
  ConfigServerClientOptions,
  ConfigServerCredential,
  CertificateValue,
} from './client/configServerClient.js';
export { DirectorTaskError } from './client/errors.js';
export { ACTIVE_TASK_STATES, TaskState } from './protocol/types.js';
export type {
  DirectorTask,
  DirectorTaskState,
  DirectorInfo,
  TaskEvent,
  DeploymentSummary,
  Instance,
  ErrandResult,
  DirectorConfig,
  Stemcell,
  Release,
  ManifestDiff,
} from './protocol/types.js';
export {
  EmbeddedDirector,
  DEFAULT_DIRECTOR_WORKERS,
  TASK_EVENT_STREAM_FEATURE,
} from './director/embeddedDirector.js';
export type { EmbeddedDirectorOptions, SimOptions } from './director/embeddedDirector.js';
export { createDirectorRole, directorRole } from './director/directorRole.js';
export type { DirectorRoleOptions } from './director/directorRole.js';
export { directorMigrations } from './director/migrations.js';
export { parseManifest, maxInFlightOf, Lifecycle, VariableType } from './manifest/manifest.js';
export type { Manifest, InstanceGroup, Job, UpdatePolicy, VariableDefinition } from './manifest/manifest.js';
export { CpiError, CpiTimeoutError } from './cpi/cpi.js';
export type { Cpi, CpiInfo, NetworkSettings } from './cpi/cpi.js';
export { SimCpi, CPI_METHODS, DEFAULT_SIM_IP_RANGE } from './cpi/simCpi.js';
export type { SimCpiOptions, SimFault, SimVm, CpiMethod } from './cpi/simCpi.js';
export { SIM_KUBERNETES_VERSION } from './sim/kubeApi.js';
