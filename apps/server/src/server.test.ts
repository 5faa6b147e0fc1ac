import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig, type PksConfig, type Role } from '@openpks/config';
import { migrate } from '@openpks/db';
import { createLogger, listenHttps, type RoleModule } from '@openpks/role';
import { formatBanner } from './banner.js';
import { parseRoles, runServerCli } from './cli.js';
import { startServer } from './server.js';

// Test roles exercise the role mechanism with a real listener and the real database; they stand in for
// no shipped role.
function recordingRole(name: Role, events: string[], after: Role[] = []): RoleModule {
  return {
    name,
    after,
    async start(config, deps) {
      const peers = Object.fromEntries(after.map((peer) => [peer, deps.endpoints.url(peer)]));
      events.push(`start ${name} ${JSON.stringify(peers)}`);
      await migrate(deps.db, {
        schema: `test_${name}`,
        migrations: [
          { id: '0001_starts', sql: 'CREATE TABLE starts (at timestamptz NOT NULL DEFAULT now())' },
        ],
      });
      await deps.db.query(`INSERT INTO test_${name}.starts DEFAULT VALUES`);
      const listener = await listenHttps({
        role: name,
        host: config.roles[name].host,
        port: config.roles[name].port,
        credentials: await deps.tls.serverCredentials(name),
        logger: deps.logger,
        handler: (_req, res) => res.end(name),
        healthChecks: { database: async () => void (await deps.db.query('SELECT 1')) },
      });
      return {
        url: listener.url,
        async stop() {
          events.push(`stop ${name}`);
          await listener.close();
        },
      };
    },
  };
}

function failingRole(name: Role): RoleModule {
  return {
    name,
    async start() {
      throw new Error(`${name} could not reach its upstream`);
    },
  };
}

function testConfig(dataDir: string, env: Record<string, string> = {}): PksConfig {
  return parseConfig(
    {
      data_dir: dataDir,
      log: { level: 'silent' },
      roles: Object.fromEntries(['uaa', 'api', 'broker', 'director', 'nsx'].map((r) => [r, { port: 0 }])),
    },
    { env },
  );
}

