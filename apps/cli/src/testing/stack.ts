/**
 * A whole PKS on loopback for the CLI's end-to-end tests (UAA, embedded Director with the sim CPI, broker,
 * API) and a runner for the built `pks` binary with its own PKS_HOME, HOME and KUBECONFIG.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApi, type TestApi } from '@openpks/api/testing';
import type { CpiMethod } from '@openpks/bosh';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase, type TestDatabaseBackend } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const PKS_BIN = join(repo, 'apps/cli/dist/bin/pks.js');

/**
 * Builds the CLI, so the tests never run a stale binary: the CLI and the one workspace package it runs
 * with (`@openpks/domain`, whose rule words its bad-input errors). The stack below runs from sources, so
 * no other package's build can stop it.
 */
export async function buildCli(): Promise<void> {
  for (const workspace of ['@openpks/domain', '@openpks/cli']) {
    await run('npm', ['run', 'build', '--silent', '-w', workspace], { cwd: repo, timeout: 300_000 });
  }
}

export interface Stack {
  db: TestDatabase;
  uaa: TestUaa;
  bosh: TestDirector;
  broker: TestBroker;
  api: TestApi;
  caFile: string;
  stop(): Promise<void>;
}

/**
 * `sim` tunes the embedded Director's sim CPI (latency per CPI method) for tests that need slow VMs;
 * `backend` picks the database (default: embedded PGlite).
 */
export async function startStack(
  ipRange: string,
  options: { sim?: { latencyMs?: Partial<Record<CpiMethod, number>> }; backend?: TestDatabaseBackend } = {},
): Promise<Stack> {
  const db = await (options.backend ?? testDatabaseBackends()[0]!).open();
  const uaa = await startTestUaa({ db });
  const bosh = await startTestDirector({ uaa, db, ipRange, ...(options.sim ? { sim: options.sim } : {}) });
  const broker = await startTestBroker({ uaa, bosh, db });
  const api = await startTestApi({
    uaa,
    db,
    broker: { url: broker.url, ...broker.credentials },
    director: bosh.client,
  });
  const caFile = join(await mkdtemp(join(tmpdir(), 'pks-ca-')), 'ca.pem');
  await writeFile(caFile, api.caPem);
  return {
    db,
    uaa,
    bosh,
    broker,
    api,
    caFile,
    async stop() {
      await api.stop();
      await broker.stop();
      await bosh.stop();
      await uaa.stop();
      await db.close();
    },
  };
}

export interface PksResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `pks` still running: its process, what it has printed so far, and its end. */
export interface RunningPks {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  done: Promise<PksResult>;
}

/** One user's shell: a HOME, PKS_HOME and KUBECONFIG of its own, and the UAA of the test stack. */
export interface Shell {
  home: string;
  env: NodeJS.ProcessEnv;
  pks(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<PksResult>;
  /** Starts `pks` and returns at once, for tests that act on it while it runs (signals). */
  start(args: string[], options?: { env?: NodeJS.ProcessEnv }): RunningPks;
}

/** A user's shell: own HOME, PKS_HOME and KUBECONFIG; UAA is discovered from the API's /info, as a user's is. */
export async function newShell(): Promise<Shell> {
  const home = await mkdtemp(join(tmpdir(), 'pks-user-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    PKS_HOME: join(home, '.pks'),
    KUBECONFIG: join(home, '.kube', 'config'),
  };
  const start = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): RunningPks => {
    const child = spawn(process.execPath, [PKS_BIN, ...args], {
      env: { ...env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<PksResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
    });
    child.stdin!.end(options.input ?? '');
    return { child, output: () => ({ stdout, stderr }), done };
  };
  return {
    home,
    env,
    start,
    pks: (args, options = {}) => start(args, options).done,
  };
}

export async function kubectl(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, ...env }, timeout: 30_000 });
  return stdout;
}

export const kubectlOnPath = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
);

export const scriptOnPath = await run('script', ['--version']).then(
  () => true,
  () => false,
);

/** Runs `pks` under a pseudo-terminal (util-linux `script`), returning everything it drew. */
export async function inTerminal(shell: Shell, args: string[]): Promise<string> {
  const quoted = [process.execPath, PKS_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const { stdout } = await run('script', ['-qec', quoted, '/dev/null'], {
    env: { ...shell.env },
    timeout: 90_000,
  });
  return stdout;
}
