export type { RoleModule, RoleDeps, RunningRole, Endpoints } from './role.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { listenHttps } from './httpsListener.js';
export type { HttpsListener, HttpsListenerOptions, RequestHandler, HealthCheck } from './httpsListener.js';
export { SharedSecrets, SHARED_SECRETS_SCHEMA } from './sharedSecrets.js';
export type { SharedSecretOptions } from './sharedSecrets.js';
