import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends } from '@openpks/db/testing';
import { buildCli, newShell, startStack, type Shell, type Stack } from './testing/stack.js';

// `pks plans`, `pks plan` and `pks usage` of the built binary against a whole PKS on loopback; a create
// over the quota shows what the API said. The built-in `small` plan: 1 master and workers on `medium`
// VMs (2 CPU, 4 GB each).

describe.each(testDatabaseBackends())('pks plans, plan and usage, on $name', (backend) => {
  let stack: Stack;
  let alice: Shell;
  let reader: Shell;
  let adminToken: string;

  beforeAll(async () => {
    await buildCli();
    stack = await startStack(`127.1.${backend.name === 'pglite' ? 238 : 239}.0/24`, { backend });
    await stack.uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await stack.uaa.createUser('reader', 'reader-password-1', ['pks.clusters.admin.read']);
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    adminToken = (await stack.uaa.tokenFor({ username: 'ops', password: 'ops-password-1' })).access_token;
    alice = await newShell();
    reader = await newShell();
    for (const [sh, user] of [
      [alice, 'alice'],
      [reader, 'reader'],
    ] as const) {
      const login = await sh.pks([
        'login',
        '-a',
        stack.api.url,
        '-u',
        user,
        '-p',
        `${user}-password-1`,
        '--ca-cert',
        stack.caFile,
      ]);
      expect(login.code).toBe(0);
    }
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('shows each plan’s masters and workers with their VM sizes', async () => {
    const plans = await alice.pks(['plans']);
    expect(plans.code).toBe(0);
    expect(plans.stdout).toMatch(/^Name\s+ID\s+Masters\s+Workers\s+Description$/m);
    expect(plans.stdout).toMatch(/^small\s+[0-9a-f-]{36}\s+1 × 2 CPU, 4 GB\s+3 × 2 CPU, 4 GB\s+Example: /m);
    expect(plans.stdout).toMatch(/^large\s+[0-9a-f-]{36}\s+5 × 4 CPU, 16 GB\s+5 × 4 CPU, 16 GB\s+Example: /m);

    const plan = await alice.pks(['plan', 'medium']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Master VM Type:   large (2 CPU, 8 GB)\n');
    expect(plan.stdout).toContain('Worker Instances: 3 (at most 50)\n');

    const missing = await alice.pks(['plan', 'huge']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('<name>: plan "huge" not found');
  });

  it('shows usage against the quota, and a create over it says which limit', async () => {
    const none = await alice.pks(['usage']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(
      '\nOwner:       alice\nQuota:       none (no limits)\nClusters:    0\nCPU:         0\nMemory (GB): 0\n\n',
    );

    const set = await stack.api.query(
      adminToken,
      `mutation{ setQuota(owner:"alice", limit:{cluster:1, cpu:8, memory:16}){ owner } }`,
    );
    expect(set.errors).toBeUndefined();
    const created = await alice.pks([
      'create-cluster',
      'q1',
      '-e',
      'q1.example.test',
      '-p',
      'small',
      '-n',
      '1',
    ]);
    expect(created.code).toBe(0);

    const usage = await alice.pks(['usage']);
    expect(usage.stdout).toBe(
      [
        '',
        'Owner:       alice',
        'Quota:       set',
        'Clusters:    1 of 1',
        'CPU:         4 of 8',
        'Memory (GB): 8 of 16',
        '',
        'Name  Plan Name  Workers  CPU  Memory (GB)',
        'q1    small      1        4    8',
        '',
        '',
      ].join('\n'),
    );
    expect(JSON.parse((await alice.pks(['usage', '--json'])).stdout)).toEqual({
      owner: 'alice',
      totals: { cpu: 4, memory: 8, cluster: 1 },
      clusters: [{ name: 'q1', cpu: 4, memory: 8 }],
      limit: { cpu: 8, memory: 16, cluster: 1 },
    });

    const over = await alice.pks(['create-cluster', 'q2', '-e', 'q2.example.test', '-p', 'small', '-n', '1']);
    expect(over.code).toBe(1);
    expect(over.stderr).toBe('Error: clusters: 1 of 1 used, creating one more exceeds the limit\n');

    // The cluster limit removed (null): that resource shows as unlimited, and PKS's model leaves it out.
    const lifted = await stack.api.query(
      adminToken,
      `mutation{ updateQuota(owner:"alice", limit:{cluster:null}){ limit { cluster cpu memory } } }`,
    );
    expect(lifted.errors).toBeUndefined();
    expect(lifted.data).toEqual({ updateQuota: { limit: { cluster: null, cpu: 8, memory: 16 } } });
    const unlimited = await alice.pks(['usage']);
    expect(unlimited.stdout).toContain('Clusters:    1 (no limit)\nCPU:         4 of 8\n');
    expect(JSON.parse((await alice.pks(['usage', '--json'])).stdout).limit).toEqual({ cpu: 8, memory: 16 });
  });

  it('shows another owner’s usage to admin.read only', async () => {
    const other = await reader.pks(['usage', '--owner', 'alice', '--json']);
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout).totals).toEqual({ cpu: 4, memory: 8, cluster: 1 });
    const refused = await alice.pks(['usage', '--owner', 'reader']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('Error: The quota owner named: "reader" not found.\n');
  });
});
