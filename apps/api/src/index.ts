export { apiRole, createApiRole, API_URL_FILE } from './role.js';
export type { ApiRoleOptions } from './role.js';
export { startApiServer } from './http/apiServer.js';
export type { ApiServer, ApiServerOptions } from './http/apiServer.js';
export { buildApiSchema, printApiSchema } from './graphql/schema.js';
export { DEFAULT_QUERY_LIMITS } from './http/guards.js';
export type { QueryLimits } from './http/guards.js';
export { apiMigrations } from './store/migrations.js';
export { PKS_VERSION, K8S_VERSION } from './clusters/versions.js';
