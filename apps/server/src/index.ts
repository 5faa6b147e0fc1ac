export { startServer, ADMIN_PASSWORD_FILE } from './server.js';
export type { RunningServer, StartServerOptions, StartedRole } from './server.js';
export { runServerCli, parseRoles } from './cli.js';
export type { CliIo } from './cli.js';
export { availableRoles } from './availableRoles.js';
export { formatBanner } from './banner.js';
