import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_URL_FILE } from '@openpks/api';
import { startTestStack, type TestStack } from '@openpks/api/testing';
import { testDatabaseBackends } from '@openpks/db/testing';
import { UAA_URL_FILE } from '@openpks/uaa';
import { ADMIN_PASSWORD_FILE } from '../server.js';
import { runAdminCli } from './adminCli.js';
import { capture } from './testSupport.js';

// `pks-admin quotas`: an operator sets, lists and deletes owners' limits through the PKS API as the
// installation's admin user, against a whole control plane on loopback.

describe.each(testDatabaseBackends())('pks-admin quotas, on $name', (backend) => {
  let stack: TestStack;
  let dataDir: string;
  let maria: string;

  async function run(argv: string[]) {
    const stdout = capture();
    const stderr = capture();
    const code = await runAdminCli(['--data-dir', dataDir, ...argv], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: {},
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  beforeAll(async () => {
    stack = await startTestStack({ backend, ipRange: `127.1.${backend.name === 'pglite' ? 240 : 241}.0/24` });
    maria = await stack.signIn('maria', ['pks.clusters.manage']);
    // What pks-server leaves in its data directory: the CA, the UAA's and the API's URLs, the admin password.
    dataDir = await mkdtemp(join(tmpdir(), 'openpks-admin-quotas-'));
    await cp(join(stack.uaa.dataDir, 'tls'), join(dataDir, 'tls'), { recursive: true });
    for (const dir of ['uaa', 'api', 'secrets']) await mkdir(join(dataDir, dir), { recursive: true });
    await writeFile(join(dataDir, UAA_URL_FILE), `${stack.uaa.url}\n`);
    await writeFile(join(dataDir, API_URL_FILE), `${stack.api.url}\n`);
    await writeFile(join(dataDir, ADMIN_PASSWORD_FILE), `${stack.uaa.adminPassword}\n`, { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('sets, changes, lists with usage and deletes a quota', async () => {
    expect(await run(['quotas', 'list'])).toEqual({
      code: 0,
      stdout: 'No quotas: no owner has limits\n',
      stderr: '',
    });
    expect(
      await run(['quotas', 'set', 'maria', '--clusters', '2', '--cpu', '16', '--memory', '32.5']),
    ).toEqual({
      code: 0,
      stdout: 'Quota of maria: 2 clusters, 16 CPU, 32.5 GB memory\n',
      stderr: '',
    });
    // One flag changes only that limit.
    expect((await run(['quotas', 'set', 'maria', '--cpu', '12'])).stdout).toBe(
      'Quota of maria: 2 clusters, 12 CPU, 32.5 GB memory\n',
    );
    // A small cluster with one worker: 1 master + 1 worker on medium VMs (2 CPU, 4 GB each).
    const created = await stack.api.query(
      maria,
      `mutation{ createCluster(input:{name:"m1", planName:"small", externalHostname:"m1.example.test", numNodes:1}){ name } }`,
    );
    expect(created.errors).toBeUndefined();
    expect(await run(['quotas', 'list'])).toEqual({
      code: 0,
      stdout: ['OWNER   CLUSTERS   CPU       MEMORY (GB)', 'maria   1 of 2     4 of 12   8 of 32.5', ''].join(
        '\n',
      ),
      stderr: '',
    });
    expect(JSON.parse((await run(['quotas', 'list', '--json'])).stdout)).toEqual([
      { owner: 'maria', limit: { cpu: 12, memory: 32.5, cluster: 2 } },
    ]);
    expect(await run(['quotas', 'delete', 'maria'])).toEqual({
      code: 0,
      stdout: 'Deleted the quota of maria: no limits for them now\n',
      stderr: '',
    });
    const again = await run(['quotas', 'delete', 'maria']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('pks-admin: The quota owner named: "maria" not found. (NOT_FOUND)\n');
  });

  it('names the flag of a bad limit, and changes nothing', async () => {
    const bad = await run(['quotas', 'set', 'maria', '--clusters', '0', '--cpu', '1.5', '--memory', '4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'pks-admin: --clusters: 0 is not allowed; allowed: a whole number of at least 1\n' +
        '--cpu: 1.5 is not allowed; allowed: a whole number of CPUs, 0 or more (0 blocks creating clusters)\n',
    );
    const text = await run(['quotas', 'set', 'maria', '--memory', 'lots']);
    expect(text.code).toBe(2);
    expect(text.stderr).toBe('pks-admin: --memory must be a number or none, got "lots"\n');
    const none = await run(['quotas', 'set', 'maria']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('pks-admin: give at least one of --clusters, --cpu, --memory\n');
    expect((await run(['quotas', 'list'])).stdout).toBe('No quotas: no owner has limits\n');
  });

  it('creates a quota with only the limits given, the others no limit', async () => {
    // maria still has m1 (4 CPU, 8 GB) from the first test.
    expect(await run(['quotas', 'set', 'maria', '--cpu', '4'])).toEqual({
      code: 0,
      stdout: 'Quota of maria: no limit on clusters, 4 CPU, no limit on memory\n',
      stderr: '',
    });
    expect((await run(['quotas', 'list'])).stdout).toBe(
      [
        'OWNER   CLUSTERS       CPU      MEMORY (GB)',
        'maria   1 (no limit)   4 of 4   8 (no limit)',
        '',
      ].join('\n'),
    );
    // PKS's model: an unlimited field is left out.
    expect(JSON.parse((await run(['quotas', 'list', '--json'])).stdout)).toEqual([
      { owner: 'maria', limit: { cpu: 4 } },
    ]);
    // Fewer flags on the quota that now exists change only those.
    expect((await run(['quotas', 'set', 'maria', '--memory', '16'])).stdout).toBe(
      'Quota of maria: no limit on clusters, 4 CPU, 16 GB memory\n',
    );
    // The limit held: no CPU left for another cluster, however many clusters are allowed.
    const refused = await stack.api.query(
      maria,
      `mutation{ createCluster(input:{name:"m2", planName:"small", externalHostname:"m2.example.test", numNodes:1}){ name } }`,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
    expect(refused.errors?.[0]?.message).toBe('cpu: 4 of 4 used, this cluster needs 4');
    // none removes one limit; removing the last is the API's refusal (deleting the quota lifts them all).
    expect((await run(['quotas', 'set', 'maria', '--memory', 'none'])).stdout).toBe(
      'Quota of maria: no limit on clusters, 4 CPU, no limit on memory\n',
    );
    const last = await run(['quotas', 'set', 'maria', '--cpu', 'none']);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(
      /^pks-admin: .*would leave the quota limiting nothing.*\(BAD_USER_INPUT\)\n$/,
    );
    expect(JSON.parse((await run(['quotas', 'list', '--json'])).stdout)).toEqual([
      { owner: 'maria', limit: { cpu: 4 } },
    ]);
    expect((await run(['quotas', 'delete', 'maria'])).code).toBe(0);
  });
});
