import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { ApiClient, normalizeApi } from './client.js';
import { CLUSTER_NAME_ARG, completionScript } from './completion.js';
import { readCreds, removeCreds, writeCreds } from './creds.js';
import { BadInputError, CliError, describeUsageError, UsageError, type FieldNames } from './errors.js';
import {
  clusterBlock,
  clusterDetailsBlock,
  clusterJson,
  clustersTable,
  json,
  labels,
  networkProfileJson,
  planBlock,
  planJson,
  plansTable,
  table,
  taskJson,
  usageBlock,
  usageJson,
} from './format.js';
import type { Io } from './io.js';
import { writeMergedKubeconfig } from './kubeconfig.js';
import * as ops from './operations.js';
import { discoverUaaUrl, grantToken } from './uaa.js';
import { waitForCluster, waitForTask } from './wait.js';
import { watchCluster, watchClusters } from './watch.js';

export const CLI_VERSION = '1.6.1-openpks';

const int = (name: string) => (value: string) => {
  if (!/^-?\d+$/.test(value)) {
    throw new BadInputError([{ field: name, reason: `"${value}" is not a whole number` }]);
  }
  return Number(value);
};

/** One bad flag or argument the CLI finds itself, worded like the API's bad input. */
const badInput = (field: string, reason: string, allowed?: string) =>
  new BadInputError([{ field, reason, ...(allowed !== undefined ? { allowed } : {}) }]);

// What each command's user typed for the API's input fields, so bad input names the flag, the argument
// (`<name>`, as the usage line shows it) or, for a profile file, the key path in the file (kept as is).
const CLUSTER_NAME: FieldNames = { name: '<name>' };
const CREATE_CLUSTER_FIELDS: FieldNames = {
  ...CLUSTER_NAME,
  planName: '--plan',
  externalHostname: '--external-hostname',
  numNodes: '--num-nodes',
  networkProfileName: '--network-profile',
};
const UPGRADE_CLUSTERS_FIELDS: FieldNames = {
  clusters: '--clusters',
  canaries: '--canaries',
  maxInFlight: '--max-in-flight',
};

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

