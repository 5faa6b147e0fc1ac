import type { PksConfig, Role } from '@openpks/config';
import type { Database } from '@openpks/db';
import type { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import type { Logger } from './logger.js';
import type { SharedSecrets } from './sharedSecrets.js';

/**
 * Where each role can be reached. Roles started in this process report their bound address (port 0 is
 * resolved); the others are expected at `https://<external_host>:<configured port>`. A role finds the
 * others only through this, never through another role's objects: components meet through their APIs.
 */
export interface Endpoints {
  url(role: Role): string;
}

/** What `pks-server` hands every role at start: the validated config and the shared facilities. */
export interface RoleDeps {
  dataDir: DataDirectory;
  tls: TlsAuthority;
  /** AES-256-GCM box for secrets at rest, keyed by `secrets.key_file` or the data directory's key. */
  secrets: SecretBox;
  /** The secrets every replica of a role needs, one copy in the database (sealed by `secrets`). */
  sharedSecrets: SharedSecrets;
  /** The shared database; each role owns (and migrates) its own schema in it. */
  db: Database;
  logger: Logger;
  endpoints: Endpoints;
  /** The UAA admin user's password (from PKS_ADMIN_PASSWORD, or generated once and shared). */
  adminPassword: string;
}

/** A role once started. */
export interface RunningRole {
  /** The base URL it serves, with the bound port. */
  url: string;
  /** Extra lines for the start-up banner (e.g. the UAA admin user). Never secrets other than the admin's. */
  banner?: Record<string, string>;
  /** Graceful drain: stop accepting, finish in-flight work within the deadline, release resources. */
  stop(): Promise<void>;
}

/** One role of `pks-server` (uaa, api, broker, director, nsx). */
export interface RoleModule {
  readonly name: Role;
  /** Roles that must be started first when they run in the same process (e.g. api needs uaa). */
  readonly after?: readonly Role[];
  start(config: PksConfig, deps: RoleDeps): Promise<RunningRole>;
}
