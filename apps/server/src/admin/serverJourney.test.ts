import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uaaRole } from '@openpks/uaa';
import { httpsFetch } from '@openpks/uaa/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerCli } from '../cli.js';
import { runAdminCli } from './adminCli.js';
import { capture } from './testSupport.js';

describe('pks-server with the uaa role, administered by pks-admin', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'openpks-journey-'));
  });
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the seeded admin, and pks-admin gives alice a token with pks.clusters.manage', async () => {
    const env = { PKS_DATA_DIR: dataDir, PKS_UAA_PORT: '0', PKS_LOG_LEVEL: 'silent' };
    const out = capture();
    const err = capture();
    let scope: string | undefined;
    let adminScope: string | undefined;
    const exitCode = await runServerCli(['start', '--roles', 'uaa'], [uaaRole], {
      stdout: out.stream,
      stderr: err.stream,
      env,
      waitForStop: async (server) => {
        const url = server.roles[0]!.url;
        const fetch = httpsFetch(await readFile(server.caPath, 'utf8'));
        const token = async (username: string, password: string) => {
          const response = await fetch(`${url}/oauth/token`, {
            method: 'POST',
            body: new URLSearchParams({ grant_type: 'password', client_id: 'pks_cli', username, password }),
          });
          return (await response.json()) as { scope?: string; error?: string };
        };
        adminScope = (await token('admin', server.admin.password)).scope;

        const admin = (...argv: string[]) =>
          runAdminCli(argv, {
            stdout: capture().stream,
            stderr: capture().stream,
            env: { PKS_DATA_DIR: dataDir },
          });
        expect(await admin('users', 'add', 'alice', '--password', 'alice-password-1')).toBe(0);
        expect(await admin('groups', 'add-member', 'pks.clusters.manage', 'alice')).toBe(0);
        scope = (await token('alice', 'alice-password-1')).scope;
        return 'test finished';
      },
    });
    expect(err.text()).toBe('');
    expect(exitCode).toBe(0);
    expect(adminScope).toBe('pks.clusters.admin');
    expect(scope).toBe('pks.clusters.manage');
    expect(out.text()).toMatch(/UAA issuer/);
  });
});
