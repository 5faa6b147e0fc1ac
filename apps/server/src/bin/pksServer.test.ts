import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The built binary, as `npm start` runs it (npm test builds before it runs the tests).
const BIN = resolve(import.meta.dirname, '../../dist/bin/pks-server.js');

function healthz(url: string, ca: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    request(`${url}/healthz`, { ca, agent: false }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe.skipIf(!existsSync(BIN))('pks-server binary', () => {
  it('starts every role, serves /healthz on each, and drains them all on SIGINT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-bin-'));
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: {
        PATH: process.env.PATH,
        // Production mode, as a user runs it: libraries behave differently under NODE_ENV=test
        // (Apollo installs its own signal handlers only outside tests).
        NODE_ENV: 'production',
        PKS_DATA_DIR: dataDir,
        PKS_LOG_LEVEL: 'info',
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
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));

    await expect
      .poll(() => out.includes('Press Ctrl-C to stop.') || child.exitCode !== null, {
        timeout: 90_000,
        interval: 200,
      })
      .toBe(true);
    expect(child.exitCode, `pks-server exited early:\n${out}\n${err}`).toBeNull();

    const urls = [...out.matchAll(/^ {2}(uaa|api|broker|director|nsx) +(https:\/\/\S+)$/gm)].map((m) => [
      m[1]!,
      m[2]!,
    ]);
    expect(urls.map(([role]) => role)).toEqual(expect.arrayContaining(['uaa', 'director', 'broker', 'api']));
    const ca = readFileSync(join(dataDir, 'tls/ca.crt'), 'utf8');
    for (const [, url] of urls) expect(await healthz(url!, ca)).toBe(200);
    // The console is plain HTTP (the browser's origin), in a child process of its own.
    const consoleUrl = /^ {2}console +(http:\/\/\S+)$/m.exec(out)?.[1];
    expect(consoleUrl, out).toBeDefined();
    expect((await fetch(`${consoleUrl}/healthz`)).status).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const messages = err
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; role?: string });
    const stopped = messages.filter((m) => m.msg === 'role stopped').map((m) => m.role);
    expect(stopped).toEqual(expect.arrayContaining([...urls.map(([role]) => role), 'console']));
    expect(messages.at(-1)?.msg).toBe('pks-server stopped');
  }, 120_000);
});
