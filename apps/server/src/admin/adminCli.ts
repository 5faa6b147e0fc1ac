import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, InputError, InputErrors, validateQuotaLimit } from '@openpks/domain';
import {
  ApiAdminClient,
  ApiRequestError,
  type ClusterOperation,
  type OwnerQuota,
  type OwnerUsage,
  type QuotaLimit,
} from './apiAdminClient.js';
import {
  BrokerClient,
  BrokerError,
  BrokerUnreachableError,
  type UpgradeRun,
  type UpgradeRunInstance,
} from '@openpks/broker';
import { prepareInstallation } from './init.js';
import {
  resolveApiTarget,
  resolveBrokerTarget,
  resolveTarget,
  TargetError,
  type TargetOptions,
} from './target.js';
import {
  UaaAdminClient,
  UaaRequestError,
  type ScimGroup,
  type ScimUser,
  type UaaClient,
} from './uaaAdminClient.js';

export interface AdminCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Base for relative paths (default `process.cwd()`). */
  cwd?: string;
}

/** A usage mistake found after parsing (a bad list value): exit code 2 like commander's own. */
class UsageError extends Error {}

/** Groups every user joins anyway; `users list` shows the others, which are what an operator grants. */
const DEFAULT_GROUP =
  /^(openid|profile|email|roles|user_attributes|uaa\.user|uaa\.offline_token|password\.write|scim\.me|scim\.userids)$/;

