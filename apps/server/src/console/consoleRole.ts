import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '@openpks/domain';
import { generatePassword } from '@openpks/pki';
import type { RoleModule } from '@openpks/role';
import { ADMIN_CLIENT_SECRET, ADMIN_CLIENT_SECRET_FILE, UAA_URL_FILE } from '@openpks/uaa';
import { ensureConsoleRedirect } from './uaaRegistration.js';

/** The session cookies' encryption secret (NEXTAUTH_SECRET), generated once per installation. */
export const CONSOLE_SECRET_FILE = 'secrets/console-session-secret';
const CONSOLE_SECRET = 'console.session-secret';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Where the built console (apps/console: `.next/` and `dist/server/main.js`) is. */
export function consoleAppDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@openpks/console/package.json'));
}

type ReadyMessage = { type: 'ready'; url: string; port: number };

function isReady(message: unknown): message is ReadyMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';
}

/**
 * The `console` role: the Next.js web console, in a child process of its own (Next's server is large and
 * keeps process-wide state; a crash there must not take the control plane down). pks-server hands it the
 * UAA and API URLs, the installation's CA and a generated session secret, waits for it to listen (port 0
 * works), then registers its callback URL with the UAA's `pks_console` client.
 */
export const consoleRole: RoleModule = {
  name: 'console',
  after: ['uaa', 'api'],
  async start(config, deps) {
    const appDir = consoleAppDir();
    const main = join(appDir, 'dist/server/main.js');
    if (!existsSync(main) || !existsSync(join(appDir, '.next/BUILD_ID')))
      throw new InputError('roles', `the console is not built in ${appDir}: run \`npm run build\` first`);
    // Shared, so that a session cookie one console replica sealed opens on every other.
    const secret = await deps.sharedSecrets.loadOrCreate(CONSOLE_SECRET, () => generatePassword(48), {
      file: CONSOLE_SECRET_FILE,
    });
    // The UAA's public base URL (external host, as in its issuer) when it runs in this installation.
    const uaaUrl = (
      (await deps.dataDir.read(UAA_URL_FILE))?.toString('utf8').trim() || deps.endpoints.url('uaa')
    ).replace(/\/+$/, '');
    const listen = config.roles.console;
    const child: ChildProcess = fork(main, [], {
      cwd: appDir,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        NEXTAUTH_SECRET: secret,
        PKS_CONSOLE_HOST: listen.host,
        PKS_CONSOLE_PORT: String(listen.port),
        PKS_CONSOLE_EXTERNAL_HOST: config.externalHost,
        ...(config.console.externalUrl ? { PKS_CONSOLE_EXTERNAL_URL: config.console.externalUrl } : {}),
        PKS_UAA_URL: uaaUrl,
        PKS_API_URL: deps.endpoints.url('api'),
        // Server-side calls (OIDC discovery, token exchange, the GraphQL proxy) trust the installation's CA.
        NODE_EXTRA_CA_CERTS: deps.tls.caPath,
      },
    });
    const log = (level: 'info' | 'warn') => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) deps.logger[level]({ console: line }, 'console output');
    };
    child.stdout?.on('data', log('info'));
    child.stderr?.on('data', log('warn'));

    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the console did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.on('message', (message) => {
        if (!isReady(message)) return;
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `the console exited while starting (${signal ?? `exit ${code}`}); is port ${listen.port} on ${listen.host} free? (roles.console in pks.yaml or PKS_CONSOLE_PORT)`,
          ),
        );
      });
    });
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      child.once('exit', () => resolve());
    });
    child.on('exit', (code, signal) => {
      if (!stopping) deps.logger.error({ code, signal }, 'the console process ended unexpectedly');
    });
    let stopping = false;
    const stop = async () => {
      if (stopping) return exited;
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const deadline = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(deadline);
      }
    };

    try {
      const adminClientSecret = await deps.sharedSecrets.read(ADMIN_CLIENT_SECRET, {
        file: ADMIN_CLIENT_SECRET_FILE,
      });
      if (!adminClientSecret) throw new Error('the UAA has not created its admin client secret yet');
      const outcome = await ensureConsoleRedirect(
        { uaaUrl: deps.endpoints.url('uaa'), caPem: deps.tls.caPem, adminClientSecret },
        ready.url,
      );
      deps.logger.info({ url: ready.url, outcome }, 'console callback registered with the UAA');
    } catch (error) {
      await stop();
      throw error;
    }
    return { url: ready.url, banner: {}, stop };
  },
};