/** Builds the `pks` program over `io`; every action throws CliError for PKS-worded failures. */
export function buildProgram(io: Io): Command {
  const client = async () => new ApiClient(await readCreds(io.env), io.env);

  const confirm = async (question: string, nonInteractive: boolean | undefined) => {
    if (nonInteractive) return true;
    const answer = await io.ask(`${question} (y/n): `);
    if (answer === undefined) {
      throw new UsageError('cannot ask for confirmation without a terminal; use --non-interactive');
    }
    return /^y(es)?$/i.test(answer.trim());
  };

  const program = new Command('pks')
    .description('The PKS CLI: create and manage Kubernetes clusters')
    .version(CLI_VERSION, '--version')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`Error: ${describeUsageError(s)}\n`),
    });

  examples(
    program
      .command('login')
      .description('Log in to PKS')
      .requiredOption('-a, --api <api>', 'the PKS API (host[:port], default port 9021)')
      .option('-u, --username <username>', 'user name')
      .option('-p, --password <password>', 'password (asked for when omitted on a terminal)')
      .option('-k, --skip-ssl-validation', 'do not check the API certificate (insecure)')
      .addOption(new Option('--skip-ssl-verification', 'deprecated: use -k').hideHelp())
      .option('--ca-cert <path>', 'PEM of the CA that signed the API and UAA certificates')
      .option('--client-name <name>', 'log in as a UAA client (client credentials)')
      .option('--client-secret <secret>', 'the client secret')
      .option('--uaa-url <url>', 'UAA, when the API does not name it in /info (env PKS_UAA_URL)')
      .option('--sso', 'log in with a one-time passcode from UAA (not supported by this UAA)')
      .option('--sso-auto', 'log in through the browser (not supported by this UAA)')
      .option('--sso-passcode <passcode>', 'a one-time passcode from UAA (not supported by this UAA)'),
    [
      'pks login -a api.pks.example.com -u alice -p s3cret --ca-cert ca.pem',
      'pks login -a api.pks.example.com --client-name ci --client-secret s3cret -k',
    ],
  ).action(async (o) => {
    // PKS 1.6's SSO logins need UAA features the bundled UAA does not have (docs/cli.md, "Not supported").
    if (o.sso || o.ssoPasscode !== undefined) {
      throw badInput(
        o.sso ? '--sso' : '--sso-passcode',
        "is not supported: this PKS's UAA issues no one-time passcodes (it has no /passcode page); " +
          'log in with -u and -p, or --client-name and --client-secret',
      );
    }
    if (o.ssoAuto) {
      throw badInput(
        '--sso-auto',
        "is not supported: this PKS's UAA client pks_cli has no authorization_code grant or loopback " +
          'redirect URI for a browser login; log in with -u and -p, or --client-name and --client-secret',
      );
    }
    const api = normalizeApi(o.api as string);
    const insecure = Boolean(o.skipSslValidation || o.skipSslVerification);
    const caCert = o.caCert ? await readFile(o.caCert as string, 'utf8') : undefined;
    if (!insecure && caCert === undefined && !api.startsWith('https://')) {
      throw badInput('--api', `${api} is not HTTPS`, 'an https:// URL, or a host[:port]');
    }
    const trust = { ...(caCert ? { ca: caCert } : {}), ...(insecure ? { insecure: true } : {}) };
    const uaa = await discoverUaaUrl(api, (o.uaaUrl as string | undefined) ?? io.env.PKS_UAA_URL, trust);
    let creds;
    if (o.clientName) {
      if (!o.clientSecret) throw badInput('--client-secret', 'is required with --client-name');
      const t = await grantToken(
        uaa,
        {
          kind: 'client_credentials',
          clientId: o.clientName as string,
          clientSecret: o.clientSecret as string,
        },
        trust,
      );
      creds = {
        username: o.clientName as string,
        clientId: o.clientName as string,
        clientSecret: o.clientSecret as string,
        ...t,
      };
    } else {
      if (!o.username) throw badInput('--username', 'is required (or --client-name)');
      const password = (o.password as string | undefined) ?? (await io.ask('Password: ', { secret: true }));
      if (password === undefined) throw badInput('--password', 'is required without a terminal');
      const t = await grantToken(
        uaa,
        { kind: 'password', username: o.username as string, password, clientId: 'pks_cli' },
        trust,
      );
      creds = { username: o.username as string, clientId: 'pks_cli', ...t };
    }
    const full = {
      api,
      uaa,
      ...creds,
      ...(caCert ? { caCert } : {}),
      ...(insecure ? { skipSslValidation: true } : {}),
    };
    // Proves the API answers and accepts the token before anything is saved.
    await new ApiClient(full, io.env).run(ops.Me, {});
    await writeCreds(io.env, full);
    io.out(`\nAPI Endpoint: ${api}\nUser: ${full.username}\nLogin successful.\n\n`);
  });

  program
    .command('logout')
    .description('Log out of PKS (kubeconfig entries stay)')
    .action(async () => {
      await removeCreds(io.env);
      io.out('Logout successful.\n');
    });

  examples(
    program.command('plans').description('View the preconfigured plans').option('--json', 'JSON output'),
    ['pks plans', 'pks plans --json'],
  ).action(async (o) => {
    const { plans } = await (await client()).run(ops.Plans, {});
    if (o.json) return io.out(json(plans.map(planJson)));
    io.out(`\n${plansTable(plans)}\n`);
  });

  examples(
    program
      .command('plan')
      .description('View a plan: its masters and workers, and their VM types')
      .argument('<name>', 'plan name (see pks plans)')
      .option('--json', 'JSON output'),
    ['pks plan small', 'pks plan small --json'],
  ).action(async (name: string, o) => {
    const { plans } = await (await client()).run(ops.Plans, {});
    const plan = plans.find((p) => p.name === name);
    if (plan === undefined) {
      throw badInput('<name>', `plan "${name}" not found`, plans.map((p) => p.name).join(', '));
    }
    if (o.json) return io.out(json(planJson(plan)));
    io.out(`\n${planBlock(plan)}\n`);
  });

  examples(
    program
      .command('usage')
      .description('Show what your clusters are allocated (CPU, memory) against your quota')
      .option('--owner <name>', 'another owner’s usage (pks.clusters.admin or pks.clusters.admin.read)')
      .option('--json', 'JSON output (the PKS v1 usage model)'),
    ['pks usage', 'pks usage --json', 'pks usage --owner alice'],
  ).action(async (o) => {
    const { usage } = await (await client()).run(ops.Usage, { owner: o.owner ?? null }, { owner: '--owner' });
    if (o.json) return io.out(json(usageJson(usage)));
    io.out(`\n${usageBlock(usage)}\n`);
  });

  /** Runs a watch until it ends or Ctrl-C stops it; a stopped watch is a clean end (exit 0). */
  const watching = async (run: (stopped: Promise<void>) => Promise<void>) => {
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const undo = io.onInterrupt?.('', stop) ?? (() => {});
    try {
      await run(stopped);
    } finally {
      undo();
    }
  };

  examples(
    program
      .command('clusters')
      .description('Show all clusters you can see')
      .option('-w, --watch', 'after the table, print each change as it happens, until Ctrl-C')
      .option('--json', 'JSON output (with --watch: one object a line)'),
    ['pks clusters', 'pks clusters --json', 'pks clusters --watch', 'pks clusters -w --json | jq .type'],
  ).action(async (o) => {
    if (o.watch) {
      const c = await client();
      return watching((stopped) => watchClusters(c, io, { json: o.json }, stopped));
    }
    const { clusters, pksVersion } = await (await client()).run(ops.Clusters, {});
    if (o.json) return io.out(json(clusters.map(clusterJson)));
    io.out(`${clustersTable(clusters, pksVersion)}\n`);
  });

  examples(
    program
      .command('cluster')
      .description('View the details of a cluster')
      .argument('<name>', CLUSTER_NAME_ARG)
      .option('--details', 'also show NSX-T and Kubernetes settings')
      .option('-w, --watch', 'then print a line per change, until Ctrl-C or the cluster is deleted')
      .option('--json', 'JSON output (with --watch: one object a line)'),
    ['pks cluster my-cluster', 'pks cluster my-cluster --details --json', 'pks cluster my-cluster --watch'],
  ).action(async (name: string, o) => {
    const c = await client();
    if (o.watch) {
      return watching((stopped) => watchCluster(c, io, name, { json: o.json, details: o.details }, stopped));
    }
    if (o.details) {
      const { cluster, plans } = await c.run(ops.ClusterDetails, { name });
      if (o.json) return io.out(json(clusterJson(cluster)));
      io.out(
        `\n${clusterDetailsBlock(
          cluster,
          plans.find((p) => p.name === cluster.planName),
        )}\n`,
      );
      return;
    }
    const { cluster } = await c.run(ops.Cluster, { name });
    if (o.json) return io.out(json(clusterJson(cluster)));
    io.out(`\n${clusterBlock(cluster)}\n`);
  });

  const afterChange = async (
    c: ApiClient,
    cluster: ops.ClusterView,
    o: { wait?: boolean; json?: boolean },
  ) => {
    if (o.wait) {
      const done = await waitForCluster(c, io, cluster.name);
      if (done === undefined) return;
      if (o.json) return io.out(json(clusterJson(done)));
      io.out(`\n${clusterBlock(done)}\n`);
      return;
    }
    if (o.json) return io.out(json(clusterJson(cluster)));
    io.out(
      `\n${clusterBlock(cluster)}\nUse 'pks cluster ${cluster.name}' to monitor the state of your cluster\n`,
    );
  };

  examples(
    program
      .command('create-cluster')
      .description('Create a new cluster')
      .argument('<name>', CLUSTER_NAME_ARG)
      .requiredOption('-e, --external-hostname <host>', 'address of the Kubernetes API (DNS name or IP)')
      .requiredOption('-p, --plan <plan>', 'plan name (see pks plans)')
      .option('-n, --num-nodes <n>', 'worker nodes (default: the plan’s)', int('--num-nodes'))
      .option('--network-profile <name>', 'NSX-T network profile')
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the operation to finish, showing progress')
      .option('--json', 'JSON output'),
    [
      'pks create-cluster my-cluster -e my-cluster.example.com -p small',
      'pks create-cluster my-cluster -e 10.0.0.10 -p small -n 5 --wait',
    ],
  ).action(async (name: string, o) => {
    const c = await client();
    const { createCluster } = await c.run(
      ops.CreateCluster,
      {
        input: {
          name,
          planName: o.plan as string,
          externalHostname: o.externalHostname as string,
          ...(o.numNodes !== undefined ? { numNodes: o.numNodes as number } : {}),
          ...(o.networkProfile ? { networkProfileName: o.networkProfile as string } : {}),
        },
      },
      CREATE_CLUSTER_FIELDS,
    );
    await afterChange(c, createCluster, o);
  });

  examples(
    program
      .command('resize')
      .description('Change the number of worker nodes of a cluster')
      .argument('<name>', CLUSTER_NAME_ARG)
      .requiredOption('-n, --num-nodes <n>', 'worker nodes', int('--num-nodes'))
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the operation to finish, showing progress')
      .option('--json', 'JSON output (with --wait)'),
    ['pks resize my-cluster -n 5 --wait'],
  ).action(async (name: string, o) => {
    const c = await client();
    if (
      !(await confirm(
        `Are you sure you want to resize cluster ${name} to ${o.numNodes} worker nodes?`,
        o.nonInteractive,
      ))
    ) {
      return io.out('Resize cancelled.\n');
    }
    const { resizeCluster } = await c.run(
      ops.ResizeCluster,
      { name, numNodes: o.numNodes as number },
      { ...CLUSTER_NAME, numNodes: '--num-nodes' },
    );
    await afterChange(c, resizeCluster, o);
  });

  const drainFlags = [
    ['timeout', 'kubeletDrainTimeout', 'minutes to wait for a node drain (0 = forever)'],
    ['grace-period', 'kubeletDrainGracePeriod', 'seconds a pod gets to stop (-1 = its own)'],
    ['force', 'kubeletDrainForce', 'drain pods without a controller (true|false)'],
    ['ignore-daemonsets', 'kubeletDrainIgnoreDaemonsets', 'ignore DaemonSet pods (true|false)'],
    ['delete-local-data', 'kubeletDrainDeleteLocalData', 'drain pods with emptyDir data (true|false)'],
    ['force-node', 'kubeletDrainForceNode', 'drain even when a drain times out (true|false)'],
  ] as const;
  const update = program
    .command('update-cluster')
    .description('Change the settings of a cluster')
    .argument('<name>', CLUSTER_NAME_ARG)
    .option('--num-nodes <n>', 'worker nodes', int('--num-nodes'))
    .option('--network-profile <name>', 'NSX-T network profile');
  for (const [flag, , help] of drainFlags) update.option(`--kubelet-drain-${flag} <value>`, help);
  const UPDATE_CLUSTER_FIELDS: FieldNames = {
    ...CLUSTER_NAME,
    numNodes: '--num-nodes',
    networkProfileName: '--network-profile',
    ...Object.fromEntries(drainFlags.map(([flag, key]) => [`drain.${key}`, `--kubelet-drain-${flag}`])),
  };
  examples(
    update
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the operation to finish, showing progress')
      .option('--json', 'JSON output'),
    [
      'pks update-cluster my-cluster --num-nodes 4',
      'pks update-cluster my-cluster --kubelet-drain-timeout 10 --wait',
    ],
  ).action(async (name: string, o) => {
    const drain: ops.DrainInput = {};
    for (const [flag, key] of drainFlags) {
      const value = o[`kubeletDrain${flag.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase())}`];
      if (value !== undefined) drain[key] = String(value);
    }
    const input: ops.UpdateClusterInput = {
      ...(o.numNodes !== undefined ? { numNodes: o.numNodes as number } : {}),
      ...(o.networkProfile ? { networkProfileName: o.networkProfile as string } : {}),
      ...(Object.keys(drain).length ? { drain } : {}),
    };
    if (Object.keys(input).length === 0) {
      throw new UsageError(
        'at least one action flag is required: --num-nodes, --network-profile or --kubelet-drain-*',
      );
    }
    const c = await client();
    if (!(await confirm(`Are you sure you want to update cluster ${name}?`, o.nonInteractive))) {
      return io.out('Update cancelled.\n');
    }
    const { updateCluster } = await c.run(ops.UpdateCluster, { name, input }, UPDATE_CLUSTER_FIELDS);
    await afterChange(c, updateCluster, o);
  });

  examples(
    program
      .command('upgrade-cluster')
      .description('Upgrade a cluster to this PKS version')
      .argument('<name>', CLUSTER_NAME_ARG)
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the operation to finish, showing progress')
      .option('--json', 'JSON output'),
    ['pks upgrade-cluster my-cluster --wait'],
  ).action(async (name: string, o) => {
    const c = await client();
    if (!(await confirm(`You are about to upgrade ${name}.\nContinue?`, o.nonInteractive))) {
      return io.out('Upgrade cancelled.\n');
    }
    const { upgradeCluster } = await c.run(ops.UpgradeCluster, { name }, CLUSTER_NAME);
    await afterChange(c, upgradeCluster, o);
  });

  examples(
    program
      .command('upgrade-clusters')
      .description('Upgrade several clusters: canaries first, then up to --max-in-flight at once')
      .requiredOption('-c, --clusters <names>', 'comma-separated cluster names')
      .option('--canaries <names>', 'comma-separated clusters upgraded first, one at a time')
      .option('--max-in-flight <n>', 'clusters upgraded at once', int('--max-in-flight'), 1)
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the task to finish')
      .option('--json', 'JSON output'),
    ['pks upgrade-clusters -c a,b,c --canaries a --max-in-flight 2 --wait'],
  ).action(async (o) => {
    const list = (s: string | undefined) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    const clusters = list(o.clusters as string);
    const canaries = list(o.canaries as string | undefined);
    const c = await client();
    if (
      !(await confirm(
        `You are about to upgrade ${[...new Set([...canaries, ...clusters])].join(', ')}.\nContinue?`,
        o.nonInteractive,
      ))
    ) {
      return io.out('Upgrade cancelled.\n');
    }
    const { upgradeClusters: task } = await c.run(
      ops.UpgradeClusters,
      { input: { clusters, ...(canaries.length ? { canaries } : {}), maxInFlight: o.maxInFlight as number } },
      UPGRADE_CLUSTERS_FIELDS,
    );
    if (!o.json) io.out(`Your taskID for the upgrade task is: ${task.id}\n`);
    if (o.wait) {
      const done = await waitForTask(c, o.json ? { ...io, out: () => {} } : io, task.id);
      if (o.json) io.out(json(taskJson(done)));
      if (done.clusters.some((x) => x.lastActionState === 'failed')) {
        throw new CliError(`Upgrade task ${task.id} finished with failed clusters`);
      }
      return;
    }
    if (o.json) io.out(json(taskJson(task)));
  });

  examples(
    program
      .command('delete-cluster')
      .description('Delete a cluster')
      .argument('<name>', CLUSTER_NAME_ARG)
      .option('--non-interactive', 'do not ask for confirmation')
      .option('--wait', 'wait for the deletion to finish'),
    ['pks delete-cluster my-cluster', 'pks delete-cluster my-cluster --non-interactive --wait'],
  ).action(async (name: string, o) => {
    const c = await client();
    if (!(await confirm(`Are you sure you want to delete cluster ${name}?`, o.nonInteractive))) {
      return io.out('Delete cancelled.\n');
    }
    await c.run(ops.DeleteCluster, { name }, CLUSTER_NAME);
    if (o.wait) {
      await waitForCluster(c, io, name, { deleting: true });
      io.out(`Cluster ${name} has been deleted.\n`);
      return;
    }
    io.out(
      `Deletion of ${name} in progress - use 'pks cluster ${name}' to monitor the state of your cluster\n`,
    );
  });

  examples(
    program
      .command('get-credentials')
      .description('Write a kubeconfig entry for a cluster and switch to it')
      .argument('<name>', CLUSTER_NAME_ARG),
    ['pks get-credentials my-cluster', 'PKS_USER_PASSWORD=s3cret pks get-credentials my-cluster'],
  ).action(async (name: string) => {
    const c = await client();
    io.out(`\nFetching credentials for cluster ${name}.\n`);
    // OIDC kubeconfigs carry the user's own tokens, so UAA needs the password (as PKS asks).
    const password = c.creds.clientSecret
      ? undefined
      : (io.env.PKS_USER_PASSWORD ?? (await io.ask('Password: ', { secret: true })));
    // The password comes from PKS_USER_PASSWORD or the prompt: the API's `password` is named as such.
    const { clusterCredentials } = await c.run(
      ops.ClusterCredentials,
      { name, ...(password ? { password } : {}) },
      CLUSTER_NAME,
    );
    await writeMergedKubeconfig(io.env, clusterCredentials.kubeconfig);
    io.out(
      `Context set for cluster ${name}.\n\nYou can now switch between clusters by using:\n$kubectl config use-context <cluster-name>\n`,
    );
  });

  program
    .command('get-kubeconfig')
    .description('Write a kubeconfig entry for a cluster without a prior pks login')
    .argument('<name>', CLUSTER_NAME_ARG)
    .requiredOption('-a, --api <api>', 'the PKS API')
    .requiredOption('-u, --username <username>', 'user name')
    .option('-p, --password <password>', 'password (or PKS_USER_PASSWORD)')
    .option('-k, --skip-ssl-validation', 'do not check certificates (insecure)')
    .option('--ca-cert <path>', 'PEM of the CA')
    .option('--uaa-url <url>', 'UAA, when the API does not name it in /info (env PKS_UAA_URL)')
    .action(async (name: string, o) => {
      const api = normalizeApi(o.api as string);
      const caCert = o.caCert ? await readFile(o.caCert as string, 'utf8') : undefined;
      const insecure = Boolean(o.skipSslValidation);
      const trust = { ...(caCert ? { ca: caCert } : {}), ...(insecure ? { insecure: true } : {}) };
      const uaa = await discoverUaaUrl(api, (o.uaaUrl as string | undefined) ?? io.env.PKS_UAA_URL, trust);
      const password =
        (o.password as string | undefined) ??
        io.env.PKS_USER_PASSWORD ??
        (await io.ask('Password: ', { secret: true }));
      if (password === undefined) throw badInput('--password', 'is required without a terminal');
      const t = await grantToken(
        uaa,
        { kind: 'password', username: o.username as string, password, clientId: 'pks_cli' },
        trust,
      );
      // A one-off session: nothing goes to creds.yml.
      const c = new ApiClient(
        {
          api,
          uaa,
          username: o.username as string,
          clientId: 'pks_cli',
          ...t,
          ...(caCert ? { caCert } : {}),
          ...(insecure ? { skipSslValidation: true } : {}),
        },
        { ...io.env, PKS_HOME: '/nonexistent-pks-home' },
      );
      io.out(`\nFetching kubeconfig for cluster ${name} and user ${o.username as string}.\n`);
      const { clusterCredentials } = await c.run(
        ops.ClusterCredentials,
        { name, password },
        { ...CLUSTER_NAME, password: '--password' },
      );
      await writeMergedKubeconfig(io.env, clusterCredentials.kubeconfig);
      io.out(
        `You can now use the kubeconfig for user ${o.username as string}:\n$kubectl config use-context ${clusterCredentials.contextName}\n`,
      );
    });

  examples(
    program
      .command('network-profiles')
      .description('Show all network profiles')
      .option('--json', 'JSON output'),
    ['pks network-profiles'],
  ).action(async (o) => {
    const { networkProfiles } = await (await client()).run(ops.NetworkProfiles, {});
    if (o.json) return io.out(json(networkProfiles.map(networkProfileJson)));
    io.out(
      `\n${table(
        ['Name', 'Description'],
        networkProfiles.map((n) => [n.name, n.description]),
      )}\n`,
    );
  });

  program
    .command('network-profile')
    .description('View a network profile')
    .argument('<name>', 'profile name')
    .option('--json', 'JSON output')
    .action(async (name: string, o) => {
      const { networkProfile: n } = await (await client()).run(ops.NetworkProfile, { name });
      if (o.json) return io.out(json(networkProfileJson(n)));
      io.out(
        `\n${labels([
          ['Name', n.name],
          ['Description', n.description],
        ])}Parameters:\n${JSON.stringify(n.parameters, null, 2)}\n\n`,
      );
    });

  examples(
    program
      .command('create-network-profile')
      .description('Create a network profile from a JSON file ({name, description, parameters})')
      .argument('<file>', 'profile JSON'),
    ['pks create-network-profile np-small-lb.json'],
  ).action(async (file: string) => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw badInput(file, `cannot be read: ${(error as Error).message}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw badInput(
        file,
        `is not JSON: ${(error as Error).message}`,
        '{"name", "description", "parameters"}',
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badInput(file, 'is not a JSON object', '{"name", "description", "parameters"}');
    }
    const { name, description, parameters } = body as Record<string, unknown>;
    // The file's keys are what its author typed: the API's field paths (`parameters.lb_size`) are those keys.
    const missing = [
      ...(typeof name === 'string' ? [] : [{ field: 'name', reason: 'is required', allowed: 'a string' }]),
      ...(typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)
        ? []
        : [{ field: 'parameters', reason: 'is required', allowed: 'an object of profile parameters' }]),
    ];
    if (missing.length > 0) throw new BadInputError(missing);
    const { createNetworkProfile } = await (
      await client()
    ).run(ops.CreateNetworkProfile, {
      input: {
        name: name as string,
        ...(typeof description === 'string' ? { description } : {}),
        parameters: parameters as Record<string, unknown>,
      },
    });
    io.out(`\nNetwork profile ${createNetworkProfile.name} successfully created\n`);
  });

  program
    .command('delete-network-profile')
    .description('Delete a network profile that no cluster uses')
    .argument('<name>', 'profile name')
    .option('--non-interactive', 'do not ask for confirmation')
    .action(async (name: string, o) => {
      const c = await client();
      if (
        !(await confirm(`Are you sure you want to delete the network profile ${name}?`, o.nonInteractive))
      ) {
        return io.out('Delete cancelled.\n');
      }
      await c.run(ops.DeleteNetworkProfile, { name });
      io.out(`\nDeletion of ${name} completed\n`);
    });

  const taskTable = (t: ops.TaskView) =>
    table(
      ['Name', 'Status', 'Start time', 'End time', 'isCanary'],
      t.clusters.map((x) => [
        x.clusterName,
        x.lastActionState,
        x.startedAt ?? '-',
        x.finishedAt ?? '-',
        String(x.isCanary),
      ]),
    );

  program
    .command('task')
    .description('View an upgrade task')
    .argument('<id>', 'task id')
    .option('--json', 'JSON output')
    .action(async (id: string, o) => {
      const { task } = await (await client()).run(ops.Task, { id });
      if (o.json) return io.out(json(taskJson(task)));
      io.out(`\nYour upgrade task is: ${task.status}\n\n${taskTable(task)}\n`);
    });

  program
    .command('cancel-task')
    .description('Cancel the clusters of an upgrade task that have not started')
    .argument('<id>', 'task id')
    .option('--json', 'JSON output')
    .action(async (id: string, o) => {
      const { cancelTask } = await (await client()).run(ops.CancelTask, { id });
      if (o.json) return io.out(json(taskJson(cancelTask)));
      io.out(`\nTask ${id} is ${cancelTask.status}.\n\n${taskTable(cancelTask)}\n`);
    });

  program
    .command('completion')
    .description('Print a shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      '\nExamples:\n  source <(pks completion bash)\n  pks completion zsh > "${fpath[1]}/_pks"\n',
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh')
        throw badInput('<shell>', `"${shell}" is not supported`, 'bash, zsh');
      io.out(completionScript(shell, program));
    });

  // Commander stops at the first required flag left out; the CLI names every missing one in one pass.
  const required = new Set<Option>();
  for (const command of program.commands) {
    for (const option of command.options) {
      if (!option.mandatory) continue;
      option.mandatory = false;
      required.add(option);
    }
  }
  program.hook('preAction', (_program, command) => {
    const missing = command.options.filter(
      (o) => required.has(o) && command.getOptionValue(o.attributeName()) === undefined,
    );
    if (missing.length > 0) {
      throw new BadInputError(missing.map((o) => ({ field: o.long ?? o.flags, reason: 'is required' })));
    }
  });

  return program;
}

/** Runs one `pks` invocation; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      ) {
        return 0;
      }
      return 2;
    }
    if (error instanceof CliError) {
      // Bad input is one line per field, and each stands alone as an `Error:` line.
      for (const line of error.message.split('\n')) io.err(`Error: ${line}\n`);
      return error.exitCode;
    }
    io.err(`Error: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
