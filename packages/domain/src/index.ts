export {
  ErrorCode,
  PksError,
  InputError,
  InputErrors,
  NotFoundError,
  ConflictError,
  ForbiddenError,
  UnauthenticatedError,
  QuotaExceededError,
  InternalError,
  ExitCode,
  isPksError,
  invariant,
  httpStatusByCode,
  httpStatusOf,
  exitCodeByCode,
  exitCodeOf,
  errorExtensionsOf,
  describeInputError,
  describeInputErrors,
  badInputsOf,
  throwInputErrors,
  collectInputErrors,
} from './errors.js';
export type { PksErrorOptions, InputErrorOptions, BadInput } from './errors.js';
export { LastAction, LastActionState, CLUSTER_NAME_MAX_LENGTH, validateClusterName } from './cluster.js';
export { validateHostname } from './hostname.js';
export { MASTER_INSTANCE_COUNTS } from './plan.js';
export {
  DRAIN_SETTING_KEYS,
  DRAIN_RULES,
  drainSettingAllowed,
  drainSettingKeyOf,
  validateDrainSettings,
} from './drain.js';
export type { DrainSettingKey, DrainRule, ValidateDrainOptions } from './drain.js';
export type { Plan, MasterInstances, DrainSettings, InstanceGroupSizing, VmType } from './plan.js';
export {
  QUOTA_LIMIT_FIELDS,
  QUOTA_RULES,
  SOME_LIMIT,
  limitsAnything,
  validateQuotaLimit,
  validateQuotaOwner,
  footprintOf,
  quotaExceeded,
} from './quota.js';
export type { QuotaLimit, Footprint, QuotaRequest } from './quota.js';
