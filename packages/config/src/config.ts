import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, InputErrors, type Plan, type VmType } from '@openpks/domain';
import { DEFAULT_PORTS, ROLES, type Role } from './roles.js';
import { fileSchema, toPlan, vmTypesOf } from './schema.js';

export interface ListenAddress {
  host: string;
  /** 0 asks the OS for a free port; the role reports the bound one. */
  port: number;
  /**
   * Where other processes reach this role when it does not run in theirs (an https:// origin); without
   * it, `https://<external_host>:<port>`.
   */
  url?: string;
}

export type SimCpiMethod =
  | 'info'
  | 'create_stemcell'
  | 'delete_stemcell'
  | 'create_vm'
  | 'delete_vm'
  | 'has_vm'
  | 'reboot_vm'
  | 'set_vm_metadata'
  | 'create_disk'
  | 'delete_disk'
  | 'attach_disk'
  | 'detach_disk'
  | 'has_disk';

/** The sim CPI's settings (embedded Director only; the VMs it makes are simulated). */
export interface SimSettings {
  ipRange: string;
  latencyMs: number | Partial<Record<SimCpiMethod, number>>;
  kubePort: number;
  cpiTimeoutMs: number;
  faults: {
    method: SimCpiMethod;
    instanceGroup?: string;
    nth?: number;
    probability?: number;
    hang?: boolean;
    message?: string;
    times?: number;
  }[];
}

export interface BrokerSettings {
  oidc: { usernameClaim: string; usernamePrefix: string; groupsClaim: string; groupsPrefix: string };
  upgrades: { canaries: number; maxInFlight: number; attemptLimit: number; attemptIntervalSeconds: number };
}

export type DirectorTarget =
  | { type: 'embedded'; workers: number; sim: SimSettings }
  | { type: 'remote'; url: string; caFile?: string; clientId: string; clientSecret: string };

/** The installation's NSX-T objects that profiles fall back to (the PKS tile's NSX settings). */
export interface NsxTopologySettings {
  t0RouterId: string;
  nodeIpBlockId: string;
  podIpBlockId: string;
  floatingIpPoolId: string;
}

export type NsxTarget =
  | {
      type: 'embedded';
      topology: NsxTopologySettings;
      /** The simulator's seed address space. */
      sim: {
        nodeIpBlockCidr: string;
        podIpBlockCidr: string;
        floatingIpPool: { cidr: string; start: string; end: string };
      };
    }
  | {
      type: 'manager';
      url: string;
      username: string;
      password: string;
      caFile?: string;
      topology: NsxTopologySettings;
    };

/** The web console's settings (its listen address is `roles.console`). */
export interface ConsoleSettings {
  /** Where browsers reach it, without a trailing slash; undefined: http://<external_host>:<bound port>. */
  externalUrl?: string;
}

/** The validated configuration, loaded once at start-up and passed to every role. */
export interface PksConfig {
  /** Where it came from: a file path, or "built-in defaults". */
  source: string;
  /** Absolute path of the data directory (database, CA, keys, generated secrets). */
  dataDir: string;
  /** Host name put into URLs, issuer and certificates for clients to reach the roles. */
  externalHost: string;
  database: { url?: string };
  log: {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
    pretty: boolean | 'auto';
  };
  roles: Record<Role, ListenAddress>;
  tls: { hostnames: string[]; certFile?: string; keyFile?: string; caFile?: string; caKeyFile?: string };
  /** The key file sealing secrets at rest (shared by every machine); default: the data directory's. */
  secrets: { keyFile?: string };
  uaa: {
    accessTokenValidity: number;
    refreshTokenValidity: number;
    consoleRedirectUris: string[];
    /** From PKS_ADMIN_PASSWORD; otherwise generated once into the data directory. */
    adminPassword?: string;
  };
  console: ConsoleSettings;
  director: DirectorTarget;
  broker: BrokerSettings;
  nsx: NsxTarget;
  /** The cloud config's VM types (built-in ones and pks.yaml's `vm_types`): cpu, ram and disk of each. */
  vmTypes: VmType[];
  plans: Plan[];
}

/** Environment variables that override pks.yaml (documented in the README). */
export const ENV_OVERRIDES = {
  PKS_CONFIG: 'path of pks.yaml',
  PKS_DATA_DIR: 'data directory (default ./.pks-data)',
  DATABASE_URL: 'postgres:// URL of a PostgreSQL server (default: embedded PGlite in the data directory)',
  PKS_ADMIN_PASSWORD: "the UAA admin user's password (default: generated once, stored in the data directory)",
  PKS_HOST: 'bind host for every role (default 127.0.0.1)',
  PKS_EXTERNAL_HOST: 'host name used in URLs and certificates (default localhost)',
  PKS_LOG_LEVEL: 'trace|debug|info|warn|error|fatal|silent',
  ...(Object.fromEntries(
    ROLES.map((role) => [
      `PKS_${role.toUpperCase()}_PORT`,
      `port of the ${role} role (default ${DEFAULT_PORTS[role]})`,
    ]),
  ) as Record<`PKS_${Uppercase<Role>}_PORT`, string>),
} as const;

