import { execFile } from 'node:child_process';
import { access, chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  PKS_BIN,
  buildCli,
  kubectl,
  kubectlOnPath,
  newShell,
  startStack,
  type Shell,
  type Stack,
} from './testing/stack.js';

// The built `pks` binary as a subprocess: upgrade runs (canaries, a failing canary, cancel-task),
// get-kubeconfig without a login, cluster-name completion, SSO flags, and Ctrl-C during --wait.
// Sim VMs in 127.1.82.0/24 (fast stack) and 127.1.83.0/24 (slow stack).

const run = promisify(execFile);

interface TaskJson {
  uuid: string;
  status: string;
  clusters: {
    cluster_name: string;
    last_action_state: string;
    is_canary: boolean;
    start_time: number;
    end_time: number;
  }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks `pks` until `until` holds (or 60 s pass), returning the last answer. */
async function poll<T>(ask: () => Promise<T>, until: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  let value = await ask();
  while (!until(value) && Date.now() < deadline) {
    await sleep(250);
    value = await ask();
  }
  return value;
}

describe('pks upgrade runs, get-kubeconfig and completion (the built binary)', () => {
  let stack: Stack;
  let ops: Shell;
  let alice: Shell;

  beforeAll(async () => {
    await buildCli();
    stack = await startStack('127.1.82.0/24');
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    await stack.uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    ops = await newShell();
    alice = await newShell();
    for (const [sh, user, password] of [
      [ops, 'ops', 'ops-password-1'],
      [alice, 'alice', 'alice-password-1'],
    ] as const) {
      const login = await sh.pks([
        'login',
        '-a',
        stack.api.url,
        '-u',
        user,
        '-p',
        password,
        '--ca-cert',
        stack.caFile,
      ]);
      expect(login.code, login.stderr).toBe(0);
    }
    // Three clusters created at once, each followed by its own --wait.
    const created = await Promise.all(
      ['u1', 'u2', 'u3'].map((name) =>
        ops.pks(['create-cluster', name, '-e', `${name}.example.test`, '-p', 'small', '-n', '1', '--wait']),
      ),
    );
    for (const c of created) expect(c.code, c.stderr).toBe(0);
  }, 300_000);

  afterEach(() => {
    stack?.bosh.director.cpi.clearFaults();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const taskJson = async (id: string) =>
    JSON.parse((await ops.pks(['task', id, '--json'])).stdout) as TaskJson;
  const byName = (t: TaskJson) => Object.fromEntries(t.clusters.map((c) => [c.cluster_name, c]));

  it('upgrades the canary alone first, then the rest up to --max-in-flight', async () => {
    const up = await ops.pks([
      'upgrade-clusters',
      '-c',
      'u1,u2,u3',
      '--canaries',
      'u2',
      '--max-in-flight',
      '2',
      '--non-interactive',
      '--wait',
    ]);
    expect(up.code, up.stderr).toBe(0);
    const id = /^Your taskID for the upgrade task is: (\S+)$/m.exec(up.stdout)?.[1];
    expect(id).toBeDefined();
    const lines = up.stdout.split('\n');
    const at = (line: string) => lines.indexOf(line);
    for (const name of ['u1', 'u2', 'u3'])
      expect(at(`Upgrading cluster succeeded: ${name}`)).toBeGreaterThan(0);
    // The canary's success is printed before either other cluster ends.
    expect(at('Upgrading cluster succeeded: u2')).toBeLessThan(at('Upgrading cluster succeeded: u1'));
    expect(at('Upgrading cluster succeeded: u2')).toBeLessThan(at('Upgrading cluster succeeded: u3'));
    expect(lines.at(-2)).toBe(`Upgrade task ${id} is done.`);

    const task = await taskJson(id!);
    expect(task.status).toBe('done');
    const c = byName(task);
    expect(c.u2).toMatchObject({ is_canary: true, last_action_state: 'succeeded' });
    expect(c.u1).toMatchObject({ is_canary: false, last_action_state: 'succeeded' });
    expect(c.u3).toMatchObject({ is_canary: false, last_action_state: 'succeeded' });
    // Nothing else started before the canary had finished (epoch seconds, as PKS's TaskInfo).
    expect(c.u1!.start_time).toBeGreaterThanOrEqual(c.u2!.end_time);
    expect(c.u3!.start_time).toBeGreaterThanOrEqual(c.u2!.end_time);
  }, 180_000);

  // The broker upgrades a cluster only when its manifest would change; the test stack's clusters are always
  // current, so an upgrade of them does no Director work. `drift` changes a deployment by hand (as an
  // operator with the bosh CLI might): the next upgrade puts the rendered manifest back, runs the post-deploy
  // errand on a fresh VM, and so meets the sim CPI's faults. A cluster with a running task is busy.
  const deploymentOf = async (name: string) =>
    `service-instance_${JSON.parse((await ops.pks(['cluster', name, '--json'])).stdout).uuid as string}`;
  // A test's faults must meet its own Director work, not a task an earlier test left running.
  const directorIdle = () =>
    poll(
      () => stack.bosh.client.tasks({ states: ['queued', 'processing', 'cancelling'], verbose: 2 }),
      (tasks) => tasks.length === 0,
    );
  const drift = async (name: string) => {
    const deployment = await deploymentOf(name);
    const manifest = parse((await stack.bosh.client.manifest(deployment))!);
    manifest.update = { ...manifest.update, max_in_flight: 7 };
    const task = await stack.bosh.client.deploy(stringify(manifest));
    expect((await stack.bosh.client.waitForTask(task.id)).state).toBe('done');
  };

  it('stops the run when the canary fails, exits 1 and starts none of the others', async () => {
    await directorIdle();
    await drift('u3');
    stack.bosh.director.cpi.injectFault({
      method: 'create_vm',
      instanceGroup: 'apply-addons',
      nth: 1,
      times: 1,
      message: 'errand VM quota exceeded',
    });
    const up = await ops.pks([
      'upgrade-clusters',
      '-c',
      'u1,u2,u3',
      '--canaries',
      'u3',
      '--non-interactive',
      '--wait',
    ]);
    const id = /^Your taskID for the upgrade task is: (\S+)$/m.exec(up.stdout)?.[1];
    expect(id, up.stderr).toBeDefined();
    expect(up.code).toBe(1);
    expect(up.stdout).toContain('Started upgrading cluster: u3');
    expect(up.stdout).toContain('Upgrading cluster failed: u3');
    expect(up.stdout).not.toMatch(/Started upgrading cluster: u[12]|Upgrading cluster \w+: u[12]/);
    expect(up.stderr).toContain(`Error: Upgrade task ${id} finished with failed clusters`);

    const c = byName(await taskJson(id!));
    expect(c.u3).toMatchObject({ is_canary: true, last_action_state: 'failed' });
    expect(c.u1).toMatchObject({ is_canary: false, last_action_state: 'canceled', start_time: 0 });
    expect(c.u2).toMatchObject({ is_canary: false, last_action_state: 'canceled', start_time: 0 });
    const u3 = await ops.pks(['cluster', 'u3']);
    expect(u3.stdout).toMatch(/^Last Action:\s+UPGRADE$/m);
    expect(u3.stdout).toMatch(/^Last Action State:\s+failed$/m);
  }, 180_000);

  it('cancel-task cancels the clusters that have not started, and says so', async () => {
    // An errand whose VM never comes up keeps a Director task running on u1: the broker finds it busy and
    // holds the canary back, so nothing of the run has started when it is cancelled.
    expect(await directorIdle()).toEqual([]);
    stack.bosh.director.cpi.injectFault({
      method: 'create_vm',
      instanceGroup: 'apply-addons',
      hang: true,
      times: 1,
    });
    const errand = await stack.bosh.client.runErrand(await deploymentOf('u1'), 'apply-addons');
    expect(
      (
        await poll(
          () => stack.bosh.client.task(errand.id),
          (t) => t.state === 'processing',
        )
      ).state,
    ).toBe('processing');
    const started = await ops.pks([
      'upgrade-clusters',
      '-c',
      'u1,u2',
      '--canaries',
      'u1',
      '--non-interactive',
      '--json',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as TaskJson).uuid;
    // Whether or not the broker has tried u1 yet, it cannot start while the errand runs.
    expect(byName(await taskJson(id)).u1!.last_action_state).toBe('queued');

    // Only the task's owner (or an admin) may cancel it; a manage user does not even see it.
    const other = await alice.pks(['cancel-task', id]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^Error: /);

    const canceled = await ops.pks(['cancel-task', id]);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(canceled.stdout).toMatch(/^u1\s+canceled\s+/m);
    expect(canceled.stdout).toMatch(/^u2\s+canceled\s+/m);
    const done = await poll(
      () => taskJson(id),
      (t) => t.status === 'canceled',
    );
    expect(done.status).toBe('canceled');
    expect(byName(done).u2).toMatchObject({ last_action_state: 'canceled', start_time: 0 });
    expect((await ops.pks(['task', id])).stdout).toContain('Your upgrade task is: canceled');

    stack.bosh.director.cpi.releaseHangs();
    await stack.bosh.client.waitForTask(errand.id).catch(() => undefined);
  }, 180_000);

  it('get-kubeconfig writes a kubeconfig without a login and saves no PKS credentials', async () => {
    const bob = await newShell();
    const args = (password: string) => [
      'get-kubeconfig',
      'u1',
      '-a',
      stack.api.url,
      '-u',
      'ops',
      '-p',
      password,
      '--ca-cert',
      stack.caFile,
    ];
    const wrong = await bob.pks(args('not-the-password'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('Error: Credentials were rejected, please try again.\n');

    const got = await bob.pks(args('ops-password-1'));
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain('Fetching kubeconfig for cluster u1 and user ops.');
    const kube = parse(await readFile(bob.env.KUBECONFIG!, 'utf8'));
    expect(kube.contexts.map((c: { name: string }) => c.name)).toContain(kube['current-context']);
    expect(kube.users[0].user['auth-provider'].config['client-id']).toBe('pks_cluster_client');
    await expect(access(join(bob.env.PKS_HOME!, 'creds.yml'))).rejects.toThrow();
    expect((await bob.pks(['clusters'])).stderr).toBe(
      "Error: You are not currently logged in. Please log in with 'pks login'.\n",
    );
    if (kubectlOnPath) {
      const nodes = (await kubectl(bob.env, ['get', 'nodes', '--no-headers'])).trim().split('\n');
      expect(nodes.filter((l) => / Ready /.test(l))).toHaveLength(1);
    }

    // A manage user asking for the admin's cluster hears what PKS says: not found.
    const carol = await newShell();
    const theirs = await carol.pks([
      'get-kubeconfig',
      'u1',
      '-a',
      stack.api.url,
      '-u',
      'alice',
      '-p',
      'alice-password-1',
      '--ca-cert',
      stack.caFile,
    ]);
    expect(theirs.code).toBe(1);
    expect(theirs.stderr).toBe('Error: Cluster u1 not found\n');
  }, 120_000);

  it('completes cluster names in bash from pks clusters --json, and nothing without a login', async () => {
    // The completion calls the binary the user typed (COMP_WORDS[0]): here a one-line wrapper.
    const shim = join(ops.home, 'pks');
    await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${PKS_BIN}" "$@"\n`);
    await chmod(shim, 0o755);
    const complete = async (sh: Shell, words: string[]) => {
      const script = (await sh.pks(['completion', 'bash'])).stdout;
      const line = words.map((w) => `'${w}'`).join(' ');
      const { stdout } = await run(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _pks; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { env: sh.env, timeout: 30_000 },
      );
      return stdout.split('\n').filter(Boolean).sort();
    };
    expect(await complete(ops, [shim, 'cluster', ''])).toEqual(['u1', 'u2', 'u3']);
    expect(await complete(ops, [shim, 'resize', 'u'])).toEqual(['u1', 'u2', 'u3']);
    expect(await complete(ops, [shim, 'get-credentials', 'u2'])).toEqual(['u2']);
    // Flags still complete, and commands that take no cluster offer none.
    expect(await complete(ops, [shim, 'resize', '--n'])).toEqual(['--non-interactive', '--num-nodes']);
    expect(await complete(ops, [shim, 'plans', ''])).toEqual(['--help', '--json']);
    // A manage user sees only her own clusters (none); a shell with no login asks nothing.
    expect(await complete(alice, [shim, 'cluster', ''])).toEqual([]);
    const nobody = await newShell();
    expect(await complete(nobody, [shim, 'cluster', ''])).toEqual([]);
  }, 60_000);

  it('refuses the SSO login flags with the reason, as this UAA has no passcodes or browser login for pks_cli', async () => {
    const sh = await newShell();
    for (const flags of [['--sso'], ['--sso-passcode', '123456'], ['--sso-auto']]) {
      const res = await sh.pks(['login', '-a', stack.api.url, '--ca-cert', stack.caFile, ...flags]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        new RegExp(`^Error: ${flags[0]}: is not supported: .+; log in with -u and -p`),
      );
    }
  });
});

describe('Ctrl-C during --wait (the built binary, slow sim VMs)', () => {
  let stack: Stack;
  let ops: Shell;

  beforeAll(async () => {
    await buildCli();
    // Each VM takes 1.5 s to create: a create stays in progress long enough to interrupt its --wait.
    stack = await startStack('127.1.83.0/24', { sim: { latencyMs: { create_vm: 1_500 } } });
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    ops = await newShell();
    const login = await ops.pks([
      'login',
      '-a',
      stack.api.url,
      '-u',
      'ops',
      '-p',
      'ops-password-1',
      '--ca-cert',
      stack.caFile,
    ]);
    expect(login.code, login.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('detaches without cancelling, says how to keep watching, and the create still completes', async () => {
    const waiting = ops.start([
      'create-cluster',
      'slow',
      '-e',
      'slow.example.test',
      '-p',
      'small',
      '-n',
      '1',
      '--wait',
    ]);
    // The first progress line is printed once the subscription is up: the wait is really under way.
    const deadline = Date.now() + 60_000;
    while (!/CREATE in progress/.test(waiting.output().stderr) && Date.now() < deadline) await sleep(50);
    expect(waiting.output().stderr).toMatch(/CREATE in progress/);
    waiting.child.kill('SIGINT');
    const ended = await waiting.done;
    expect(ended.code).toBe(130);
    expect(ended.stderr).toContain(
      "Detached; the operation continues. Use 'pks cluster slow' to monitor the state of your cluster",
    );
    expect(ended.stderr).not.toMatch(/^Error:/m);

    const now = JSON.parse((await ops.pks(['cluster', 'slow', '--json'])).stdout);
    expect(now).toMatchObject({ last_action: 'CREATE', last_action_state: 'in progress' });
    const later = await poll(
      async () => JSON.parse((await ops.pks(['cluster', 'slow', '--json'])).stdout),
      (c) => c.last_action_state !== 'in progress',
    );
    expect(later).toMatchObject({ last_action: 'CREATE', last_action_state: 'succeeded' });
  }, 180_000);
});
