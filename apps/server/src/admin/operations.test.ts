import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_URL_FILE } from '@openpks/api';
import { startTestStack, type TestStack } from '@openpks/api/testing';
import { UAA_URL_FILE } from '@openpks/uaa';
import { ADMIN_PASSWORD_FILE } from '../server.js';
import { runAdminCli } from './adminCli.js';
import { ApiAdminClient } from './apiAdminClient.js';
import { capture } from './testSupport.js';

// `pks-admin operations`: an operator lists the cluster operations in progress, drives a stuck one again
// or gives it up, through the PKS API as the installation's admin user. A whole control plane on loopback
// (UAA, embedded Director with the sim CPI, broker, API); the Director's deploy is made to hang so the
// operation stays in progress.

describe('pks-admin operations', () => {
  let stack: TestStack;
  let dataDir: string;
  let manager: string;

  async function run(argv: string[], env: Record<string, string> = {}) {
    const stdout = capture();
    const stderr = capture();
    const code = await runAdminCli(['--data-dir', dataDir, ...argv], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  const cluster = async (name: string) =>
    (
      await stack.api.query(
        manager,
        `query($n:String!){ cluster(name:$n){ lastAction lastActionState lastActionDescription } }`,
        { n: name },
      )
    ).data?.cluster as { lastAction: string; lastActionState: string; lastActionDescription: string };

  beforeAll(async () => {
    // Polling slow enough that nothing moves an operation on by itself within the test.
    stack = await startTestStack({
      ipRange: '127.1.126.0/24',
      api: { poll: { initialMs: 60_000, maxMs: 60_000 } },
    });
    manager = await stack.signIn('maria', ['pks.clusters.manage']);
    // What pks-server leaves in its data directory: the CA, the UAA's and the API's URLs, the admin password.
    dataDir = await mkdtemp(join(tmpdir(), 'openpks-admin-operations-'));
    await cp(join(stack.uaa.dataDir, 'tls'), join(dataDir, 'tls'), { recursive: true });
    for (const dir of ['uaa', 'api', 'secrets']) await mkdir(join(dataDir, dir), { recursive: true });
    await writeFile(join(dataDir, UAA_URL_FILE), `${stack.uaa.url}\n`);
    await writeFile(join(dataDir, API_URL_FILE), `${stack.api.url}\n`);
    await writeFile(join(dataDir, ADMIN_PASSWORD_FILE), `${stack.uaa.adminPassword}\n`, { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    stack?.bosh.director.cpi.clearFaults();
    await stack?.stop();
  });

  it('lists the operation stuck in progress, drives it again, then abandons it with the reason', async () => {
    const { errors } = await stack.api.query(
      manager,
      'mutation{ createCluster(input:{name:"hung", planName:"small", externalHostname:"hung.example.test", numNodes:1}){ name } }',
    );
    expect(errors).toBeUndefined();
    for (let i = 0; (await cluster('hung')).lastActionState !== 'succeeded'; i++) {
      expect(i).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await run(['operations', 'list'])).toEqual({
      code: 0,
      stdout: 'No operations in progress\n',
      stderr: '',
    });

    // The new worker's VM never comes: the resize stays in progress.
    stack.bosh.director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'worker', hang: true });
    expect(
      (await stack.api.query(manager, 'mutation{ resizeCluster(name:"hung", numNodes:2){ name } }')).errors,
    ).toBeUndefined();

    const listed = await run(['operations', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^CLUSTER\s+OPERATION\s+PHASE\s+STATE\s+BY\s+DRIVER\s+REQUESTED\s+DESCRIPTION\n/,
    );
    expect(listed.stdout).toMatch(
      /\nhung\s+update\s+(requested|polling)\s+in progress\s+maria\s+\S+\s+\S+\s+/,
    );
    const asJson = JSON.parse((await run(['operations', 'list', '--json'])).stdout) as {
      clusterName: string;
      kind: string;
      state: string;
    }[];
    expect(asJson).toEqual([
      expect.objectContaining({ clusterName: 'hung', kind: 'update', state: 'in progress' }),
    ]);

    const retried = await run(['operations', 'retry', 'hung']);
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    expect(retried.stdout).toMatch(/^The UPDATE of cluster hung is being driven again \(in progress: /);

    const abandoned = await run(['operations', 'abandon', 'hung', '--reason', 'the VM will not come']);
    expect(abandoned).toEqual({
      code: 0,
      stdout:
        'The UPDATE of cluster hung was abandoned: update abandoned by admin: the VM will not come; the broker ' +
        'and the Director may still be working on it: check the cluster, then repeat the change or delete the cluster\n',
      stderr: '',
    });
    expect(await cluster('hung')).toMatchObject({ lastAction: 'UPDATE', lastActionState: 'failed' });

    expect((await run(['operations', 'list'])).stdout).toBe('No operations in progress\n');
    const all = JSON.parse(
      (await run(['operations', 'list', '--all', '--cluster', 'hung', '--json'])).stdout,
    ) as {
      kind: string;
      state: string;
    }[];
    expect(all.map((o) => [o.kind, o.state])).toEqual([
      ['update', 'failed'],
      ['create', 'succeeded'],
    ]);

    // Nothing left to drive, and the errors say so.
    expect(await run(['operations', 'retry', 'hung'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'pks-admin: Cluster hung has no operation in progress (CONFLICT)\n',
    });
    expect(await run(['operations', 'abandon', 'hung'])).toMatchObject({ code: 2 });
  }, 120_000);

  it('signs the admin in again once when the API stops taking the token (revoked), and carries on', async () => {
    const client = new ApiAdminClient({
      apiUrl: stack.api.url,
      uaaUrl: stack.uaa.url,
      caPem: stack.uaa.caPem,
      username: 'admin',
      password: stack.uaa.adminPassword,
    });
    expect(await client.operations({ inProgress: true })).toEqual(expect.any(Array));
    // Every token the admin user holds, the client's too, is revoked; the API hears of it.
    const old = (await stack.uaa.tokenFor({ username: 'admin', password: stack.uaa.adminPassword }))
      .access_token;
    const uaaAdmin = { Authorization: `Bearer ${await stack.uaa.adminToken()}` };
    const found = (await (
      await stack.uaa.fetch(`${stack.uaa.url}/Users?filter=${encodeURIComponent('userName eq "admin"')}`, {
        headers: uaaAdmin,
      })
    ).json()) as { resources: { id: string }[] };
    const revoked = await stack.uaa.fetch(
      `${stack.uaa.url}/oauth/token/revoke/user/${found.resources[0]!.id}`,
      { headers: uaaAdmin },
    );
    expect(revoked.status).toBe(200);
    for (let i = 0; ; i++) {
      const { status } = await stack.api.query(old, '{ clusterOperations(inProgress: true) { id } }');
      if (status === 401) break;
      expect(i).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await client.operations({ inProgress: true })).toEqual(expect.any(Array));
  }, 60_000);

  it('says where to find what it needs, and refuses a user without pks.clusters.admin', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'openpks-admin-operations-bare-'));
    const missing = await run(['--data-dir', bare, 'operations', 'list']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^pks-admin: no API URL: .*api\/url does not exist/);

    await stack.signIn('mallory', ['pks.clusters.manage']);
    const refused = await run(['--admin-user', 'mallory', 'operations', 'list'], {
      PKS_ADMIN_PASSWORD: 'mallory-password-1',
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(FORBIDDEN\)\n$/);
  }, 60_000);
});