function list(value: string): string[] {
  const items = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new UsageError(`expected a comma-separated list, got ${JSON.stringify(value)}`);
  return items;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `pks-admin` as a function, so tests drive it in-process; the bin wires it to the real process. */
export async function runAdminCli(argv: readonly string[], io: AdminCliIo): Promise<number> {
  const out = (text: string) => io.stdout.write(text);
  const cwd = io.cwd ?? process.cwd();
  const program = new Command('pks-admin')
    .description(
      'Manages UAA users, groups (scopes) and clients of an openpks installation, upgrades all clusters, and drives or gives up stuck cluster operations',
    )
    .option('--data-dir <dir>', 'data directory of pks-server (default: $PKS_DATA_DIR, else ./.pks-data)')
    .option('--url <url>', "the UAA's URL (default: found in the data directory)")
    .option('--ca-cert <file>', "CA certificate to trust (default: the data directory's CA)")
    .option(
      '--client-secret <secret>',
      'secret of the UAA admin client (default: found in the data directory)',
    )
    .option('--broker-url <url>', "the PKS Broker's URL (default: found in the data directory)")
    .option('--api-url <url>', "the PKS API's URL (default: found in the data directory)")
    .option(
      '--admin-user <name>',
      'the UAA user with pks.clusters.admin that `operations` signs in as (default: $PKS_ADMIN_USER, else admin; password: $PKS_ADMIN_PASSWORD, else the data directory’s)',
    )
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const client = async () =>
    new UaaAdminClient(await resolveTarget(program.opts<TargetOptions>(), io.env, cwd));
  const json = new Option('--json', 'print JSON');

  const users = program.command('users').description('UAA users').exitOverride();
  users
    .command('add <name>')
    .description('create a user, optionally in groups (scopes such as pks.clusters.manage)')
    .requiredOption('--password <password>', 'the password')
    .option('--email <email>', 'e-mail address (default: the name)')
    .option('--groups <groups>', 'comma-separated groups to join', list)
    .action(async (name: string, options: { password: string; email?: string; groups?: string[] }) => {
      const uaa = await client();
      // Resolve every group first, so a typo creates nothing.
      const groups: ScimGroup[] = [];
      for (const groupName of options.groups ?? []) {
        const group = await uaa.findGroup(groupName);
        if (!group) throw new UsageError(`group ${groupName} does not exist (see pks-admin groups list)`);
        groups.push(group);
      }
      const user = await uaa.createUser({
        userName: name,
        password: options.password,
        email: options.email ?? name,
      });
      for (const group of groups) await uaa.addMember(group.id, user.id);
      out(
        `User ${name} created${groups.length > 0 ? ` in ${groups.map((g) => g.displayName).join(', ')}` : ''}\n`,
      );
    });
  users
    .command('list')
    .description('list users and the groups they were granted')
    .addOption(json)
    .action(async (options: { json?: boolean }) => {
      const all = await (await client()).listUsers();
      const granted = (u: ScimUser) =>
        (u.groups ?? [])
          .map((g) => g.display)
          .filter((g) => !DEFAULT_GROUP.test(g))
          .sort();
      if (options.json) {
        out(
          `${JSON.stringify(
            all.map((u) => ({
              id: u.id,
              name: u.userName,
              email: u.emails?.[0]?.value ?? null,
              origin: u.origin,
              active: u.active,
              groups: granted(u),
            })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      out(
        table([
          ['NAME', 'EMAIL', 'ACTIVE', 'GROUPS'],
          ...all.map((u) => [u.userName, u.emails?.[0]?.value ?? '', String(u.active), granted(u).join(',')]),
        ]),
      );
    });
  users
    .command('delete <name>')
    .description('delete a user')
    .action(async (name: string) => {
      const uaa = await client();
      const user = await uaa.findUser(name);
      if (!user) throw new NotFound(`user ${name} does not exist`);
      await uaa.deleteUser(user.id);
      out(`User ${name} deleted\n`);
    });
  users
    .command('passwd <name>')
    .description("set a user's password (ends the user's refresh tokens)")
    .requiredOption('--password <password>', 'the new password')
    .action(async (name: string, options: { password: string }) => {
      const uaa = await client();
      const user = await uaa.findUser(name);
      if (!user) throw new NotFound(`user ${name} does not exist`);
      await uaa.setPassword(user.id, options.password);
      out(`Password of ${name} changed\n`);
    });

  const groups = program.command('groups').description('UAA groups, which are scopes').exitOverride();
  const membership = async (groupName: string, userName: string) => {
    const uaa = await client();
    const group = await uaa.findGroup(groupName);
    if (!group) throw new NotFound(`group ${groupName} does not exist (see pks-admin groups list)`);
    const user = await uaa.findUser(userName);
    if (!user) throw new NotFound(`user ${userName} does not exist`);
    return { uaa, group, user };
  };
  groups
    .command('add-member <group> <user>')
    .description('grant a user a group (scope)')
    .action(async (groupName: string, userName: string) => {
      const { uaa, group, user } = await membership(groupName, userName);
      if (group.members.some((m) => m.value === user.id)) {
        out(`${userName} is already a member of ${groupName}\n`);
        return;
      }
      await uaa.addMember(group.id, user.id);
      out(`${userName} added to ${groupName}\n`);
    });
  groups
    .command('remove-member <group> <user>')
    .description('take a group (scope) from a user')
    .action(async (groupName: string, userName: string) => {
      const { uaa, group, user } = await membership(groupName, userName);
      if (!group.members.some((m) => m.value === user.id))
        throw new NotFound(`${userName} is not a member of ${groupName}`);
      await uaa.removeMember(group.id, user.id);
      out(`${userName} removed from ${groupName}\n`);
    });
  groups
    .command('list')
    .description('list groups and how many members each has')
    .addOption(json)
    .action(async (options: { json?: boolean }) => {
      const all = await (await client()).listGroups();
      if (options.json) {
        out(
          `${JSON.stringify(
            all.map((g) => ({
              id: g.id,
              name: g.displayName,
              description: g.description ?? null,
              members: g.members.map((m) => m.value),
            })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      out(
        table([
          ['NAME', 'MEMBERS', 'DESCRIPTION'],
          ...all.map((g) => [g.displayName, String(g.members.length), g.description ?? '']),
        ]),
      );
    });

  const clients = program.command('clients').description('UAA OAuth clients').exitOverride();
  clients
    .command('add <id>')
    .description('register a client (e.g. automation with client_credentials and pks.clusters.admin)')
    .option('--secret <secret>', 'client secret (required for client_credentials)')
    .requiredOption(
      '--grant-types <types>',
      'comma-separated: client_credentials, password, refresh_token, authorization_code',
      list,
    )
    .option('--scopes <scopes>', 'comma-separated scopes a user token may carry', list)
    .option('--authorities <authorities>', 'comma-separated scopes of a client token', list)
    .option('--redirect-uris <uris>', 'comma-separated redirect URIs (authorization_code)', list)
    .action(
      async (
        id: string,
        options: {
          secret?: string;
          grantTypes: string[];
          scopes?: string[];
          authorities?: string[];
          redirectUris?: string[];
        },
      ) => {
        await (
          await client()
        ).createClient({
          client_id: id,
          ...(options.secret !== undefined ? { client_secret: options.secret } : {}),
          authorized_grant_types: options.grantTypes,
          scope: options.scopes ?? [],
          authorities: options.authorities ?? [],
          redirect_uri: options.redirectUris ?? [],
        });
        out(`Client ${id} created\n`);
      },
    );
  clients
    .command('list')
    .description('list clients')
    .addOption(json)
    .action(async (options: { json?: boolean }) => {
      const all = await (await client()).listClients();
      const shown = (c: UaaClient) => ({
        id: c.client_id,
        grantTypes: c.authorized_grant_types,
        scopes: c.scope.filter((s) => s !== 'uaa.none'),
        authorities: c.authorities.filter((s) => s !== 'uaa.none'),
        redirectUris: c.redirect_uri ?? [],
      });
      if (options.json) {
        out(`${JSON.stringify(all.map(shown), null, 2)}\n`);
        return;
      }
      out(
        table([
          ['CLIENT ID', 'GRANT TYPES', 'SCOPES', 'AUTHORITIES'],
          ...all
            .map(shown)
            .map((c) => [c.id, c.grantTypes.join(','), c.scopes.join(','), c.authorities.join(',')]),
        ]),
      );
    });
  clients
    .command('delete <id>')
    .description('delete a client')
    .action(async (id: string) => {
      await (await client()).deleteClient(id);
      out(`Client ${id} deleted\n`);
    });

  let runFailed = false;
  // The broker client keeps its connections alive between calls (a followed run polls); every one made is
  // closed when the command ends, however it ends, so no socket outlives it (tests run it in-process).
  const brokerClients: BrokerClient[] = [];
  const broker = async () => {
    const made = new BrokerClient(await resolveBrokerTarget(program.opts<TargetOptions>(), io.env, cwd));
    brokerClients.push(made);
    return made;
  };
  /** The runs an operator starts (and cancels) are theirs: the API shows them as the operator's tasks. */
  const OPERATOR = 'operator';
  const whole = (name: string, min: number) => (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new UsageError(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
    return Number(value);
  };
  const showRun = (run: UpgradeRun) => {
    out(
      `Upgrade run ${run.id}: ${run.state}${run.description ? ` (${run.description})` : ''}\n` +
        `Max in flight: ${run.max_in_flight}   Started by: ${run.created_by ?? 'unknown'}\n\n`,
    );
    if (run.instances.length > 0) {
      out(
        table([
          ['SERVICE INSTANCE', 'CANARY', 'STATE', 'ATTEMPTS', 'DESCRIPTION'],
          ...run.instances.map((i) => [
            i.instance_id,
            i.is_canary ? 'yes' : 'no',
            i.state,
            String(i.attempts),
            i.description,
          ]),
        ]),
      );
    }
  };
  /** Follows a run to its end, printing each instance's changes; exit code 1 unless it succeeded. */
  const follow = async (client: BrokerClient, first: UpgradeRun, json: boolean): Promise<UpgradeRun> => {
    const seen = new Map<string, string>();
    const report = (i: UpgradeRunInstance) => {
      const line = `${i.state}${i.description ? `: ${i.description}` : ''}`;
      if (seen.get(i.instance_id) === line) return;
      seen.set(i.instance_id, line);
      if (!json)
        out(`${new Date().toISOString()}  ${i.instance_id}${i.is_canary ? ' (canary)' : ''}  ${line}\n`);
    };
    let run = first;
    let delay = 250;
    for (;;) {
      run.instances.forEach(report);
      if (!['pending', 'running'].includes(run.state)) return run;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
      const next = await client.upgradeRun(run.id);
      if (JSON.stringify(next.instances) !== JSON.stringify(run.instances)) delay = 250;
      run = next;
    }
  };
  const finish = (run: UpgradeRun, json: boolean) => {
    if (json) out(`${JSON.stringify(run, null, 2)}\n`);
    else out(`\nUpgrade run ${run.id} ${run.state}: ${run.description}\n`);
    if (run.state !== 'succeeded') runFailed = true;
  };

  program
    .command('upgrade-all-clusters')
    .description(
      "upgrade every cluster to this installation's version, like the tile's upgrade-all errand: canaries first, one at a time, then up to --max-in-flight at once; up-to-date clusters are skipped",
    )
    .option(
      '--canaries <n>',
      'how many clusters go first, one at a time (default: pks.yaml broker.upgrades)',
      whole('--canaries', 0),
    )
    .option(
      '--max-in-flight <n>',
      'clusters upgraded at once after the canaries (default: pks.yaml broker.upgrades)',
      whole('--max-in-flight', 1),
    )
    .option('--recreate', 'recreate every VM even when nothing changed')
    .option('--wait', 'follow the run to its end (exit code 1 unless it succeeded)')
    .addOption(json)
    .addHelpText(
      'after',
      '\nExamples:\n  pks-admin upgrade-all-clusters --canaries 1 --max-in-flight 5 --wait\n  pks-admin upgrade-run <id> --wait',
    )
    .action(
      async (options: {
        canaries?: number;
        maxInFlight?: number;
        recreate?: boolean;
        wait?: boolean;
        json?: boolean;
      }) => {
        const client = await broker();
        const run = await client.startUpgradeRun(
          {
            ...(options.canaries !== undefined ? { canaries: options.canaries } : {}),
            ...(options.maxInFlight !== undefined ? { max_in_flight: options.maxInFlight } : {}),
            operation_type: options.recreate ? 'recreate' : 'upgrade',
          },
          OPERATOR,
        );
        if (!options.wait) {
          if (options.json) out(`${JSON.stringify(run, null, 2)}\n`);
          else {
            showRun(run);
            out(`\nFollow it with: pks-admin upgrade-run ${run.id} --wait\n`);
          }
          return;
        }
        if (!options.json)
          out(`Upgrade run ${run.id} started for ${run.instances.length} service instances\n`);
        finish(await follow(client, run, options.json ?? false), options.json ?? false);
      },
    );
  program
    .command('upgrade-run <id>')
    .description('show an upgrade run and its service instances')
    .option('--wait', 'follow the run to its end (exit code 1 unless it succeeded)')
    .addOption(json)
    .action(async (id: string, options: { wait?: boolean; json?: boolean }) => {
      const client = await broker();
      const run = await client.upgradeRun(id);
      if (options.wait)
        return finish(await follow(client, run, options.json ?? false), options.json ?? false);
      if (options.json) out(`${JSON.stringify(run, null, 2)}\n`);
      else showRun(run);
    });
  program
    .command('upgrade-runs')
    .description('list upgrade runs, newest first')
    .addOption(json)
    .action(async (options: { json?: boolean }) => {
      const runs = await (await broker()).upgradeRuns();
      if (options.json) return void out(`${JSON.stringify(runs, null, 2)}\n`);
      if (runs.length === 0) return void out('No upgrade runs\n');
      out(
        table([
          ['ID', 'STATE', 'INSTANCES', 'STARTED BY', 'CREATED', 'DESCRIPTION'],
          ...runs.map((r) => [
            r.id,
            r.state,
            String(r.instances.length),
            r.created_by ?? '',
            r.created_at,
            r.description,
          ]),
        ]),
      );
    });
  program
    .command('cancel-upgrade-run <id>')
    .description('stop an upgrade run: instances not yet started are cancelled, running ones finish')
    .action(async (id: string) => {
      const run = await (await broker()).cancelUpgradeRun(id, OPERATOR);
      const cancelled = run.instances.filter((i) => i.state === 'cancelled').length;
      out(
        `Upgrade run ${id}: ${cancelled} service instances cancelled; those already upgrading will finish\n`,
      );
    });

  program
    .command('init')
    .description(
      'Prepare the files every machine of an installation on a shared PostgreSQL needs: the secret key, the CA and a pks.yaml',
    )
    .requiredOption('--out <dir>', 'directory to write secret.key, ca.crt, ca.key and pks.yaml into')
    .option('--database-url <url>', 'the shared PostgreSQL, written into pks.yaml')
    .option('--external-host <name>', 'the host name clients use, written into pks.yaml')
    .addHelpText(
      'after',
      '\nRun it once, on the first machine: its data directory keeps its key and CA (--data-dir), so what it\n' +
        'sealed and the certificates its users trust stay valid. Then start every machine with PKS_CONFIG\n' +
        "pointing at the prepared pks.yaml; no machine needs a copy of another one's data directory.",
    )
    .action(async (o: { out: string; databaseUrl?: string; externalHost?: string }) => {
      const dataDir = resolve(
        cwd,
        program.opts<TargetOptions>().dataDir ?? (io.env.PKS_DATA_DIR || './.pks-data'),
      );
      const prepared = await prepareInstallation({
        out: resolve(cwd, o.out),
        dataDir,
        ...(o.databaseUrl !== undefined ? { databaseUrl: o.databaseUrl } : {}),
        ...(o.externalHost !== undefined ? { externalHost: o.externalHost } : {}),
      });
      out(
        [
          prepared.fromDataDir
            ? `Took the secret key and the CA of ${dataDir}.`
            : `Generated a new secret key and CA (${dataDir} has none).`,
          `  ${prepared.files.key}   the key sealing shared secrets (private)`,
          `  ${prepared.files.caCert}   the CA clients trust`,
          `  ${prepared.files.caKey}   the CA's key (private)`,
          `  ${prepared.files.config}   the configuration naming them`,
          '',
          `Give every machine this directory, and start each with PKS_CONFIG=${prepared.files.config}`,
          'pks-server start --roles <its roles>.',
          '',
        ].join('\n'),
      );
    });

  const api = async () =>
    new ApiAdminClient(await resolveApiTarget(program.opts<TargetOptions>(), io.env, cwd));
  const operations = program
    .command('operations')
    .description('cluster operations on the PKS API: list them, drive a stuck one again, or give it up')
    .exitOverride();
  operations
    .command('list')
    .description('operations in progress (what may be stuck), newest first; --all adds finished ones')
    .option('--all', 'finished operations too')
    .option('--cluster <name>', "only this cluster's")
    .option('--limit <n>', 'at most this many (default 50)', whole('--limit', 1))
    .addOption(json)
    .action(async (options: { all?: boolean; cluster?: string; limit?: number; json?: boolean }) => {
      const listed = await (
        await api()
      ).operations({ inProgress: !options.all, clusterName: options.cluster, limit: options.limit });
      if (options.json) return void out(`${JSON.stringify(listed, null, 2)}\n`);
      if (listed.length === 0) {
        return void out(options.all ? 'No operations\n' : 'No operations in progress\n');
      }
      out(
        table([
          ['CLUSTER', 'OPERATION', 'PHASE', 'STATE', 'BY', 'DRIVER', 'REQUESTED', 'DESCRIPTION'],
          ...listed.map((o: ClusterOperation) => [
            o.clusterName,
            o.kind,
            o.phase,
            o.state,
            o.originatingUser,
            o.driver ?? '-',
            o.createdAt,
            o.description,
          ]),
        ]),
      );
    });
  operations
    .command('retry <cluster>')
    .description(
      "drive the cluster's operation in progress again now (re-sent to the broker if it never acknowledged it)",
    )
    .action(async (name: string) => {
      const cluster = await (await api()).retry(name);
      out(
        `The ${cluster.lastAction} of cluster ${name} is being driven again (${cluster.lastActionState}: ${cluster.lastActionDescription})\n`,
      );
    });
  operations
    .command('abandon <cluster>')
    .description(
      "end the cluster's operation in progress as failed, so it can be changed or deleted again (the broker and Director are not stopped)",
    )
    .requiredOption('--reason <reason>', 'why, for the record and the cluster’s state')
    .action(async (name: string, options: { reason: string }) => {
      const cluster = await (await api()).abandon(name, options.reason);
      out(`The ${cluster.lastAction} of cluster ${name} was abandoned: ${cluster.lastActionDescription}\n`);
    });

  const quotas = program
    .command('quotas')
    .description('per-owner limits on the clusters, CPUs and memory (GB) of non-admin users’ clusters')
    .exitOverride();
  const gb = (value: number) => String(Math.round(value * 100) / 100);
  // A null limit is none on that resource (PKS's model leaves the field out).
  const ofLimit = (used: string, limit: string | null) =>
    limit === null ? `${used} (no limit)` : `${used} of ${limit}`;
  const limitOf = (q: OwnerQuota) => ({
    ...(q.limit.cpu !== null && { cpu: q.limit.cpu }),
    ...(q.limit.memory !== null && { memory: q.limit.memory }),
    ...(q.limit.cluster !== null && { cluster: q.limit.cluster }),
  });
  // `none` removes that limit (the API's null): the resource is unlimited, the others stay. Kept as the
  // word until the action: commander turns a parser's null into ''.
  const asLimit = (name: string) => (value: string) => {
    if (value.trim() === 'none') return 'none' as const;
    if (!/^\d+(\.\d+)?$/.test(value.trim())) {
      throw new UsageError(`${name} must be a number or none, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };
  const QUOTA_FLAGS: Record<keyof QuotaLimit, string> = {
    cluster: '--clusters',
    cpu: '--cpu',
    memory: '--memory',
  };
  quotas
    .command('set <owner>')
    .description(
      'set an owner’s limits; all three create or replace the quota, fewer change only those of an existing one (or create one limiting only those)',
    )
    .option('--clusters <n>', 'clusters (at least 1), or none for no limit', asLimit('--clusters'))
    .option(
      '--cpu <n>',
      'CPUs of all their VMs (0 blocks creating clusters), or none for no limit',
      asLimit('--cpu'),
    )
    .option(
      '--memory <gb>',
      'memory of all their VMs in GB (0 blocks creating clusters), or none for no limit',
      asLimit('--memory'),
    )
    .action(
      async (
        owner: string,
        options: { clusters?: number | 'none'; cpu?: number | 'none'; memory?: number | 'none' },
      ) => {
        const flag = (value: number | 'none' | undefined) => (value === 'none' ? null : value);
        const given = {
          cluster: flag(options.clusters),
          cpu: flag(options.cpu),
          memory: flag(options.memory),
        };
        let limit: Partial<QuotaLimit>;
        try {
          limit = validateQuotaLimit(given, { partial: true });
        } catch (error) {
          if (!(error instanceof InputError || error instanceof InputErrors)) throw error;
          const errors = error instanceof InputErrors ? error.errors : [error];
          // The domain's rule, under the flag the operator typed.
          throw new UsageError(
            errors
              .map((e) => {
                const key = e.field?.split('.')[1] as keyof QuotaLimit | undefined;
                const flag = key ? QUOTA_FLAGS[key] : 'give at least one of --clusters, --cpu, --memory';
                return key ? `${flag}: ${e.message}; allowed: ${e.allowed}` : flag;
              })
              .join('\n'),
          );
        }
        const quota = await (await api()).setQuota(owner, limit);
        const { cluster, cpu, memory } = quota.limit;
        out(
          `Quota of ${quota.owner}: ${[
            cluster === null ? 'no limit on clusters' : `${cluster} clusters`,
            cpu === null ? 'no limit on CPU' : `${cpu} CPU`,
            memory === null ? 'no limit on memory' : `${gb(memory)} GB memory`,
          ].join(', ')}\n`,
        );
      },
    );
  quotas
    .command('list')
    .description('every quota, with each owner’s usage against it')
    .addOption(json)
    .action(async (options: { json?: boolean }) => {
      const listed = await (await api()).quotas();
      // PKS's quota model, as `GET /v1/quotas` returns it.
      if (options.json) {
        return void out(
          `${JSON.stringify(
            listed.quotas.map((q) => ({ owner: q.owner, limit: limitOf(q) })),
            null,
            2,
          )}\n`,
        );
      }
      if (listed.quotas.length === 0) return void out('No quotas: no owner has limits\n');
      const used = new Map<string, OwnerUsage>(listed.usages.map((u) => [u.owner, u]));
      out(
        table([
          ['OWNER', 'CLUSTERS', 'CPU', 'MEMORY (GB)'],
          ...listed.quotas.map((q) => {
            const u = used.get(q.owner)?.totals ?? { cluster: 0, cpu: 0, memory: 0 };
            return [
              q.owner,
              ofLimit(String(u.cluster), q.limit.cluster === null ? null : String(q.limit.cluster)),
              ofLimit(String(u.cpu), q.limit.cpu === null ? null : String(q.limit.cpu)),
              ofLimit(gb(u.memory), q.limit.memory === null ? null : gb(q.limit.memory)),
            ];
          }),
        ]),
      );
    });
  quotas
    .command('delete <owner>')
    .description('remove an owner’s quota: they have no limits after it')
    .action(async (owner: string) => {
      const quota = await (await api()).deleteQuota(owner);
      out(`Deleted the quota of ${quota.owner}: no limits for them now\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return runFailed ? ExitCode.FAILURE : ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // `--help` exits 0; `pks-admin users` alone shows help with exit code 1, which is a usage error.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`pks-admin: ${error.message}\n`);
      return ExitCode.USAGE;
    }
    if (error instanceof BrokerError) {
      // The broker's own reason, and its status.
      io.stderr.write(`pks-admin: ${error.description} (HTTP ${error.status})\n`);
      return ExitCode.FAILURE;
    }
    if (
      error instanceof UaaRequestError ||
      error instanceof BrokerUnreachableError ||
      error instanceof ApiRequestError ||
      error instanceof TargetError ||
      error instanceof NotFound
    ) {
      io.stderr.write(`pks-admin: ${error.message}\n`);
      return ExitCode.FAILURE;
    }
    io.stderr.write(`pks-admin: ${(error as Error).message ?? String(error)}\n`);
    return ExitCode.FAILURE;
  } finally {
    for (const made of brokerClients) made.close();
  }
}

class NotFound extends Error {}
