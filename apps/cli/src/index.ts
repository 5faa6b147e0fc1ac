export { runCli, buildProgram, CLI_VERSION } from './cli.js';
export type { Io } from './io.js';
export { ApiClient, normalizeApi, cliErrorOf } from './client.js';
export { readCreds, writeCreds, removeCreds, credsPath } from './creds.js';
export type { Creds } from './creds.js';
export { mergeKubeconfig, kubeconfigPath, writeMergedKubeconfig } from './kubeconfig.js';
export { CliError, UsageError, PRIVILEGES_MESSAGE, NOT_LOGGED_IN_MESSAGE } from './errors.js';
export { clusterJson, planJson, networkProfileJson, taskJson } from './format.js';
export * as operations from './operations.js';
