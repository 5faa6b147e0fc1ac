import { generatePassword, DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { openDatabase, type Database } from '@openpks/db';
import { ROLES, type PksConfig, type Role } from '@openpks/config';
import { SharedSecrets, type Logger, type RoleModule, type RunningRole } from '@openpks/role';
import { ProcessEndpoints } from './endpoints.js';
import { orderRoles } from './roleOrder.js';

export const ADMIN_PASSWORD_FILE = 'secrets/admin-password';
const ADMIN_PASSWORD_SECRET = 'uaa.admin-password';

export interface StartServerOptions {
  config: PksConfig;
  /** The role modules this build offers. */
  available: readonly RoleModule[];
  /** The roles to start (already validated against `available`). */
  roles: readonly Role[];
  logger: Logger;
}

export interface StartedRole {
  name: Role;
  url: string;
  banner: Record<string, string>;
}

/** A role this process calls but does not run, and the setting that says where it is. */
export interface RemoteRole {
  name: Role;
  url: string;
  source: string;
}

export interface RunningServer {
  roles: StartedRole[];
  /** The roles that run elsewhere (another pks-server process or machine, a real BOSH or NSX Manager). */
  elsewhere: RemoteRole[];
  caPath: string;
  dataDir: string;
  database: string;
  admin: { username: string; password: string; passwordSource: string };
  /**
   * Settles with the reason if something the roles cannot run without is lost for good while they run
   * (embedded PGlite's worker thread died): every request would fail, so the caller stops the server
   * and exits non-zero for a supervisor to restart it. Never settles otherwise.
   */
  lost: Promise<Error>;
  /** Stops the roles in reverse start order, then closes the database and releases the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts the chosen roles in one process. Everything they share is prepared once here: the data
 * directory (locked against a second server), the TLS authority, the secret box, the admin password
 * and the database. A role that fails to start stops the ones already started.
 */
export async function startServer({
  config,
  available,
  roles,
  logger,
}: StartServerOptions): Promise<RunningServer> {
  const dataDir = await DataDirectory.open(config.dataDir);
  const unlock = await dataDir.lock('pks-server');
  const cleanups: (() => Promise<void>)[] = [unlock];
  const started: { module: RoleModule; running: RunningRole }[] = [];
  let db: Database | undefined;

  const stopAll = async () => {
    for (const { module, running } of started.splice(0).reverse()) {
      try {
        await running.stop();
        logger.info({ role: module.name }, 'role stopped');
      } catch (error) {
        logger.error({ err: error, role: module.name }, 'role did not stop cleanly');
      }
    }
    if (db) await db.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const tls = await TlsAuthority.load(dataDir, {
      hostnames: [config.externalHost, ...config.tls.hostnames],
      ...(config.tls.certFile && config.tls.keyFile && config.tls.caFile
        ? {
            operatorSupplied: {
              certFile: config.tls.certFile,
              keyFile: config.tls.keyFile,
              caFile: config.tls.caFile,
            },
          }
        : config.tls.caFile && config.tls.caKeyFile
          ? { issuingCa: { certFile: config.tls.caFile, keyFile: config.tls.caKeyFile } }
          : {}),
    });
    const secrets = config.secrets.keyFile
      ? await SecretBox.fromKeyFile(config.secrets.keyFile)
      : await SecretBox.fromDataDirectory(dataDir);
    let reportLost!: (error: Error) => void;
    const lost = new Promise<Error>((resolve) => (reportLost = resolve));
    db = await openDatabase({
      url: config.database.url,
      dataDir: dataDir.root,
      logger,
      onLost: (error) => reportLost(error),
    });
    const sharedSecrets = new SharedSecrets(db, secrets, dataDir);
    // Shared, so that every machine's banner shows the password the UAA admin user really has.
    const adminPassword =
      config.uaa.adminPassword ??
      (await sharedSecrets.loadOrCreate(ADMIN_PASSWORD_SECRET, () => generatePassword(), {
        file: ADMIN_PASSWORD_FILE,
      }));
    const endpoints = new ProcessEndpoints(config);

    for (const module of orderRoles(available, roles)) {
      const roleLogger = logger.child({ role: module.name });
      const running = await module.start(config, {
        dataDir,
        tls,
        secrets,
        sharedSecrets,
        db,
        logger: roleLogger,
        endpoints,
        adminPassword,
      });
      started.push({ module, running });
      endpoints.register(module.name, running.url);
      roleLogger.info({ url: running.url }, 'role started');
    }

    return {
      roles: started.map(({ module, running }) => ({
        name: module.name,
        url: running.url,
        banner: running.banner ?? {},
      })),
      elsewhere: remoteRoles(
        config,
        endpoints,
        started.map(({ module }) => module.name),
      ),
      caPath: tls.caPath,
      dataDir: dataDir.root,
      database: config.database.url
        ? redactUrl(config.database.url)
        : `embedded PGlite in ${dataDir.path('pgdata')}`,
      admin: {
        username: 'admin',
        password: adminPassword,
        passwordSource: config.uaa.adminPassword ? 'PKS_ADMIN_PASSWORD' : dataDir.path(ADMIN_PASSWORD_FILE),
      },
      lost,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Every role the started ones may call that is not among them. The console is called by no role; a
 * remote BOSH Director or a real NSX Manager replaces the embedded role of that name.
 */
function remoteRoles(config: PksConfig, endpoints: ProcessEndpoints, local: readonly Role[]): RemoteRole[] {
  const remote: RemoteRole[] = [];
  for (const role of ROLES) {
    if (role === 'console' || local.includes(role)) continue;
    if (role === 'director' && config.director.type === 'remote') {
      remote.push({ name: role, url: config.director.url, source: 'director.url (a BOSH Director)' });
    } else if (role === 'nsx' && config.nsx.type === 'manager') {
      remote.push({ name: role, url: config.nsx.url, source: 'nsx.url (an NSX Manager)' });
    } else {
      remote.push({ name: role, ...endpoints.elsewhere(role) });
    }
  }
  return remote;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '*****';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable DATABASE_URL)';
  }
}
