import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const BIN = resolve(import.meta.dirname, '../../apps/server/dist/bin');

export interface ConsoleStack {
  /** The console's URL as browsers use it (http://localhost:<port>). */
  consoleUrl: string;
  urls: Record<string, string>;
  dataDir: string;
  adminPassword: string;
  /** SPKI pins of the HTTPS roles' certificates, so Chromium trusts exactly these servers (UAA's login page). */
  spkiPins: string[];
  stop(): Promise<number | null>;
}

export interface ConsoleStackOptions {
  /** The sim CPI's latency per method (pks.yaml `director.sim.latency_ms`), to keep operations running visibly. */
  simLatencyMs?: Record<string, number>;
}

/**
 * Starts the built `pks-server` with every role, the console included, on free ports (port 0) with its
 * own data directory, and waits for its banner.
 */
export async function startConsoleStack(options: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pks-console-e2e-'));
  const adminPassword = `e2e-${Math.random().toString(36).slice(2)}`;
  // Simulated masters listen on loopback addresses; a range of its own keeps this stack's clusters
  // clear of other stacks running on the machine at the same time (they all default to 127.1.0.0/16).
  const config = join(dataDir, 'pks.yaml');
  const latency = Object.entries(options.simLatencyMs ?? {}).map(
    ([method, ms]) => `      ${method}: ${ms}\n`,
  );
  writeFileSync(
    config,
    `director:\n  type: embedded\n  sim:\n    ip_range: 127.${2 + Math.floor(Math.random() * 250)}.0.0/16\n` +
      (latency.length > 0 ? `    latency_ms:\n${latency.join('')}` : ''),
  );
  const child: ChildProcess = spawn(process.execPath, [join(BIN, 'pks-server.js'), 'start'], {
    env: {
      ...process.env,
      PKS_CONFIG: config,
      PKS_DATA_DIR: dataDir,
      PKS_ADMIN_PASSWORD: adminPassword,
      PKS_LOG_LEVEL: 'warn',
      PKS_UAA_PORT: '0',
      PKS_API_PORT: '0',
      PKS_BROKER_PORT: '0',
      PKS_DIRECTOR_PORT: '0',
      PKS_NSX_PORT: '0',
      PKS_CONSOLE_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pks-server did not start in 90 s:\n${out}\n${err}`)),
      90_000,
    );
    child.stdout!.on('data', () => {
      if (out.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolveStarted();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pks-server exited with ${code}:\n${out}\n${err}`));
    });
  });
  const urls = Object.fromEntries(
    [...out.matchAll(/^ {2}(uaa|api|broker|director|nsx|console) +(https?:\/\/\S+)$/gm)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  if (!urls.console) throw new Error(`pks-server printed no console URL:\n${out}`);
  const pin = (role: string) => {
    const cert = new X509Certificate(readFileSync(join(dataDir, `tls/${role}.crt`)));
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  };
  return {
    consoleUrl: urls.console,
    urls,
    dataDir,
    adminPassword,
    spkiPins: Object.keys(urls)
      .filter((role) => role !== 'console')
      .map(pin),
    stop: () =>
      new Promise((resolveStopped) => {
        if (child.exitCode !== null) return resolveStopped(child.exitCode);
        child.once('exit', (code) => {
          rmSync(dataDir, { recursive: true, force: true });
          resolveStopped(code);
        });
        child.kill('SIGINT');
      }),
  };
}

/** Adds a UAA user with the given PKS scope (group) through `pks-admin`, as an operator would. */
export async function addUser(
  stack: ConsoleStack,
  user: { name: string; password: string; scope: string },
): Promise<void> {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [join(BIN, 'pks-admin.js'), ...args], {
      env: { ...process.env, PKS_DATA_DIR: stack.dataDir },
    });
  await run([
    'users',
    'add',
    user.name,
    '--password',
    user.password,
    '--email',
    `${user.name}@example.com`,
    '--groups',
    user.scope,
  ]);
}