export interface LoadConfigOptions {
  /** The environment to read overrides from (pass `process.env`; tests pass their own). */
  env?: Record<string, string | undefined>;
  /** Path of pks.yaml; defaults to `env.PKS_CONFIG`, else built-in defaults. */
  path?: string;
  /** Base for relative paths (default `process.cwd()`). */
  cwd?: string;
}

const BUILT_IN = 'built-in defaults';

export function loadConfig(options: LoadConfigOptions = {}): PksConfig {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const path = options.path ?? (env.PKS_CONFIG || undefined);
  let raw: unknown = {};
  let source = BUILT_IN;
  if (path !== undefined) {
    source = resolve(cwd, path);
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      throw new InputError('PKS_CONFIG', `cannot read config file ${source}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    raw = parseYaml(text, source);
  }
  return parseConfig(applyEnv(raw, env), { source, env, cwd });
}

/** Validates an already-parsed pks.yaml object. */
export function parseConfig(
  raw: unknown,
  {
    source = BUILT_IN,
    env = {},
    cwd = process.cwd(),
  }: { source?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): PksConfig {
  const result = fileSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw configErrors(result.error, source);
  const file = result.data;
  const vmTypes = vmTypesOf(file.vm_types);
  const baseDir = source === BUILT_IN ? cwd : resolve(source, '..');
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const dataDir = env.PKS_DATA_DIR ? resolve(cwd, env.PKS_DATA_DIR) : abs(file.data_dir ?? './.pks-data');

  return {
    source,
    dataDir,
    externalHost: file.external_host,
    database: file.database.url ? { url: file.database.url } : {},
    log: file.log,
    roles: file.roles,
    tls: {
      hostnames: file.tls.hostnames,
      ...(file.tls.cert_file ? { certFile: abs(file.tls.cert_file) } : {}),
      ...(file.tls.key_file ? { keyFile: abs(file.tls.key_file) } : {}),
      ...(file.tls.ca_file ? { caFile: abs(file.tls.ca_file) } : {}),
      ...(file.tls.ca_key_file ? { caKeyFile: abs(file.tls.ca_key_file) } : {}),
    },
    secrets: {
      ...(env.PKS_SECRET_KEY_FILE
        ? { keyFile: resolve(cwd, env.PKS_SECRET_KEY_FILE) }
        : file.secrets.key_file
          ? { keyFile: abs(file.secrets.key_file) }
          : {}),
    },
    uaa: {
      accessTokenValidity: file.uaa.access_token_validity,
      refreshTokenValidity: file.uaa.refresh_token_validity,
      consoleRedirectUris: file.uaa.console_redirect_uris,
      ...(env.PKS_ADMIN_PASSWORD ? { adminPassword: env.PKS_ADMIN_PASSWORD } : {}),
    },
    console: file.console.external_url ? { externalUrl: file.console.external_url.replace(/\/+$/, '') } : {},
    director:
      file.director.type === 'embedded'
        ? {
            type: 'embedded',
            workers: file.director.workers,
            sim: {
              ipRange: file.director.sim.ip_range,
              latencyMs: file.director.sim.latency_ms,
              kubePort: file.director.sim.kube_port,
              cpiTimeoutMs: file.director.sim.cpi_timeout_ms,
              faults: file.director.sim.faults.map(({ instance_group, ...fault }) => ({
                ...fault,
                ...(instance_group !== undefined ? { instanceGroup: instance_group } : {}),
              })),
            },
          }
        : {
            type: 'remote',
            url: file.director.url,
            clientId: file.director.client_id,
            clientSecret: file.director.client_secret,
            ...(file.director.ca_file ? { caFile: abs(file.director.ca_file) } : {}),
          },
    broker: {
      oidc: {
        usernameClaim: file.broker.oidc.username_claim,
        usernamePrefix: file.broker.oidc.username_prefix,
        groupsClaim: file.broker.oidc.groups_claim,
        groupsPrefix: file.broker.oidc.groups_prefix,
      },
      upgrades: {
        canaries: file.broker.upgrades.canaries,
        maxInFlight: file.broker.upgrades.max_in_flight,
        attemptLimit: file.broker.upgrades.attempt_limit,
        attemptIntervalSeconds: file.broker.upgrades.attempt_interval_seconds,
      },
    },
    nsx:
      file.nsx.type === 'embedded'
        ? {
            type: 'embedded',
            topology: nsxTopologyOf(file.nsx),
            sim: {
              nodeIpBlockCidr: file.nsx.sim.node_ip_block_cidr,
              podIpBlockCidr: file.nsx.sim.pod_ip_block_cidr,
              floatingIpPool: file.nsx.sim.floating_ip_pool,
            },
          }
        : {
            type: 'manager',
            url: file.nsx.url,
            username: file.nsx.username,
            password: file.nsx.password,
            ...(file.nsx.ca_file ? { caFile: abs(file.nsx.ca_file) } : {}),
            topology: nsxTopologyOf(file.nsx),
          },
    vmTypes: [...vmTypes.values()],
    plans: Object.entries(file.plans).map(([name, plan]) => toPlan(name, plan, vmTypes)),
  };
}

function nsxTopologyOf(nsx: {
  t0_router_id: string;
  node_ip_block_id: string;
  pod_ip_block_id: string;
  floating_ip_pool_id: string;
}): NsxTopologySettings {
  return {
    t0RouterId: nsx.t0_router_id,
    nodeIpBlockId: nsx.node_ip_block_id,
    podIpBlockId: nsx.pod_ip_block_id,
    floatingIpPoolId: nsx.floating_ip_pool_id,
  };
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InputErrors(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? `line ${at.line}, column ${at.col}` : 'unknown position';
        return new InputError(undefined, `${source}: ${where}: ${e.message.split('\n')[0]}`);
      }),
      `${source} is not valid YAML:\n${doc.errors.map((e) => `  ${e.message.split('\n')[0]}`).join('\n')}`,
    );
  }
  return doc.toJS() ?? {};
}

/** Environment overrides are applied to the raw file so they are validated like the file itself. */
function applyEnv(raw: unknown, env: Record<string, string | undefined>): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const file = structuredClone(raw) as Record<string, unknown>;
  const section = (key: string) => {
    const value = file[key];
    if (value === undefined) file[key] = {};
    return (typeof file[key] === 'object' && file[key] !== null ? file[key] : {}) as Record<string, unknown>;
  };
  if (env.DATABASE_URL) section('database').url = env.DATABASE_URL;
  if (env.PKS_EXTERNAL_HOST) file.external_host = env.PKS_EXTERNAL_HOST;
  if (env.PKS_LOG_LEVEL) section('log').level = env.PKS_LOG_LEVEL;
  for (const role of ROLES) {
    const portVar = env[`PKS_${role.toUpperCase()}_PORT`];
    const urlVar = env[`PKS_${role.toUpperCase()}_URL`];
    if (portVar === undefined && urlVar === undefined && !env.PKS_HOST) continue;
    const roles = section('roles');
    const entry = (roles[role] ??= {}) as Record<string, unknown>;
    if (env.PKS_HOST) entry.host = env.PKS_HOST;
    if (portVar !== undefined) entry.port = /^\d+$/.test(portVar) ? Number(portVar) : portVar;
    if (urlVar !== undefined) entry.url = urlVar;
  }
  return file;
}

function configErrors(error: z.ZodError, source: string): InputErrors {
  const errors = error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map(
        (key) =>
          new InputError([...path, key].join('.'), `unknown key "${key}"`, {
            allowed: `the keys documented in the README's configuration reference`,
          }),
      );
    }
    const field = path.length > 0 ? path.join('.') : '(top level)';
    return [new InputError(field, describeIssue(issue))];
  });
  const lines = errors.map((e) => `  ${e.field}: ${e.message}`);
  return new InputErrors(errors, `invalid configuration (${source}):\n${lines.join('\n')}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const envHint = portEnvHint(issue.path);
  if (issue.code === 'invalid_type') {
    const got = 'input' in issue ? describeValue(issue.input) : 'missing';
    if (issue.input === undefined) return `is required (${issue.message.replace(/^Invalid input: /, '')})`;
    return `${issue.message.replace(/^Invalid input: /, '')}; got ${got}${envHint}`;
  }
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${describeValue(issue.input)})` : '';
  return `${issue.message}${got}${envHint}`;
}

function portEnvHint(path: readonly PropertyKey[]): string {
  if (path[0] === 'roles' && (path[2] === 'port' || path[2] === 'url'))
    return ` — set in pks.yaml or PKS_${String(path[1]).toUpperCase()}_${String(path[2]).toUpperCase()}`;
  return '';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
