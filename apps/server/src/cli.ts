import { Command, CommanderError, Option } from 'commander';
import { loadConfig, ROLES, type Role } from '@openpks/config';
import {
  ExitCode,
  InputError,
  InputErrors,
  describeInputErrors,
  exitCodeOf,
  isPksError,
} from '@openpks/domain';
import { createLogger, type RoleModule } from '@openpks/role';
import { formatBanner } from './banner.js';
import { startServer, type RunningServer } from './server.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Called once the server runs; returns when it should stop (a signal, or a test's request). */
  waitForStop(server: RunningServer): Promise<string>;
}

/** Parses `--roles all|uaa,api,…` against the roles this build offers. */
export function parseRoles(value: string, available: readonly RoleModule[]): Role[] {
  const offered = available.map((m) => m.name);
  if (value.trim() === 'all') {
    if (offered.length === 0) throw new InputError('--roles', 'this build offers no roles yet');
    return [...offered];
  }
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new InputError('--roles', 'no role given', { allowed: `all, or a list of ${ROLES.join(', ')}` });
  for (const name of names) {
    if (!(ROLES as readonly string[]).includes(name)) {
      throw new InputError('--roles', `unknown role "${name}"`, {
        allowed: `all, or a comma-separated list of ${ROLES.join(', ')}`,
      });
    }
    if (!(offered as readonly string[]).includes(name)) {
      throw new InputError('--roles', `role "${name}" is not available in this build yet`, {
        allowed: offered.join(', ') || 'none yet',
      });
    }
  }
  return [...new Set(names)] as Role[];
}

/** `pks-server` as a function, so tests drive it in-process; the bin wires it to the real process. */
export async function runServerCli(
  argv: readonly string[],
  available: readonly RoleModule[],
  io: CliIo,
): Promise<number> {
  const program = new Command('pks-server')
    .description(
      'Runs the openpks control plane: any set of roles (uaa, api, broker, director, nsx, console) in one process',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  let exitCode: number = ExitCode.OK;
  program
    .command('start')
    .description('start the chosen roles and serve until SIGINT/SIGTERM')
    .addOption(new Option('--roles <roles>', 'all, or a comma-separated list of roles').default('all'))
    .option('--config <path>', 'path of pks.yaml (default: $PKS_CONFIG, else built-in defaults)')
    .action(async (options: { roles: string; config?: string }) => {
      exitCode = await start(options, available, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    throw error;
  }
}

async function start(
  options: { roles: string; config?: string },
  available: readonly RoleModule[],
  io: CliIo,
): Promise<number> {
  let server: RunningServer;
  let logger;
  try {
    const config = loadConfig({ env: io.env, ...(options.config ? { path: options.config } : {}) });
    logger = createLogger({ level: config.log.level, pretty: config.log.pretty, destination: io.stderr });
    const roles = parseRoles(options.roles, available);
    logger.info({ roles, config: config.source, dataDir: config.dataDir }, 'starting pks-server');
    server = await startServer({ config, available, roles, logger });
  } catch (error) {
    io.stderr.write(`pks-server: ${describeError(error)}\n`);
    return exitCodeOf(error);
  }
  io.stdout.write(formatBanner(server));
  const stop = await Promise.race([
    io.waitForStop(server).then((reason) => ({ reason, lost: undefined })),
    server.lost.then((lost) => ({ reason: 'database lost', lost })),
  ]);
  if (stop.lost !== undefined) {
    io.stderr.write(
      `pks-server: ${stop.lost.message}; every request would fail, so pks-server stops. ` +
        'Start it again: the data directory holds every committed change.\n',
    );
  }
  logger.info({ reason: stop.reason }, 'stopping pks-server');
  await server.stop();
  logger.info('pks-server stopped');
  return stop.lost === undefined ? ExitCode.OK : ExitCode.FAILURE;
}

function describeError(error: unknown): string {
  if (error instanceof InputErrors) return error.message;
  if (error instanceof InputError) return describeInputErrors(error);
  if (isPksError(error)) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
