export { runAdminCli } from './adminCli.js';
export type { AdminCliIo } from './adminCli.js';
