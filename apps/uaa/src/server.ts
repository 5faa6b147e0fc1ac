import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PksConfig } from '@openpks/config';
import { migrate, type Database } from '@openpks/db';
import { isPksError, httpStatusOf, InputError } from '@openpks/domain';
import type { DataDirectory, SecretBox, TlsAuthority } from '@openpks/pki';
import { listenHttps, type HttpsListener, type Logger, type SharedSecrets } from '@openpks/role';
import { systemClock, type Clock } from './clock.js';
import {
  DEFAULT_LOCKOUT_POLICY,
  DEFAULT_PASSWORD_POLICY,
  type LockoutPolicy,
  type PasswordPolicy,
  type UaaContext,
} from './context.js';
import { UAA_URL_FILE } from './constants.js';
import { UaaError } from './errors.js';
import { SigningKeys } from './keys.js';
import { Router } from './http/router.js';
import { clientRoutes } from './routes/clients.js';
import { loginRoutes } from './routes/login.js';
import { oauthRoutes } from './routes/oauth.js';
import { scimRoutes } from './routes/scim.js';
import { seed } from './seed.js';
import { uaaMigrations } from './store/migrations.js';
import { longestAccessValidity, publishKeysChanged } from './revocations.js';
import { purgeExpired } from './store/tokens.js';

export interface UaaServerOptions {
  config: PksConfig;
  db: Database;
  dataDir: DataDirectory;
  secrets: SecretBox;
  /** Where the UAA keeps the client secrets other roles and replicas need (the database, sealed). */
  sharedSecrets: SharedSecrets;
  tls: TlsAuthority;
  logger: Logger;
  adminPassword: string;
  clock?: Clock;
  lockout?: LockoutPolicy;
  passwordPolicy?: PasswordPolicy;
}

export interface UaaServer {
  /** This replica: `https://<external host>:<bound port>` */
  url: string;
  /** `<roles.uaa.url>/oauth/token`, the same on every replica; without that setting, `<url>/oauth/token`. */
  issuer: string;
  port: number;
  adminClientSecret: string;
  directorClientSecret: string;
  /** Puts a new signing key in charge; the old one stays published until its tokens have expired. */
  /**
   * Puts a new signing key in charge. The old key stays published (and trusted) until every token it
   * signed has expired, unless `retireNow` (a compromised key): then tokens it signed stop working
   * everywhere within seconds.
   */
  rotateSigningKey(options?: { retireNow?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

const PURGE_INTERVAL_MS = 10 * 60_000;

/** Migrates the `uaa` schema, seeds it, loads the signing keys and serves the UAA over HTTPS. */
export async function startUaaServer(options: UaaServerOptions): Promise<UaaServer> {
  const { config, db, logger } = options;
  const clock = options.clock ?? systemClock;
  await migrate(db, { schema: 'uaa', migrations: uaaMigrations, logger: dbLogger(logger) });
  const seeded = await seed({
    db,
    sharedSecrets: options.sharedSecrets,
    adminPassword: options.adminPassword,
    consoleRedirectUris: config.uaa.consoleRedirectUris,
    now: clock.now(),
  });
  const keys = new SigningKeys(db, options.secrets, clock);
  await keys.init();

  // The issuer needs the bound port (port 0 picks one), so the context is completed once listening.
  const ctx: UaaContext = {
    db,
    clock,
    keys,
    logger,
    baseUrl: '',
    issuer: '',
    accessTokenValidity: config.uaa.accessTokenValidity,
    refreshTokenValidity: config.uaa.refreshTokenValidity,
    lockout: options.lockout ?? DEFAULT_LOCKOUT_POLICY,
    passwordPolicy: options.passwordPolicy ?? DEFAULT_PASSWORD_POLICY,
    sessionValidity: 8 * 3600,
  };
  const router = new Router();
  oauthRoutes(router, ctx);
  loginRoutes(router, ctx);
  scimRoutes(router, ctx);
  clientRoutes(router, ctx);

  const handler = (req: IncomingMessage, res: ServerResponse) =>
    router.handle(req, res, (error) => toUaaError(error, logger, req));

  const listen = config.roles.uaa;
  const listener: HttpsListener = await listenHttps({
    role: 'uaa',
    host: listen.host,
    port: listen.port,
    credentials: await options.tls.serverCredentials('uaa'),
    handler,
    logger,
    healthChecks: {
      database: async () => {
        await db.query('SELECT 1');
      },
    },
  });
  // Every replica must name itself alike: a token one replica issued is checked by another, and the API
  // expects the one issuer it discovered through `roles.uaa.url` (a load balancer in front of them all).
  // Without that setting this process is the UAA its clients reach, at its own port.
  const host = config.externalHost.includes(':') ? `[${config.externalHost}]` : config.externalHost;
  const ownUrl = `https://${host}:${listener.port}`;
  ctx.baseUrl = listen.url ?? ownUrl;
  ctx.issuer = `${ctx.baseUrl}/oauth/token`;
  await options.dataDir.write(UAA_URL_FILE, `${ownUrl}\n`);

  const purge = setInterval(() => {
    const now = clock.now();
    const window = Math.max(ctx.lockout.countFailuresWithinSeconds, ctx.lockout.lockoutPeriodSeconds);
    purgeExpired(db, now, new Date(now.getTime() - window * 1000)).catch((error: unknown) =>
      logger.warn({ err: error }, 'purging expired tokens failed'),
    );
  }, PURGE_INTERVAL_MS);
  purge.unref();

  logger.info({ url: ownUrl, issuer: ctx.issuer }, 'uaa listening');
  return {
    url: ownUrl,
    issuer: ctx.issuer,
    port: listener.port,
    adminClientSecret: seeded.adminClientSecret,
    directorClientSecret: seeded.directorClientSecret,
    rotateSigningKey: async (rotation = {}) =>
      keys.rotate(rotation.retireNow ? 0 : await longestAccessValidity(ctx), (tx) =>
        publishKeysChanged(ctx, tx),
      ),
    stop: async () => {
      clearInterval(purge);
      await listener.close();
    },
  };
}

/** Turns anything thrown in a handler into UAA's error shape; unexpected errors are logged, not shown. */
function toUaaError(error: unknown, logger: Logger, req: IncomingMessage): UaaError {
  if (error instanceof UaaError) return error;
  if (error instanceof InputError) {
    return new UaaError(400, 'invalid_request', error.message, { extra: { message: error.message } });
  }
  if (isPksError(error) && httpStatusOf(error) < 500) {
    return new UaaError(httpStatusOf(error), error.code.toLowerCase(), error.message, {
      extra: { message: error.message },
    });
  }
  logger.error({ err: error, method: req.method, path: loggablePath(req.url) }, 'uaa request failed');
  return new UaaError(500, 'server_error', 'Internal Server Error');
}

/** `DELETE /oauth/token/revoke/<value>` may carry an opaque refresh token, which is the token itself. */
function loggablePath(url: string | undefined): string {
  const path = (url ?? '').split('?')[0]!;
  return path.replace(/^(\/oauth\/token\/revoke\/)(?!user\/|client\/)[^/]+$/, '$1[redacted]');
}

function dbLogger(logger: Logger) {
  return {
    info: (message: string, fields?: Record<string, unknown>) => logger.info(fields ?? {}, message),
    warn: (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message),
    error: (message: string, fields?: Record<string, unknown>) => logger.error(fields ?? {}, message),
  };
}
