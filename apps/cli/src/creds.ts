import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError, NOT_LOGGED_IN_MESSAGE } from './errors.js';

/** What `pks login` keeps: enough to call the API and to refresh the access token without a password. */
export interface Creds {
  api: string;
  uaa: string;
  username: string;
  clientId: string;
  /** Only for client-credentials logins: a client has no refresh token, so we grant again. */
  clientSecret?: string;
  accessToken: string;
  refreshToken?: string;
  /** PEM the API and UAA certificates are checked against; absent with `-k`. */
  caCert?: string;
  skipSslValidation?: boolean;
}

/** `$PKS_HOME/creds.yml`, default `~/.pks/creds.yml` (DESIGN §6). */
export function credsPath(env: NodeJS.ProcessEnv): string {
  const home = env.PKS_HOME ?? join(env.HOME ?? homedir(), '.pks');
  return join(home, 'creds.yml');
}

export async function readCreds(env: NodeJS.ProcessEnv): Promise<Creds> {
  let text: string;
  try {
    text = await readFile(credsPath(env), 'utf8');
  } catch {
    throw new CliError(NOT_LOGGED_IN_MESSAGE);
  }
  const y = parse(text) as Record<string, unknown> | null;
  if (!y || typeof y.api !== 'string' || typeof y.access_token !== 'string') {
    throw new CliError(NOT_LOGGED_IN_MESSAGE);
  }
  const str = (k: string) => (typeof y[k] === 'string' ? (y[k] as string) : undefined);
  return {
    api: y.api,
    uaa: str('uaa') ?? '',
    username: str('username') ?? '',
    clientId: str('client_id') ?? 'pks_cli',
    ...(str('client_secret') !== undefined ? { clientSecret: str('client_secret')! } : {}),
    accessToken: y.access_token,
    ...(str('refresh_token') !== undefined ? { refreshToken: str('refresh_token')! } : {}),
    ...(str('ca_cert') !== undefined ? { caCert: str('ca_cert')! } : {}),
    ...(y.skip_ssl_validation === true ? { skipSslValidation: true } : {}),
  };
}

/** Writes creds.yml readable by its owner only: it holds bearer tokens (and maybe a client secret). */
export async function writeCreds(env: NodeJS.ProcessEnv, creds: Creds): Promise<void> {
  const path = credsPath(env);
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const doc = {
    api: creds.api,
    uaa: creds.uaa,
    username: creds.username,
    client_id: creds.clientId,
    client_secret: creds.clientSecret,
    access_token: creds.accessToken,
    refresh_token: creds.refreshToken,
    ca_cert: creds.caCert,
    skip_ssl_validation: creds.skipSslValidation ?? false,
  };
  await writeFile(path, stringify(doc), { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its bits unless we set them.
  await chmod(path, 0o600);
}

export async function removeCreds(env: NodeJS.ProcessEnv): Promise<void> {
  await rm(credsPath(env), { force: true });
}
