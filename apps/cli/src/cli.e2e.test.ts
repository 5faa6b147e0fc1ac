import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  buildCli,
  inTerminal,
  scriptOnPath,
  kubectl,
  kubectlOnPath,
  newShell,
  startStack,
  type Shell,
  type Stack,
} from './testing/stack.js';

// The built `pks` binary as a subprocess against a whole PKS on loopback (sim VMs in 127.1.80.0/24).

const PRIVILEGES =
  'You do not have enough privileges to perform this action. Please contact the PKS administrator.';

describe('pks (the built binary) against UAA + API + broker + embedded Director', () => {
  let stack: Stack;
  let alice: Shell;
  let ops: Shell;

  beforeAll(async () => {
    await buildCli();
    stack = await startStack('127.1.80.0/24');
    await stack.uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    alice = await newShell();
    ops = await newShell();
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const login = (sh: Shell, user: string, password: string) =>
    sh.pks(['login', '-a', stack.api.url, '-u', user, '-p', password, '--ca-cert', stack.caFile]);

  it('logs in (creds.yml 0600), refuses a wrong password, and needs a login before anything else', async () => {
    const before = await alice.pks(['plans']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(
      "Error: You are not currently logged in. Please log in with 'pks login'.",
    );

    const wrong = await login(alice, 'alice', 'not-her-password');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('Error: Credentials were rejected, please try again.\n');

    const ok = await login(alice, 'alice', 'alice-password-1');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`API Endpoint: ${stack.api.url}`);
    expect(ok.stdout).toContain('User: alice');
    expect(ok.stdout).toContain('Login successful.');
    const creds = join(alice.env.PKS_HOME!, 'creds.yml');
    expect((await stat(creds)).mode & 0o777).toBe(0o600);
    const saved = parse(await readFile(creds, 'utf8'));
    expect(saved).toMatchObject({ api: stack.api.url, username: 'alice', client_id: 'pks_cli' });
    expect(saved.ca_cert).toContain('BEGIN CERTIFICATE');
    expect((await login(ops, 'ops', 'ops-password-1')).code).toBe(0);
  });

  it('refreshes an unusable access token silently from the refresh token', async () => {
    const path = join(alice.env.PKS_HOME!, 'creds.yml');
    const saved = parse(await readFile(path, 'utf8'));
    await writeFile(path, stringify({ ...saved, access_token: 'expired.garbage.token' }), { mode: 0o600 });
    const plans = await alice.pks(['plans']);
    expect(plans.stderr).toBe('');
    expect(plans.code).toBe(0);
    expect(parse(await readFile(path, 'utf8')).access_token).not.toBe('expired.garbage.token');
  });

  it('lists plans as PKS does, and as the v1 JSON model', async () => {
    const text = await alice.pks(['plans']);
    expect(text.stdout).toMatch(/^Name\s+ID\s+Masters\s+Workers\s+Description$/m);
    expect(text.stdout).toMatch(/^small\s+/m);
    const json = JSON.parse((await alice.pks(['plans', '--json'])).stdout);
    expect(json.map((p: { name: string }) => p.name)).toEqual(['small', 'medium', 'large']);
    expect(Object.keys(json[0]).sort()).toEqual(
      [
        'allow-privileged-containers',
        'description',
        'id',
        'master_instances',
        'name',
        'worker_instances',
      ].sort(),
    );
  });

  it('walks create --wait → cluster → get-credentials + kubectl → resize --wait → upgrade → delete', async () => {
    // An unrelated context that get-credentials must keep, with its own file mode.
    await mkdir(join(alice.home, '.kube'), { recursive: true });
    const unrelated = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'elsewhere', cluster: { server: 'https://elsewhere.example:6443' } }],
      users: [{ name: 'someone', user: { token: 't' } }],
      contexts: [{ name: 'elsewhere', context: { cluster: 'elsewhere', user: 'someone' } }],
      'current-context': 'elsewhere',
    };
    await writeFile(alice.env.KUBECONFIG!, stringify(unrelated), { mode: 0o640 });

    const created = await alice.pks([
      'create-cluster',
      'c1',
      '-e',
      'c1.pks.example.test',
      '-p',
      'small',
      '-n',
      '2',
      '--wait',
      '--json',
    ]);
    expect(created.stderr).toMatch(/CREATE in progress: /);
    expect(created.code).toBe(0);
    const c1 = JSON.parse(created.stdout);
    expect(c1).toMatchObject({
      name: 'c1',
      plan_name: 'small',
      last_action: 'CREATE',
      last_action_state: 'succeeded',
      kubernetes_master_ips: [expect.stringMatching(/^127\.1\.80\./)],
      parameters: {
        kubernetes_master_host: 'c1.pks.example.test',
        kubernetes_master_port: 8443,
        kubernetes_worker_instances: 2,
      },
    });
    expect(c1.uuid).toMatch(/^[0-9a-f-]{36}$/);
    // Not a TTY: plain timestamped lines, Director stages among them.
    expect(created.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ /m);

    const shown = await alice.pks(['cluster', 'c1']);
    for (const label of [
      'PKS Version:',
      'Name:',
      'K8s Version:',
      'Plan Name:',
      'UUID:',
      'Last Action:',
      'Last Action State:',
      'Last Action Description:',
      'Kubernetes Master Host:',
      'Kubernetes Master Port:',
      'Worker Nodes:',
      'Kubernetes Master IP(s):',
      'Network Profile Name:',
    ]) {
      expect(shown.stdout).toContain(label);
    }
    expect(shown.stdout).toMatch(/^Last Action State:\s+succeeded$/m);
    const details = await alice.pks(['cluster', 'c1', '--details']);
    expect(details.stdout).toContain('NSXT Network Details:');
    expect(details.stdout).toContain('Kubernetes Settings Details:');
    expect(details.stdout).toMatch(/kubelet-drain-timeout: \d+/);

    const list = await alice.pks(['clusters']);
    expect(list.stdout).toMatch(/^PKS Version\s+Name\s+k8s Version\s+Plan Name\s+UUID\s+Status\s+Action$/m);
    expect(list.stdout).toMatch(/\sc1\s+\S+\s+small\s+[0-9a-f-]{36}\s+succeeded\s+CREATE/);

    const creds = await alice.pks(['get-credentials', 'c1'], {
      env: { PKS_USER_PASSWORD: 'alice-password-1' },
    });
    expect(creds.stderr).toBe('');
    expect(creds.stdout).toContain('Fetching credentials for cluster c1.');
    expect(creds.stdout).toContain('Context set for cluster c1.');
    const kube = parse(await readFile(alice.env.KUBECONFIG!, 'utf8'));
    expect(kube['current-context']).toBe('c1');
    expect(kube.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['c1', 'elsewhere']);
    expect(kube.clusters.find((c: { name: string }) => c.name === 'elsewhere')).toEqual(
      unrelated.clusters[0],
    );
    expect((await stat(alice.env.KUBECONFIG!)).mode & 0o777).toBe(0o640);

    const readyNodes = async () =>
      (await kubectl(alice.env, ['get', 'nodes', '--no-headers']))
        .trim()
        .split('\n')
        .filter((l) => / Ready /.test(l));
    if (kubectlOnPath) expect(await readyNodes()).toHaveLength(2);

    const resized = await alice.pks(['resize', 'c1', '-n', '3', '--non-interactive', '--wait', '--json']);
    expect(resized.code).toBe(0);
    expect(JSON.parse(resized.stdout)).toMatchObject({
      last_action: 'UPDATE',
      last_action_state: 'succeeded',
      parameters: { kubernetes_worker_instances: 3 },
    });
    if (kubectlOnPath) expect(await readyNodes()).toHaveLength(3);

    const tooMany = await alice.pks(['resize', 'c1', '-n', '99', '--non-interactive']);
    // Bad input, even when only the API can tell: a usage mistake (2), naming the flag.
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toBe(
      "Error: --num-nodes: 99 workers is outside plan small's limits (allowed: 1 to 10)\n",
    );

    const updated = await alice.pks([
      'update-cluster',
      'c1',
      '--kubelet-drain-timeout',
      '10',
      '--non-interactive',
      '--wait',
    ]);
    expect(updated.stderr).toMatch(/UPDATE succeeded/);
    expect(updated.code).toBe(0);
    expect((await alice.pks(['update-cluster', 'c1'])).code).toBe(2);

    expect((await alice.pks(['clusters'])).stdout).not.toContain('Upgrade is available');
    // A cluster an older openpks created: `pks clusters` says an upgrade is available, until it is done.
    await stack.db.query(`UPDATE api.clusters SET pks_version = '1.5.2-openpks' WHERE name = 'c1'`);
    const behind = await alice.pks(['clusters']);
    expect(behind.stdout).toMatch(/^Upgrade is available to PKS Version: 1\.6\.\S+$/m);
    expect(behind.stdout).toMatch(/^1\.5\.2-openpks\s+c1\s/m);
    const upgraded = await alice.pks(['upgrade-cluster', 'c1', '--non-interactive', '--wait']);
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout).toMatch(/^Last Action:\s+UPGRADE$/m);
    expect((await alice.pks(['clusters'])).stdout).not.toContain('Upgrade is available');

    // Without --non-interactive it asks; "n" keeps the cluster.
    const kept = await alice.pks(['delete-cluster', 'c1'], { input: 'n\n' });
    expect(kept.stderr).toContain('Are you sure you want to delete cluster c1? (y/n)');
    expect(kept.stdout).toContain('Delete cancelled.');
    expect((await alice.pks(['cluster', 'c1'])).code).toBe(0);

    const deleted = await alice.pks(['delete-cluster', 'c1', '--wait'], { input: 'y\n' });
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain('Cluster c1 has been deleted.');
    const gone = await alice.pks(['cluster', 'c1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('Error: Cluster c1 not found\n');
    expect(JSON.parse((await alice.pks(['clusters', '--json'])).stdout)).toEqual([]);
  }, 300_000);

  it("shows a manage user the admin's cluster as not found, and refuses admin-only actions with PKS's words", async () => {
    const made = await ops.pks([
      'create-cluster',
      'opsc',
      '-e',
      'opsc.example.test',
      '-p',
      'small',
      '-n',
      '1',
      '--wait',
    ]);
    expect(made.code).toBe(0);
    const look = await alice.pks(['cluster', 'opsc']);
    expect(look.code).toBe(1);
    expect(look.stderr).toBe('Error: Cluster opsc not found\n');
    const creds = await alice.pks(['get-credentials', 'opsc'], {
      env: { PKS_USER_PASSWORD: 'alice-password-1' },
    });
    expect(creds.stderr).toBe('Error: Cluster opsc not found\n');

    const file = join(alice.home, 'np.json');
    await writeFile(
      file,
      JSON.stringify({ name: 'np1', description: 'small lb', parameters: { lb_size: 'small' } }),
    );
    const refused = await alice.pks(['create-network-profile', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`Error: ${PRIVILEGES}\n`);

    const createdNp = await ops.pks(['create-network-profile', file]);
    expect(createdNp.stdout).toContain('Network profile np1 successfully created');
    expect((await alice.pks(['network-profiles'])).stdout).toMatch(/^np1\s+small lb$/m);
    expect(JSON.parse((await alice.pks(['network-profile', 'np1', '--json'])).stdout)).toEqual({
      name: 'np1',
      description: 'small lb',
      parameters: { lb_size: 'small' },
    });
    expect((await ops.pks(['delete-network-profile', 'np1', '--non-interactive'])).code).toBe(0);
  }, 120_000);

  it('upgrades clusters as a task and shows it', async () => {
    const up = await ops.pks(['upgrade-clusters', '-c', 'opsc', '--non-interactive', '--wait']);
    expect(up.code).toBe(0);
    const id = /Your taskID for the upgrade task is: (\S+)/.exec(up.stdout)?.[1];
    expect(id).toBeDefined();
    expect(up.stdout).toContain('Upgrading cluster succeeded: opsc');
    expect(up.stdout).toContain(`Upgrade task ${id} is done.`);
    const task = await ops.pks(['task', id!]);
    expect(task.stdout).toContain('Your upgrade task is: done');
    expect(task.stdout).toMatch(/^Name\s+Status\s+Start time\s+End time\s+isCanary$/m);
    expect(JSON.parse((await ops.pks(['task', id!, '--json'])).stdout)).toMatchObject({
      uuid: id,
      status: 'done',
      clusters: [{ cluster_name: 'opsc', last_action_state: 'succeeded', is_canary: false }],
    });
  }, 120_000);

  it('exits 1 with the reason when a --wait operation fails', async () => {
    stack.bosh.director.cpi.injectFault({
      method: 'create_vm',
      instanceGroup: 'master',
      nth: 1,
      times: 1,
      message: 'no capacity left in az1',
    });
    const failed = await alice.pks([
      'create-cluster',
      'bad',
      '-e',
      'bad.example.test',
      '-p',
      'small',
      '--wait',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^Error: CREATE of cluster bad failed: .+/m);
    expect((await alice.pks(['cluster', 'bad'])).stdout).toMatch(/^Last Action State:\s+failed$/m);
  }, 120_000);

  it.runIf(scriptOnPath)(
    'draws a live progress bar on a terminal',
    async () => {
      const tty = await inTerminal(ops, ['resize', 'opsc', '-n', '2', '--non-interactive', '--wait']);
      expect(tty).toMatch(/\[#*\.*\] +\d+%/);
      expect(tty).toContain('\x1b[2K');
      expect(tty).toMatch(/Worker Nodes:\s+2/);
    },
    120_000,
  );

  it('exits 2 on usage mistakes and prints completion scripts', async () => {
    expect((await alice.pks(['create-cluster', 'x'])).code).toBe(2);
    expect((await alice.pks(['no-such-command'])).code).toBe(2);
    const bash = await alice.pks(['completion', 'bash']);
    expect(bash.stdout).toContain('complete -F _pks pks');
    expect(bash.stdout).toContain('get-credentials');
    expect((await alice.pks(['completion', 'zsh'])).stdout).toContain('#compdef pks');
    expect((await alice.pks(['resize', '--help'])).stdout).toContain('Examples:');
  });

  it('logs out: the tokens are gone, the kubeconfig stays', async () => {
    const kubeBefore = await readFile(alice.env.KUBECONFIG!, 'utf8');
    expect((await alice.pks(['logout'])).stdout).toContain('Logout successful.');
    const after = await alice.pks(['clusters']);
    expect(after.code).toBe(1);
    expect(after.stderr).toBe("Error: You are not currently logged in. Please log in with 'pks login'.\n");
    expect(await readFile(alice.env.KUBECONFIG!, 'utf8')).toBe(kubeBefore);
  });
});