const logger = createLogger({ level: 'silent', pretty: false });

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startServer', () => {
  it('starts roles after the roles they need, each reachable with /healthz, and stops them in reverse', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const events: string[] = [];
    const available = [recordingRole('api', events, ['uaa']), recordingRole('uaa', events)];
    const server = await startServer({
      config: testConfig(dataDir),
      available,
      roles: ['api', 'uaa'],
      logger,
    });
    expect(server.roles.map((r) => r.name)).toEqual(['uaa', 'api']);
    const uaaUrl = server.roles[0]!.url;
    expect(events).toEqual(['start uaa {}', `start api {"uaa":"${uaaUrl}"}`]);

    const ca = readFileSync(server.caPath, 'utf8');
    for (const role of server.roles) {
      const health = await get(`${role.url}/healthz`, ca);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ role: role.name, status: 'ok', checks: { database: 'ok' } });
    }
    await server.stop();
    expect(events.slice(2)).toEqual(['stop api', 'stop uaa']);
    await expect(get(`${uaaUrl}/healthz`, ca)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reaches roles that run elsewhere at roles.<role>.url, else at external_host, and says so in the banner', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const events: string[] = [];
    const config = parseConfig({
      data_dir: dataDir,
      external_host: 'pks.example.com',
      log: { level: 'silent' },
      roles: {
        api: { port: 0 },
        uaa: { url: 'https://uaa.pks.example.com:8443' },
        broker: { url: 'https://10.0.0.5:8080' },
      },
    });
    const server = await startServer({
      config,
      available: [recordingRole('api', events, ['uaa', 'broker', 'director'])],
      roles: ['api'],
      logger,
    });
    try {
      expect(events.slice(0, 1)).toEqual([
        'start api {"uaa":"https://uaa.pks.example.com:8443","broker":"https://10.0.0.5:8080","director":"https://pks.example.com:25555"}',
      ]);
      expect(server.elsewhere).toEqual([
        { name: 'uaa', url: 'https://uaa.pks.example.com:8443', source: 'roles.uaa.url' },
        { name: 'broker', url: 'https://10.0.0.5:8080', source: 'roles.broker.url' },
        {
          name: 'director',
          url: 'https://pks.example.com:25555',
          source: 'external_host and roles.director.port',
        },
        { name: 'nsx', url: 'https://pks.example.com:8444', source: 'external_host and roles.nsx.port' },
      ]);
      const banner = formatBanner(server);
      expect(banner).toContain('Roles run elsewhere, reached at:');
      expect(banner).toContain('  broker    https://10.0.0.5:8080   (from roles.broker.url)');
      // Only the roles of this process are listed as running (scripts read those lines).
      expect(
        [...banner.matchAll(/^ {2}(uaa|api|broker|director|nsx) +(https:\/\/\S+)$/gm)].map((m) => m[1]),
      ).toEqual(['api']);
    } finally {
      await server.stop();
    }
  });

  it('generates the admin password once (0600) and reuses it, the CA and the database on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const events: string[] = [];
    const available = [recordingRole('uaa', events)];
    const first = await startServer({ config: testConfig(dataDir), available, roles: ['uaa'], logger });
    const ca = readFileSync(first.caPath, 'utf8');
    expect(first.admin.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(first.admin.passwordSource).toBe(join(dataDir, 'secrets/admin-password'));
    expect(statSync(first.admin.passwordSource).mode & 0o777).toBe(0o600);
    await first.stop();

    const second = await startServer({ config: testConfig(dataDir), available, roles: ['uaa'], logger });
    expect(second.admin.password).toBe(first.admin.password);
    expect(readFileSync(second.caPath, 'utf8')).toBe(ca);
    await second.stop();

    // The embedded database kept the first start's row.
    const third = await startServer({
      config: testConfig(dataDir),
      available: [
        {
          name: 'uaa',
          async start(_config, deps) {
            const { rows } = await deps.db.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM test_uaa.starts',
            );
            events.push(`rows ${rows[0]!.n}`);
            return { url: 'https://127.0.0.1:1', stop: async () => undefined };
          },
        },
      ],
      roles: ['uaa'],
      logger,
    });
    await third.stop();
    expect(events.at(-1)).toBe('rows 2');
  });

  it('takes the admin password from PKS_ADMIN_PASSWORD and says so', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const server = await startServer({
      config: testConfig(dataDir, { PKS_ADMIN_PASSWORD: 'from-the-env' }),
      available: [recordingRole('uaa', [])],
      roles: ['uaa'],
      logger,
    });
    expect(server.admin).toEqual({
      username: 'admin',
      password: 'from-the-env',
      passwordSource: 'PKS_ADMIN_PASSWORD',
    });
    await server.stop();
  });

  it('stops the roles already started when a later one fails, and frees the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const events: string[] = [];
    const available = [recordingRole('uaa', events), failingRole('api')];
    await expect(
      startServer({ config: testConfig(dataDir), available, roles: ['uaa', 'api'], logger }),
    ).rejects.toThrow('api could not reach its upstream');
    expect(events).toEqual(['start uaa {}', 'stop uaa']);
    const again = await startServer({ config: testConfig(dataDir), available, roles: ['uaa'], logger });
    await again.stop();
  });

  it('refuses a second server on the same data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-server-'));
    const available = [recordingRole('uaa', [])];
    const first = await startServer({ config: testConfig(dataDir), available, roles: ['uaa'], logger });
    await expect(
      startServer({ config: testConfig(dataDir), available, roles: ['uaa'], logger }),
    ).rejects.toThrow(/another pks-server in this process is using the data directory/);
    await first.stop();
  });
});

describe('parseRoles', () => {
  const available = [recordingRole('uaa', []), recordingRole('api', [])];

  it('expands all to every role this build offers', () => {
    expect(parseRoles('all', available)).toEqual(['uaa', 'api']);
    expect(parseRoles('api, uaa,api', available)).toEqual(['api', 'uaa']);
  });

  it('names an unknown role and lists the real ones', () => {
    expect(() => parseRoles('uaa,web', available)).toThrow('unknown role "web"');
  });

  it('refuses a role this build does not offer yet rather than pretending to run it', () => {
    expect(() => parseRoles('broker', available)).toThrow('role "broker" is not available in this build yet');
    expect(() => parseRoles('all', [])).toThrow('this build offers no roles yet');
  });
});

