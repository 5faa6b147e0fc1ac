export { uaaRole } from './role.js';
export { startUaaServer } from './server.js';
export type { UaaServer, UaaServerOptions } from './server.js';
export {
  UaaClientId,
  PksScope,
  BoshScope,
  UaaScope,
  UaaAudience,
  DEFAULT_USER_GROUPS,
  UAA_ZONE_ID,
  UAA_ORIGIN,
  ADMIN_CLIENT_SECRET,
  ADMIN_CLIENT_SECRET_FILE,
  DIRECTOR_CLIENT_SECRET_FILE,
  UAA_URL_FILE,
} from './constants.js';
export { loadDirectorClientSecret } from './secrets.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { DEFAULT_LOCKOUT_POLICY, DEFAULT_PASSWORD_POLICY } from './context.js';
export type { LockoutPolicy, PasswordPolicy } from './context.js';
export type { AccessTokenClaims, TokenResponse } from './tokenService.js';
