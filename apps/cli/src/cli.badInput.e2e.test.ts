import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, newShell, startStack, type PksResult, type Shell, type Stack } from './testing/stack.js';

// Bad input as a user of the built `pks` sees it, against a whole PKS on loopback (sim VMs in
// 127.1.186.0/24): one `Error: <what they typed>: <reason> (allowed: …)` line per bad field, every bad
// field in one go, exit 2 (usage and bad input, DESIGN §6) whether the CLI or the API found it. Fields
// are named as typed: a flag, the `<name>` argument, or the key path in a profile file.

const PRIVILEGES =
  'You do not have enough privileges to perform this action. Please contact the PKS administrator.';
const NAME_ALLOWED =
  "1-40 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit";
const HOST_ALLOWED =
  'a DNS name (labels of letters, digits and -, at most 253 characters) or an IPv4 address';
const INT_ALLOWED = 'a whole number from -2147483648 to 2147483647';

/** The `Error:` lines a run printed (help text after a usage error is not part of the message). */
const errorLines = (result: PksResult) => result.stderr.split('\n').filter((l) => l.startsWith('Error: '));

describe('pks bad input: the field as typed, the reason, what is allowed; exit 2', () => {
  let stack: Stack;
  let alice: Shell;
  let ops: Shell;

  beforeAll(async () => {
    await buildCli();
    stack = await startStack('127.1.186.0/24');
    await stack.uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    alice = await newShell();
    ops = await newShell();
    for (const [sh, user] of [
      [alice, 'alice'],
      [ops, 'ops'],
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
      expect(login.code, login.stderr).toBe(0);
    }
    const made = await alice.pks([
      'create-cluster',
      'c1',
      '-e',
      'c1.example.test',
      '-p',
      'small',
      '-n',
      '1',
      '--wait',
    ]);
    expect(made.code, made.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('create-cluster: one bad flag, every bad flag and argument at once, and flags left out', async () => {
    const plan = await alice.pks(['create-cluster', 'c2', '-e', 'c2.example.test', '-p', 'huge']);
    expect(plan.stderr).toBe('Error: --plan: plan "huge" not found (allowed: small, medium, large)\n');
    expect(plan.code).toBe(2);

    const all = await alice.pks([
      'create-cluster',
      'Bad_Name',
      '-e',
      '300.1.1.1',
      '-p',
      'small',
      '-n',
      '11',
      '--network-profile',
      'np-x',
    ]);
    expect(all.stderr).toBe(
      [
        `Error: <name>: cluster name "Bad_Name" contains uppercase letters (allowed: ${NAME_ALLOWED})`,
        `Error: --external-hostname: "300.1.1.1" is not a valid IPv4 address (allowed: ${HOST_ALLOWED})`,
        "Error: --num-nodes: 11 workers is outside plan small's limits (allowed: 1 to 10)",
        'Error: --network-profile: network profile "np-x" not found',
        '',
      ].join('\n'),
    );
    expect(all.code).toBe(2);

    // Found by the CLI before any request: a count that is not a number, required flags left out.
    const notANumber = await alice.pks([
      'create-cluster',
      'c2',
      '-e',
      'c2.example.test',
      '-p',
      'small',
      '-n',
      'abc',
    ]);
    expect(notANumber.stderr).toBe('Error: --num-nodes: "abc" is not a whole number\n');
    expect(notANumber.code).toBe(2);
    const leftOut = await alice.pks(['create-cluster', 'c2']);
    expect(leftOut.stderr).toBe('Error: --external-hostname: is required\nError: --plan: is required\n');
    expect(leftOut.code).toBe(2);

    // Refused by GraphQL itself (over 32 bits) before the API's checks: still named by its flag.
    const huge = await alice.pks([
      'create-cluster',
      'c2',
      '-e',
      'c2.example.test',
      '-p',
      'small',
      '-n',
      '99999999999',
    ]);
    expect(huge.stderr).toBe(
      `Error: --num-nodes: 99999999999 is not a whole number that fits in 32 bits (allowed: ${INT_ALLOWED})\n`,
    );
    expect(huge.code).toBe(2);
    expect(JSON.parse((await alice.pks(['clusters', '--json'])).stdout)).toEqual([
      expect.objectContaining({ name: 'c1' }),
    ]);
  });

  it('resize: a count outside the plan and one GraphQL cannot hold', async () => {
    const tooMany = await alice.pks(['resize', 'c1', '-n', '11', '--non-interactive']);
    expect(tooMany.stderr).toBe(
      "Error: --num-nodes: 11 workers is outside plan small's limits (allowed: 1 to 10)\n",
    );
    expect(tooMany.code).toBe(2);
    const negative = await alice.pks(['resize', 'c1', '-n', '-3', '--non-interactive']);
    expect(negative.stderr).toBe(
      "Error: --num-nodes: -3 workers is outside plan small's limits (allowed: 1 to 10)\n",
    );
    expect(negative.code).toBe(2);
    const huge = await alice.pks(['resize', 'c1', '-n', '99999999999', '--non-interactive']);
    expect(huge.stderr).toBe(
      `Error: --num-nodes: 99999999999 is not a whole number that fits in 32 bits (allowed: ${INT_ALLOWED})\n`,
    );
    expect(huge.code).toBe(2);
    const leftOut = await alice.pks(['resize', 'c1', '--non-interactive']);
    expect(leftOut.stderr).toBe('Error: --num-nodes: is required\n');
    expect(leftOut.code).toBe(2);
  });

  it('update-cluster: one bad flag, then every bad flag at once, and nothing changed', async () => {
    const one = await alice.pks([
      'update-cluster',
      'c1',
      '--kubelet-drain-timeout',
      '2000',
      '--non-interactive',
    ]);
    expect(one.stderr).toBe(
      'Error: --kubelet-drain-timeout: "2000" is not allowed (allowed: an integer from 0 to 1440)\n',
    );
    expect(one.code).toBe(2);

    const all = await alice.pks([
      'update-cluster',
      'c1',
      '--num-nodes',
      '0',
      '--network-profile',
      'np-x',
      '--kubelet-drain-timeout',
      '2000',
      '--kubelet-drain-force',
      'maybe',
      '--non-interactive',
    ]);
    expect(all.stderr).toBe(
      [
        "Error: --num-nodes: 0 workers is outside plan small's limits (allowed: 1 to 10)",
        'Error: --network-profile: network profile "np-x" not found',
        'Error: --kubelet-drain-timeout: "2000" is not allowed (allowed: an integer from 0 to 1440)',
        'Error: --kubelet-drain-force: "maybe" is not allowed (allowed: true or false)',
        '',
      ].join('\n'),
    );
    expect(all.code).toBe(2);
    expect(JSON.parse((await alice.pks(['cluster', 'c1', '--json'])).stdout)).toMatchObject({
      last_action: 'CREATE',
      parameters: { kubernetes_worker_instances: 1 },
    });

    const none = await alice.pks(['update-cluster', 'c1', '--non-interactive']);
    expect(none.stderr).toBe(
      'Error: at least one action flag is required: --num-nodes, --network-profile or --kubelet-drain-*\n',
    );
    expect(none.code).toBe(2);
  });

  it('upgrade-clusters: one bad flag, then every bad flag at once', async () => {
    const one = await alice.pks([
      'upgrade-clusters',
      '-c',
      'c1',
      '--max-in-flight',
      '0',
      '--non-interactive',
    ]);
    expect(one.stderr).toBe('Error: --max-in-flight: 0 is not allowed (allowed: 1 to 100)\n');
    expect(one.code).toBe(2);
    const all = await alice.pks([
      'upgrade-clusters',
      '-c',
      'c1',
      '--canaries',
      'c8,c9',
      '--max-in-flight',
      '0',
      '--non-interactive',
    ]);
    expect(all.stderr).toBe(
      [
        'Error: --canaries: "c8", "c9" are not among the clusters to upgrade (allowed: some of c1)',
        'Error: --max-in-flight: 0 is not allowed (allowed: 1 to 100)',
        '',
      ].join('\n'),
    );
    expect(all.code).toBe(2);
    const empty = await alice.pks(['upgrade-clusters', '-c', ',', '--non-interactive']);
    expect(empty.stderr).toBe('Error: --clusters: names no cluster (allowed: one or more cluster names)\n');
    expect(empty.code).toBe(2);
  });

  it('upgrade-cluster, delete-cluster, resize, update-cluster: a name no cluster can have is named as <name>', async () => {
    for (const args of [
      ['upgrade-cluster', 'Bad_Name'],
      ['delete-cluster', 'Bad_Name'],
      ['resize', 'Bad_Name', '-n', '2'],
      ['update-cluster', 'Bad_Name', '--num-nodes', '2'],
    ]) {
      const res = await alice.pks([...args, '--non-interactive']);
      expect(res.stderr, args[0]).toBe(
        `Error: <name>: cluster name "Bad_Name" contains uppercase letters (allowed: ${NAME_ALLOWED})\n`,
      );
      expect(res.code, args[0]).toBe(2);
    }
    // A good name that names nothing is not bad input: PKS says it is not found, a failure (1).
    const gone = await alice.pks(['delete-cluster', 'nothing-here', '--non-interactive']);
    expect(gone.stderr).toBe('Error: Cluster nothing-here not found\n');
    expect(gone.code).toBe(1);
  });

  it('upgrade-cluster, delete-cluster, delete-network-profile, cancel-task: the argument left out', async () => {
    for (const command of ['upgrade-cluster', 'delete-cluster', 'delete-network-profile']) {
      const res = await alice.pks([command, '--non-interactive']);
      expect(errorLines(res), command).toEqual(['Error: <name>: is required']);
      expect(res.code, command).toBe(2);
    }
    const task = await alice.pks(['cancel-task']);
    expect(errorLines(task)).toEqual(['Error: <id>: is required']);
    expect(task.code).toBe(2);
  });

  it('get-credentials: an empty or wrong password is named as the prompt asked for it', async () => {
    const res = await alice.pks(['get-credentials', 'c1'], { input: '\n' });
    expect(errorLines(res)).toEqual([
      "Error: password: is required: UAA issues the kubeconfig's OIDC tokens with it",
    ]);
    expect(res.code).toBe(2);
    // A wrong password is bad input too, not a lost login.
    const wrong = await alice.pks(['get-credentials', 'c1'], { env: { PKS_USER_PASSWORD: 'not-it' } });
    expect(errorLines(wrong)).toEqual(['Error: password: was rejected by UAA; check it and try again']);
    expect(wrong.code).toBe(2);
  });

  it('get-credentials: a wrong password counts once against the lockout (5 failures), not twice', async () => {
    // Three wrong passwords are three failures. Counted twice (a token refresh and the same password sent
    // again), they would be six, the account would lock, and the right password after them would fail.
    for (let i = 0; i < 3; i++) {
      const wrong = await alice.pks(['get-credentials', 'c1'], { env: { PKS_USER_PASSWORD: `not-it-${i}` } });
      expect(errorLines(wrong)).toEqual(['Error: password: was rejected by UAA; check it and try again']);
    }
    const right = await alice.pks(['get-credentials', 'c1'], {
      env: { PKS_USER_PASSWORD: 'alice-password-1' },
    });
    expect(right.stderr).not.toMatch(/Error/);
    expect(right.code).toBe(0);
  });

  it('create-network-profile: keys of the file by their path, one line each; PKS words for a missing scope', async () => {
    const profile = async (name: string, body: unknown) => {
      const file = join(ops.home, `${name}.json`);
      await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
      return file;
    };
    const huge = await profile('huge', { name: 'np1', parameters: { lb_size: 'huge' } });
    const one = await ops.pks(['create-network-profile', huge]);
    expect(one.stderr).toBe(
      'Error: parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)\n',
    );
    expect(one.code).toBe(2);

    const all = await ops.pks([
      'create-network-profile',
      await profile('all', {
        name: 'bad name',
        parameters: {
          lb_size: 'huge',
          nodes_dns: ['x'],
          cni_configurations: { type: 'nsxt', colour: 'red' },
        },
      }),
    ]);
    expect(all.stderr).toBe(
      [
        'Error: name: "bad name" is not a valid network profile name (allowed: letters, digits, _ . -, at most 63 characters)',
        'Error: parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)',
        'Error: parameters.nodes_dns[0]: "x" is not an IPv4 address (allowed: an IPv4 address such as 10.0.0.2)',
        'Error: parameters.cni_configurations.colour: unknown field "colour" (allowed: type, parameters)',
        '',
      ].join('\n'),
    );
    expect(all.code).toBe(2);

    // Found in the file before any request.
    const bare = await ops.pks(['create-network-profile', await profile('bare', { description: 'no name' })]);
    expect(bare.stderr).toBe(
      [
        'Error: name: is required (allowed: a string)',
        'Error: parameters: is required (allowed: an object of profile parameters)',
        '',
      ].join('\n'),
    );
    expect(bare.code).toBe(2);
    const notJson = await profile('broken', '{ "name": ');
    const broken = await ops.pks(['create-network-profile', notJson]);
    expect(broken.stderr).toMatch(
      new RegExp(
        `^Error: ${notJson.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not JSON: .+ \\(allowed: \\{"name", "description", "parameters"\\}\\)\\n$`,
      ),
    );
    expect(broken.code).toBe(2);

    // A manage user may not create profiles at all: PKS's words, before the file's content is judged.
    const refused = await alice.pks(['create-network-profile', huge]);
    expect(refused.stderr).toBe(`Error: ${PRIVILEGES}\n`);
    expect(refused.code).toBe(1);
    expect(JSON.parse((await ops.pks(['network-profiles', '--json'])).stdout)).toEqual([]);
  });

  it('login and get-kubeconfig: flags named as typed, every one left out at once', async () => {
    const sh = await newShell();
    const insecure = await sh.pks(['login', '-a', 'http://127.0.0.1:1', '-u', 'alice', '-p', 'x']);
    expect(insecure.stderr).toBe(
      'Error: --api: http://127.0.0.1:1 is not HTTPS (allowed: an https:// URL, or a host[:port])\n',
    );
    expect(insecure.code).toBe(2);
    const noUser = await sh.pks(['login', '-a', stack.api.url, '--ca-cert', stack.caFile]);
    expect(noUser.stderr).toBe('Error: --username: is required (or --client-name)\n');
    expect(noUser.code).toBe(2);
    const noApi = await sh.pks(['login', '-u', 'alice']);
    expect(noApi.stderr).toBe('Error: --api: is required\n');
    expect(noApi.code).toBe(2);
    const kubeconfig = await sh.pks(['get-kubeconfig', 'c1']);
    expect(kubeconfig.stderr).toBe('Error: --api: is required\nError: --username: is required\n');
    expect(kubeconfig.code).toBe(2);
  });
});