describe('pks-server command', () => {
  function io(env: Record<string, string>, stop: Promise<string> = Promise.resolve('test')) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    return { io: { stdout, stderr, env, waitForStop: () => stop }, output: () => ({ out, err }) };
  }

  it('prints the URLs, CA path and admin credentials, then stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-cli-'));
    const { io: cliIo, output } = io({ PKS_DATA_DIR: dataDir, PKS_UAA_PORT: '0', PKS_LOG_LEVEL: 'info' });
    const code = await runServerCli(['start', '--roles', 'uaa'], [recordingRole('uaa', [])], cliIo);
    const { out, err } = output();
    expect(code).toBe(0);
    expect(out).toContain('openpks is running');
    expect(out).toMatch(/ {2}uaa {7}https:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain(`CA certificate   ${join(dataDir, 'tls/ca.crt')}`);
    expect(out).toMatch(/admin password {3}[A-Za-z0-9]{24} {3}\(.*secrets\/admin-password\)/);
    const logLines = err
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(logLines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'starting pks-server',
        'role started',
        'stopping pks-server',
        'pks-server stopped',
      ]),
    );
    expect(err).not.toContain(readFileSync(join(dataDir, 'secrets/admin-password'), 'utf8'));
  });

  it('exits 2 naming the field when the configuration is bad', async () => {
    const { io: cliIo, output } = io({ PKS_API_PORT: '99999' });
    expect(await runServerCli(['start'], [recordingRole('uaa', [])], cliIo)).toBe(2);
    expect(output().err).toContain('roles.api.port: must be between 0 and 65535');
  });

  it('exits 2 on an unknown role or option', async () => {
    const first = io({});
    expect(await runServerCli(['start', '--roles', 'web'], [recordingRole('uaa', [])], first.io)).toBe(2);
    expect(first.output().err).toContain(
      '--roles: unknown role "web" (allowed: all, or a comma-separated list of uaa, api, broker, director, nsx, console)',
    );
    const second = io({});
    expect(await runServerCli(['start', '--bogus'], [], second.io)).toBe(2);
    expect(second.output().err).toContain("unknown option '--bogus'");
  });

  it('exits 1 when a role cannot start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-cli-'));
    const { io: cliIo, output } = io({ PKS_DATA_DIR: dataDir, PKS_LOG_LEVEL: 'silent' });
    expect(await runServerCli(['start'], [failingRole('uaa')], cliIo)).toBe(1);
    expect(output().err).toContain('pks-server: uaa could not reach its upstream');
  });
});

describe('the pks-server binary', () => {
  const BIN = resolve(import.meta.dirname, '../dist/bin/pks-server.js');

  it('drains instead of dying when Ctrl-C comes during start-up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pks-sigint-'));
    const child = spawn(process.execPath, [BIN, 'start', '--roles', 'uaa'], {
      env: { PATH: process.env.PATH, PKS_DATA_DIR: dataDir, PKS_UAA_PORT: '0', PKS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
      child.once('exit', (code, signal) => ok({ code, signal })),
    );
    // The first log line comes before the roles start; a new data directory's database then takes seconds.
    await new Promise<void>((ok, fail) => {
      const look = () => {
        if (err.includes('starting pks-server')) ok();
        else if (child.exitCode !== null) fail(new Error(`pks-server exited early:\n${out}\n${err}`));
        else setTimeout(look, 10);
      };
      look();
    });
    const bannerBeforeSignal = out.includes('openpks is running');
    child.kill('SIGINT');
    const { code, signal } = await exited;
    expect(bannerBeforeSignal).toBe(false);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(err).toContain('SIGINT received during start-up: stopping once the roles are up');
    const messages = err
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(
      expect.arrayContaining(['role started', 'stopping pks-server', 'pks-server stopped']),
    );
  }, 60_000);
});
