import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SERVER_BIN = resolve(import.meta.dirname, '../../apps/server/dist/bin/pks-server.js');

export interface RunningPksServer {
  urls: Record<string, string>;
  dataDir: string;
  caPem: string;
  adminPassword: string;
  /** SPKI pins of the role certificates, so Chromium trusts exactly these servers. */
  spkiPins: string[];
  stop(): Promise<number | null>;
}

/** Starts the built `pks-server` as a user would, on free ports with its own data directory. */
export async function startPksServer(roles = 'all'): Promise<RunningPksServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pks-e2e-'));
  const adminPassword = `e2e-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, [SERVER_BIN, 'start', '--roles', roles], {
    env: {
      ...process.env,
      PKS_CONFIG: '',
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
      () => reject(new Error(`pks-server did not start in 60 s:\n${out}\n${err}`)),
      60_000,
    );
    const check = () => {
      if (out.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolveStarted();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pks-server exited with ${code}:\n${out}\n${err}`));
    });
  });
  const urls = Object.fromEntries(
    [...out.matchAll(/^ {2}(uaa|api|broker|director|nsx) +(https:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const pin = (role: string) => {
    const cert = new X509Certificate(readFileSync(join(dataDir, `tls/${role}.crt`)));
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  };
  return {
    urls,
    dataDir,
    caPem: readFileSync(join(dataDir, 'tls/ca.crt'), 'utf8'),
    adminPassword,
    spkiPins: Object.keys(urls).map(pin),
    stop: () =>
      new Promise((resolveStopped) => {
        child.once('exit', (code) => {
          rmSync(dataDir, { recursive: true, force: true });
          resolveStopped(code);
        });
        child.kill('SIGINT');
      }),
  };
}

/** A POST of a form over HTTPS trusting only the given CA. */
export function postForm(
  url: string,
  form: Record<string, string>,
  ca: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolvePost, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          resolvePost({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
