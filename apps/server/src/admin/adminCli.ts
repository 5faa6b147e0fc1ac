import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from '@openpks/domain';
import { resolveTarget, TargetError, type TargetOptions } from './target.js';
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
    .description('Manages UAA users, groups (scopes) and clients of an openpks installation')
    .option('--data-dir <dir>', 'data directory of pks-server (default: $PKS_DATA_DIR, else ./.pks-data)')
    .option('--url <url>', "the UAA's URL (default: found in the data directory)")
    .option('--ca-cert <file>', "CA certificate to trust (default: the data directory's CA)")
    .option(
      '--client-secret <secret>',
      'secret of the UAA admin client (default: found in the data directory)',
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

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // `--help` exits 0; `pks-admin users` alone shows help with exit code 1, which is a usage error.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`pks-admin: ${error.message}\n`);
      return ExitCode.USAGE;
    }
    if (error instanceof UaaRequestError || error instanceof TargetError || error instanceof NotFound) {
      io.stderr.write(`pks-admin: ${error.message}\n`);
      return ExitCode.FAILURE;
    }
    io.stderr.write(`pks-admin: ${(error as Error).message ?? String(error)}\n`);
    return ExitCode.FAILURE;
  }
}

class NotFound extends Error {}
