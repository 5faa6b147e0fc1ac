/** What the console's server needs, as pks-server's console role passes it (environment variables). */
export interface ConsoleEnv {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host name for the default public URL, http://<externalHost>:<port>. */
  externalHost: string;
  /** Where browsers reach the console, when not the default. */
  externalUrl?: string;
  /** The UAA base URL, e.g. https://localhost:8443 (its issuer is <url>/oauth/token). */
  uaaUrl: string;
  /** The PKS API base URL, e.g. https://127.0.0.1:9021 (GraphQL at /graphql). */
  apiUrl: string;
  /** PEM file of the CA that signed the UAA's and API's certificates. */
  caFile?: string;
}

/** A missing or malformed variable, named. */
export class ConsoleEnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConsoleEnvError';
  }
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConsoleEnvError(name, 'is required');
  return value;
}

function absoluteUrl(env: Record<string, string | undefined>, name: string): string {
  const value = required(env, name);
  if (!URL.canParse(value)) throw new ConsoleEnvError(name, `must be an absolute URL; got ${value}`);
  return value.replace(/\/+$/, '');
}

export function readConsoleEnv(env: Record<string, string | undefined>): ConsoleEnv {
  const portText = env.PKS_CONSOLE_PORT ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new ConsoleEnvError('PKS_CONSOLE_PORT', `must be a port number 0-65535; got ${portText}`);
  required(env, 'NEXTAUTH_SECRET');
  return {
    host: env.PKS_CONSOLE_HOST || '127.0.0.1',
    port,
    externalHost: env.PKS_CONSOLE_EXTERNAL_HOST || 'localhost',
    ...(env.PKS_CONSOLE_EXTERNAL_URL ? { externalUrl: absoluteUrl(env, 'PKS_CONSOLE_EXTERNAL_URL') } : {}),
    uaaUrl: absoluteUrl(env, 'PKS_UAA_URL'),
    apiUrl: absoluteUrl(env, 'PKS_API_URL'),
    ...(env.NODE_EXTRA_CA_CERTS ? { caFile: env.NODE_EXTRA_CA_CERTS } : {}),
  };
}
