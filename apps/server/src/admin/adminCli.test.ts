import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from './adminCli.js';
import { capture } from './testSupport.js';

describe('pks-admin', () => {
  let uaa: TestUaa;
  beforeAll(async () => {
    uaa = await startTestUaa();
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  async function run(...argv: string[]) {
    const stdout = capture();
    const stderr = capture();
    // The target comes from the data directory, as pks-server leaves it.
    const code = await runAdminCli(['--data-dir', uaa.dataDir, ...argv], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: {},
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  it('adds alice and grants pks.clusters.manage; her token then carries that scope', async () => {
    const added = await run(
      'users',
      'add',
      'alice',
      '--password',
      'alice-password',
      '--email',
      'alice@example.com',
    );
    expect(added).toMatchObject({ code: 0, stdout: 'User alice created\n' });
    const granted = await run('groups', 'add-member', 'pks.clusters.manage', 'alice');
    expect(granted).toMatchObject({ code: 0, stdout: 'alice added to pks.clusters.manage\n' });
    const token = await uaa.tokenFor({ username: 'alice', password: 'alice-password' });
    expect(token.scope).toBe('pks.clusters.manage');

    const again = await run('groups', 'add-member', 'pks.clusters.manage', 'alice');
    expect(again).toMatchObject({ code: 0, stdout: 'alice is already a member of pks.clusters.manage\n' });
  });

  it('lists users and groups as tables and as JSON', async () => {
    const table = await run('users', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+EMAIL\s+ACTIVE\s+GROUPS\n/);
    expect(table.stdout).toMatch(/\nadmin\s+admin\s+true\s+pks\.clusters\.admin\n/);
    const json = JSON.parse((await run('users', 'list', '--json')).stdout) as {
      name: string;
      groups: string[];
    }[];
    expect(json.find((u) => u.name === 'admin')?.groups).toEqual(['pks.clusters.admin']);
    const groups = JSON.parse((await run('groups', 'list', '--json')).stdout) as { name: string }[];
    expect(groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['pks.clusters.admin', 'pks.clusters.manage', 'bosh.admin']),
    );
  });

  it('creates users in groups at once, changes passwords, removes members and deletes users', async () => {
    expect(
      (await run('users', 'add', 'bob', '--password', 'bob-password', '--groups', 'pks.clusters.admin.read'))
        .code,
    ).toBe(0);
    expect((await uaa.tokenFor({ username: 'bob', password: 'bob-password' })).scope).toBe(
      'pks.clusters.admin.read',
    );
    expect((await run('users', 'passwd', 'bob', '--password', 'bob-new-password')).code).toBe(0);
    await expect(uaa.tokenFor({ username: 'bob', password: 'bob-password' })).rejects.toThrow(/401/);
    expect((await run('groups', 'remove-member', 'pks.clusters.admin.read', 'bob')).code).toBe(0);
    await expect(uaa.tokenFor({ username: 'bob', password: 'bob-new-password' })).rejects.toThrow(
      /invalid_scope/,
    );
    expect((await run('users', 'delete', 'bob')).code).toBe(0);
    const missing = await run('users', 'delete', 'bob');
    expect(missing).toMatchObject({ code: 1, stderr: 'pks-admin: user bob does not exist\n' });
  });

  it('creates nothing when a group named at creation does not exist', async () => {
    const result = await run(
      'users',
      'add',
      'carol',
      '--password',
      'carol-password',
      '--groups',
      'pks.clusters.typo',
    );
    expect(result).toMatchObject({
      code: 2,
      stderr: 'pks-admin: group pks.clusters.typo does not exist (see pks-admin groups list)\n',
    });
    expect(
      JSON.parse((await run('users', 'list', '--json')).stdout).map((u: { name: string }) => u.name),
    ).not.toContain('carol');
  });

  it('manages clients', async () => {
    const added = await run(
      'clients',
      'add',
      'automation',
      '--secret',
      'automation-secret',
      '--grant-types',
      'client_credentials',
      '--authorities',
      'pks.clusters.admin',
    );
    expect(added).toMatchObject({ code: 0, stdout: 'Client automation created\n' });
    expect((await uaa.tokenFor({ clientId: 'automation', clientSecret: 'automation-secret' })).scope).toBe(
      'pks.clusters.admin',
    );
    const list = JSON.parse((await run('clients', 'list', '--json')).stdout) as {
      id: string;
      authorities: string[];
    }[];
    expect(list.find((c) => c.id === 'automation')?.authorities).toEqual(['pks.clusters.admin']);
    expect((await run('clients', 'list')).stdout).toMatch(
      /^CLIENT ID\s+GRANT TYPES\s+SCOPES\s+AUTHORITIES\n/,
    );
    expect((await run('clients', 'delete', 'automation')).code).toBe(0);
  });

  it('reports UAA errors with exit code 1 and usage errors with exit code 2', async () => {
    const weak = await run('users', 'add', 'dan', '--password', 'short');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toBe(
      'pks-admin: Password must be at least 8 characters in length. (invalid_password, HTTP 422)\n',
    );
    const duplicate = await run('users', 'add', 'alice', '--password', 'alice-password');
    expect(duplicate).toMatchObject({ code: 1 });
    expect(duplicate.stderr).toMatch(/Username already in use: alice/);
    expect((await run('users', 'add', 'erin')).code).toBe(2);
    expect((await run('users', 'frobnicate')).code).toBe(2);
    expect((await run('--help')).code).toBe(0);
  });

  it('says where it looked when it cannot find the UAA, and rejects a wrong client secret', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await runAdminCli(['--data-dir', '/nonexistent/pks-data', 'users', 'list'], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr.text()).toMatch(/no UAA URL: \/nonexistent\/pks-data\/uaa\/url does not exist/);
    const wrong = await run('--client-secret', 'wrong', 'users', 'list');
    expect(wrong).toMatchObject({
      code: 1,
      stderr: 'pks-admin: Bad credentials (invalid_client, HTTP 401)\n',
    });
  });
});
