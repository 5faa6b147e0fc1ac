import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const PKS_SERVER_BIN = join(REPO, 'apps/server/dist/bin/pks-server.js');
export const PKS_CLI_BIN = join(REPO, 'apps/cli/bin/pks.js');

/** A data directory and config for `pks-server`, kept across its starts (seeding happens between them). */
export interface PksServerHome {
  dataDir: string;
  config: string;
  adminPassword: string;
  remove(): Promise<void>;
}

export interface RunningPksServer {
  /** Role name → URL as the banner prints it (uaa, api, broker, director, nsx, console). */
  urls: Record<string, string>;
  /** The CA that signed every HTTPS role's certificate. */
  caPath: string;
  /** SPKI pins of the HTTPS roles' certificates, so Chromium trusts exactly these servers. */
  spkiPins: string[];
  /** Sends SIGINT and resolves once the server is down: how it ended, and the end of its stderr. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * A data directory with a `pks.yaml` of the embedded Director and its sim CPI on `ipRange` (sim masters
 * bind :8443 on their own loopback addresses: a range of its own keeps them clear of other stacks on the
 * machine).
 */
export async function createPksServerHome(ipRange: string): Promise<PksServerHome> {
  const dataDir = await mkdtemp(join(tmpdir(), 'openpks-bench-server-'));
  const config = join(dataDir, 'pks.yaml');
  await writeFile(config, `director:\n  type: embedded\n  sim:\n    ip_range: ${ipRange}\n`);
  return {
    dataDir,
    config,
    adminPassword: `bench-${Math.random().toString(36).slice(2)}`,
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/**
 * Starts the built `pks-server` with every role (the console included: it runs only inside the real
 * server) on port 0 in `home`, and resolves once it printed its banner.
 */
export async function startPksServer(home: PksServerHome, timeoutMs = 120_000): Promise<RunningPksServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PKS_CONFIG: home.config,
    PKS_DATA_DIR: home.dataDir,
    PKS_ADMIN_PASSWORD: home.adminPassword,
    PKS_LOG_LEVEL: 'warn',
    PKS_UAA_PORT: '0',
    PKS_API_PORT: '0',
    PKS_BROKER_PORT: '0',
    PKS_DIRECTOR_PORT: '0',
    PKS_NSX_PORT: '0',
    PKS_CONSOLE_PORT: '0',
  };
  // The fleet is seeded into the server's embedded PGlite between starts; a server on a shared
  // PostgreSQL (the other figures' DATABASE_URL) would read another fleet.
  delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, [PKS_SERVER_BIN, 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`pks-server did not start in ${timeoutMs / 1000} s:\n${out}\n${err}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      if (out.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolveStarted();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pks-server exited with ${code} before its banner:\n${out}\n${err}`));
    });
  });
  const urls = Object.fromEntries(
    [...out.matchAll(/^ {2}(uaa|api|broker|director|nsx|console) +(https?:\/\/\S+)$/gm)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  for (const role of ['uaa', 'api', 'console']) {
    if (!urls[role]) throw new Error(`pks-server printed no ${role} URL:\n${out}`);
  }
  const pin = async (role: string) => {
    const cert = new X509Certificate(await readFile(join(home.dataDir, `tls/${role}.crt`)));
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  };
  return {
    urls,
    caPath: join(home.dataDir, 'tls/ca.crt'),
    spkiPins: await Promise.all(
      Object.keys(urls)
        .filter((role) => role !== 'console')
        .map(pin),
    ),
    stop: () =>
      new Promise((resolveStopped) => {
        const ended = () =>
          resolveStopped({ code: child.exitCode, signal: child.signalCode, stderr: err.slice(-2_000) });
        if (child.exitCode !== null || child.signalCode !== null) return ended();
        child.once('exit', ended);
        child.kill('SIGINT');
      }),
  };
}
