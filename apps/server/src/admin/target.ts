import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { API_URL_FILE } from '@openpks/api';
import {
  BROKER_PASSWORD_FILE,
  BROKER_URL_FILE,
  BROKER_USERNAME,
  type BrokerClientOptions,
} from '@openpks/broker';
import { ADMIN_CLIENT_SECRET_FILE, UAA_URL_FILE, UaaClientId } from '@openpks/uaa';
import { ADMIN_PASSWORD_FILE } from '../server.js';
import type { ApiTarget } from './apiAdminClient.js';
import type { UaaTarget } from './uaaAdminClient.js';

/** Where the generated CA sits in the data directory (TlsAuthority's layout). */
const CA_FILE = 'tls/ca.crt';

export interface TargetOptions {
  dataDir?: string;
  brokerUrl?: string;
  apiUrl?: string;
  adminUser?: string;
  url?: string;
  caCert?: string;
  clientSecret?: string;
}

/** A target that cannot be found: the message says what to pass instead. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TargetError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** `--data-dir`, else PKS_DATA_DIR, else pks-server's default `./.pks-data`. */
function dataDirOf(options: TargetOptions, env: Record<string, string | undefined>, cwd: string): string {
  return resolve(cwd, options.dataDir ?? (env.PKS_DATA_DIR || './.pks-data'));
}

/** The CA to trust: `--ca-cert` (which must exist), else the installation's CA in the data directory. */
async function caPemOf(options: TargetOptions, dataDir: string, cwd: string): Promise<string | undefined> {
  if (!options.caCert) return readIfPresent(resolve(dataDir, CA_FILE));
  const caPem = await readIfPresent(resolve(cwd, options.caCert));
  if (!caPem) throw new TargetError(`--ca-cert ${options.caCert} does not exist or is empty`);
  return caPem;
}

/**
 * The UAA to talk to and how: flags first, then the environment, then what pks-server left in the data
 * directory (the UAA's URL, the installation's CA and the generated `admin` client secret).
 */
async function uaaUrlOf(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  dataDir: string,
): Promise<string> {
  const url = options.url ?? (env.PKS_UAA_URL || (await readIfPresent(resolve(dataDir, UAA_URL_FILE))));
  if (!url) {
    throw new TargetError(
      `no UAA URL: ${resolve(dataDir, UAA_URL_FILE)} does not exist (start pks-server with the uaa role first, or pass --url / set PKS_UAA_URL, or --data-dir)`,
    );
  }
  if (!/^https:\/\//.test(url)) throw new TargetError(`the UAA URL must be https://…, got ${url}`);
  return url;
}

export async function resolveTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<UaaTarget> {
  const dataDir = dataDirOf(options, env, cwd);
  const url = await uaaUrlOf(options, env, dataDir);
  const caPem = await caPemOf(options, dataDir, cwd);
  const clientSecret =
    options.clientSecret ??
    (env.PKS_UAA_ADMIN_CLIENT_SECRET || (await readIfPresent(resolve(dataDir, ADMIN_CLIENT_SECRET_FILE))));
  if (!clientSecret) {
    throw new TargetError(
      `no admin client secret: ${resolve(dataDir, ADMIN_CLIENT_SECRET_FILE)} does not exist (pass --client-secret or set PKS_UAA_ADMIN_CLIENT_SECRET)`,
    );
  }
  return { url, caPem, clientId: UaaClientId.ADMIN, clientSecret };
}

/**
 * The broker to talk to: `--broker-url` or PKS_BROKER_URL, else what the running broker left in the data
 * directory; its password (PKS_BROKER_PASSWORD, else the data directory's) and the installation's CA.
 */
export async function resolveBrokerTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<BrokerClientOptions> {
  const dataDir = dataDirOf(options, env, cwd);
  const url =
    options.brokerUrl ?? (env.PKS_BROKER_URL || (await readIfPresent(resolve(dataDir, BROKER_URL_FILE))));
  if (!url) {
    throw new TargetError(
      `no broker URL: ${resolve(dataDir, BROKER_URL_FILE)} does not exist (start pks-server with the broker role first, or pass --broker-url / set PKS_BROKER_URL, or --data-dir)`,
    );
  }
  if (!/^https:\/\//.test(url)) throw new TargetError(`the broker URL must be https://…, got ${url}`);
  const password = env.PKS_BROKER_PASSWORD || (await readIfPresent(resolve(dataDir, BROKER_PASSWORD_FILE)));
  if (!password) {
    throw new TargetError(
      `no broker password: ${resolve(dataDir, BROKER_PASSWORD_FILE)} does not exist (set PKS_BROKER_PASSWORD)`,
    );
  }
  const caPem = await caPemOf(options, dataDir, cwd);
  return { url, ca: caPem, username: BROKER_USERNAME, password };
}

/**
 * The PKS API and who calls it: `--api-url` or PKS_API_URL, else what the running API left in the data
 * directory; the installation's admin user (`--admin-user`, PKS_ADMIN_USER, else `admin`, who holds
 * pks.clusters.admin) with its password (PKS_ADMIN_PASSWORD, else the one pks-server generated into the
 * data directory), signing in at the installation's UAA.
 */
export async function resolveApiTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<ApiTarget> {
  const dataDir = dataDirOf(options, env, cwd);
  const apiUrl = options.apiUrl ?? (env.PKS_API_URL || (await readIfPresent(resolve(dataDir, API_URL_FILE))));
  if (!apiUrl) {
    throw new TargetError(
      `no API URL: ${resolve(dataDir, API_URL_FILE)} does not exist (start pks-server with the api role first, or pass --api-url / set PKS_API_URL, or --data-dir)`,
    );
  }
  if (!/^https:\/\//.test(apiUrl)) throw new TargetError(`the API URL must be https://…, got ${apiUrl}`);
  const uaaUrl = await uaaUrlOf(options, env, dataDir);
  const username = options.adminUser ?? (env.PKS_ADMIN_USER || 'admin');
  const password = env.PKS_ADMIN_PASSWORD || (await readIfPresent(resolve(dataDir, ADMIN_PASSWORD_FILE)));
  if (!password) {
    throw new TargetError(
      `no password for ${username}: ${resolve(dataDir, ADMIN_PASSWORD_FILE)} does not exist (set PKS_ADMIN_PASSWORD)`,
    );
  }
  return { apiUrl, uaaUrl, caPem: await caPemOf(options, dataDir, cwd), username, password };
}
