import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@openpks/config';
import { describeInputError, InputError } from '@openpks/domain';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { describeCertificate, isIssuedBy } from '@openpks/pki';
import { createLogger } from '@openpks/role';
import { uaaRole } from '@openpks/uaa';
import { startServer, type RunningServer } from '../server.js';
import { runAdminCli } from './adminCli.js';
import { capture } from './testSupport.js';

// Issue 20, "a new machine joins with the prepared files alone": two machines (two data directories)
// share one PostgreSQL; the second is given only what `pks-admin init` prepared, never a copy of the
// first one's data directory. Only PostgreSQL can be shared between machines, so this runs there.
const postgres = testDatabaseBackends().find((b) => b.kind === 'postgres');

async function pksAdmin(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runAdminCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: {} });
  return { code, out: stdout.text(), err: stderr.text() };
}

function call(
  url: string,
  ca: string,
  options: { method?: string; form?: Record<string, string>; token?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca,
        agent: false,
        headers: {
          Accept: 'application/json',
          ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(postgres === undefined)('a second machine on a shared PostgreSQL', () => {
  let db: TestDatabase;
  let prepared: string;
  const servers: RunningServer[] = [];
  const logger = createLogger({ level: 'silent', pretty: false });

  /** pks-server on its own data directory with the prepared pks.yaml, as another machine would run it. */
  async function machine(dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
    const config = loadConfig({
      path: join(prepared, 'pks.yaml'),
      env: { PKS_DATA_DIR: dataDir, PKS_UAA_PORT: '0', PKS_LOG_LEVEL: 'silent', ...env },
    });
    const server = await startServer({ config, available: [uaaRole], roles: ['uaa'], logger });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    db = await postgres!.open();
    prepared = join(mkdtempSync(join(tmpdir(), 'pks-prepared-')), 'installation');
  });
  afterAll(async () => {
    for (const server of servers.reverse()) await server.stop();
    await db?.close();
  });

  it('joins with the files pks-admin init prepared: same admin, same secrets, its own certificate from the shared CA', async () => {
    const first = mkdtempSync(join(tmpdir(), 'pks-machine-a-'));
    const init = await pksAdmin(['--data-dir', first, 'init', '--out', prepared, '--database-url', db.url!]);
    expect(init.err).toBe('');
    expect(init.code).toBe(0);
    expect(init.out).toContain(`Generated a new secret key and CA (${first} has none).`);
    expect(init.out).toContain(`PKS_CONFIG=${join(prepared, 'pks.yaml')}`);
    expect(statSync(join(prepared, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(prepared, 'ca.key')).mode & 0o777).toBe(0o600);
    const config = loadConfig({ path: join(prepared, 'pks.yaml'), env: {} });
    expect(config.database.url).toBe(db.url);
    expect(config.secrets.keyFile).toBe(join(prepared, 'secret.key'));
    expect(config.tls).toMatchObject({
      caFile: join(prepared, 'ca.crt'),
      caKeyFile: join(prepared, 'ca.key'),
    });

    const a = await machine(first);
    const b = await machine(mkdtempSync(join(tmpdir(), 'pks-machine-b-')));
    const ca = readFileSync(join(prepared, 'ca.crt'), 'utf8');
    expect([a.caPath, b.caPath]).toEqual([join(prepared, 'ca.crt'), join(prepared, 'ca.crt')]);
    // One generated admin password, the one the UAA admin user really has, on both banners.
    expect(b.admin.password).toBe(a.admin.password);
    expect(readFileSync(join(b.dataDir, 'secrets/admin-password'), 'utf8').trim()).toBe(a.admin.password);
    expect(readFileSync(join(b.dataDir, 'secrets/uaa-admin-client-secret'), 'utf8')).toBe(
      readFileSync(join(a.dataDir, 'secrets/uaa-admin-client-secret'), 'utf8'),
    );
    // B serves with a certificate of its own, issued by the shared CA, which clients already trust.
    const bCert = readFileSync(join(b.dataDir, 'tls/uaa.crt'), 'utf8');
    expect(isIssuedBy(bCert, ca)).toBe(true);
    expect(describeCertificate(bCert).fingerprint256).not.toBe(
      describeCertificate(readFileSync(join(a.dataDir, 'tls/uaa.crt'), 'utf8')).fingerprint256,
    );

    // The signing keys machine A sealed into the database open on machine B: both publish the same keys,
    // and B's UAA takes a token A issued (both answer as one issuer behind a load balancer; here each has
    // its own port, so B is asked by the issuer it checks).
    const [uaaA, uaaB] = [a, b].map((s) => s.roles.find((r) => r.name === 'uaa')!.url);
    const keysA = await call(`${uaaA}/token_keys`, ca);
    const keysB = await call(`${uaaB}/token_keys`, ca);
    expect(keysB.json).toEqual(keysA.json);
    const granted = await call(`${uaaB}/oauth/token`, ca, {
      method: 'POST',
      form: { grant_type: 'password', client_id: 'pks_cli', username: 'admin', password: a.admin.password },
    });
    expect(granted.status).toBe(200);
    const kid = JSON.parse(
      Buffer.from((granted.json.access_token as string).split('.')[0]!, 'base64url').toString(),
    ).kid;
    expect((keysA.json.keys as { kid: string }[]).map((k) => k.kid)).toContain(kid);
  });

  it('refuses a machine with another secret key, naming the setting to fix', async () => {
    const stranger = mkdtempSync(join(tmpdir(), 'pks-machine-c-'));
    const otherKey = join(stranger, 'other.key');
    writeFileSync(otherKey, `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    const refused = await machine(stranger, { PKS_SECRET_KEY_FILE: otherKey }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(describeInputError(refused as InputError)).toMatch(
      /^secrets\.key_file: the shared secret "uaa\.admin-password" in the database was sealed with another secret key than this machine's \(allowed: the key the first machine uses: give every machine the same key file/,
    );
  });
});

describe('pks-admin init', () => {
  it("keeps an existing machine's key and CA, never overwrites prepared files, and says what it did", async () => {
    const { DataDirectory, SecretBox, TlsAuthority } = await import('@openpks/pki');
    const existing = mkdtempSync(join(tmpdir(), 'pks-existing-'));
    const dataDir = await DataDirectory.open(existing);
    const box = await SecretBox.fromDataDirectory(dataDir);
    const sealed = box.seal('sealed on the first machine', 'test');
    await TlsAuthority.load(dataDir);
    const out = join(mkdtempSync(join(tmpdir(), 'pks-prepared-')), 'files');

    const init = await pksAdmin([
      '--data-dir',
      existing,
      'init',
      '--out',
      out,
      '--external-host',
      'pks.example.com',
    ]);
    expect(init).toMatchObject({ code: 0, err: '' });
    expect(init.out).toContain(`Took the secret key and the CA of ${existing}.`);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).toBe(
      readFileSync(join(existing, 'tls/ca.crt'), 'utf8'),
    );
    expect((await SecretBox.fromKeyFile(join(out, 'secret.key'))).openString(sealed, 'test')).toBe(
      'sealed on the first machine',
    );
    const config = loadConfig({ path: join(out, 'pks.yaml'), env: {} });
    expect(config.externalHost).toBe('pks.example.com');
    expect(config.database.url).toBeUndefined();
    expect(readFileSync(join(out, 'pks.yaml'), 'utf8')).toContain('#   url: postgres://');

    const again = await pksAdmin(['--data-dir', existing, 'init', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `pks-admin: ${join(out, 'secret.key')} already exists: pks-admin init never overwrites prepared files (choose another --out)\n`,
    );
  });
});
