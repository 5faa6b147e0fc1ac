import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTcpProxy, type TcpProxy } from './testing/proxy.js';
import { buildCli, newShell, startStack, type RunningPks, type Shell, type Stack } from './testing/stack.js';

// `pks clusters --watch` and `pks cluster NAME --watch`, the built binary against a whole PKS on loopback,
// while clusters are created and deleted through the API beside it, and while its connection is cut.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until what `pks` has printed on `stream` matches `pattern`; fails with all of it otherwise. */
async function printed(
  run: RunningPks,
  pattern: RegExp,
  stream: 'stdout' | 'stderr' = 'stdout',
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = run.output();
    if (pattern.test(out[stream])) return out[stream];
    if (Date.now() > deadline || run.child.exitCode !== null) {
      throw new Error(
        `${stream} never matched ${pattern} (exit ${run.child.exitCode}):\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`,
      );
    }
    await sleep(50);
  }
}

/** Ctrl-C, as a terminal sends it; resolves how the process ended. */
async function interrupt(run: RunningPks) {
  run.child.kill('SIGINT');
  return run.done;
}

const NOT_LOGGED_IN = "Error: You are not currently logged in. Please log in with 'pks login'.";

describe.each(testDatabaseBackends())('pks --watch on $name', (backend) => {
  let stack: Stack;
  let proxy: TcpProxy;
  let ops: Shell;
  let viaProxy: Shell;
  let token: string;
  const net = backend.name === 'pglite' ? 84 : 85;

  const api = async (query: string) => {
    const { data, errors } = await stack.api.query(token, query);
    expect(errors, JSON.stringify(errors)).toBeUndefined();
    return data;
  };
  const create = (name: string) =>
    api(
      `mutation{ createCluster(input:{name:"${name}", planName:"small", externalHostname:"${name}.example.test", numNodes:1}){ name } }`,
    );
  const remove = (name: string) => api(`mutation{ deleteCluster(name:"${name}"){ name } }`);
  const stateOf = async (name: string) => {
    const { data } = await stack.api.query(
      token,
      `{ cluster(name:"${name}"){ lastAction lastActionState } }`,
    );
    return data?.cluster as { lastAction: string; lastActionState: string } | null | undefined;
  };
  const settled = async (name: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const c = await stateOf(name);
      if (c && c.lastActionState !== 'in progress' && c.lastActionState !== 'queued') return c;
      await sleep(100);
    }
    throw new Error(`${name} still busy after ${timeoutMs} ms`);
  };
  const gone = async (name: string) => {
    const deadline = Date.now() + 60_000;
    while ((await stateOf(name)) && Date.now() < deadline) await sleep(100);
  };
  const login = (sh: Shell, url: string, user: string, password: string) =>
    sh.pks(['login', '-a', url, '-u', user, '-p', password, '--ca-cert', stack.caFile]);

  beforeAll(async () => {
    await buildCli();
    // Each VM takes a moment to create, so a create is seen in progress, with the Director's percentages.
    stack = await startStack(`127.1.${net}.0/24`, { backend, sim: { latencyMs: { create_vm: 700 } } });
    await stack.uaa.createUser('ops', 'ops-password-1', ['pks.clusters.admin']);
    proxy = await startTcpProxy(stack.api.url);
    ops = await newShell();
    viaProxy = await newShell();
    expect((await login(ops, stack.api.url, 'ops', 'ops-password-1')).code).toBe(0);
    const proxied = await login(viaProxy, proxy.url, 'ops', 'ops-password-1');
    expect(proxied.code, proxied.stderr).toBe(0);
    token = (await stack.uaa.tokenFor({ username: 'ops', password: 'ops-password-1' })).access_token;
    await create('standing');
    await settled('standing');
  }, 300_000);

  afterAll(async () => {
    await proxy?.stop();
    await stack?.stop();
  });

  it('prints the table, then a row per change of a cluster created and deleted elsewhere; Ctrl-C ends it with 0', async () => {
    const before = (await ops.pks(['clusters'])).stdout;
    const watch = ops.start(['clusters', '--watch']);
    await printed(watch, /^\S+\s+standing\s+.*\s+succeeded\s+CREATE$/m);
    // The table as `pks clusters` prints it, less the blank line that ends it: change rows go right under.
    expect(`${watch.output().stdout}\n`).toBe(before);

    await create('w-table');
    await printed(watch, /^\S+\s+w-table\s+.*\s+in progress \(\S.* \d+%\)\s+CREATE$/m);
    await printed(watch, /^\S+\s+w-table\s+.*\s+succeeded\s+CREATE$/m);
    await remove('w-table');
    await printed(watch, /^\S+\s+w-table\s+.*\s+deleted\s+DELETE$/m);

    const lines = watch.output().stdout.trimEnd().split('\n');
    const header = lines.findIndex((l) => /^PKS Version\s+Name\s+k8s Version/.test(l));
    // Change rows come under the one header, in its columns: the Status column starts where it does.
    expect(lines.filter((l) => l.startsWith('PKS Version'))).toHaveLength(1);
    const statusAt = lines[header]!.indexOf('Status');
    const changes = lines.slice(header + 2).filter((l) => / w-table /.test(l));
    expect(changes.length).toBeGreaterThanOrEqual(3);
    for (const l of changes) expect(l.slice(statusAt)).toMatch(/^(in progress|succeeded|deleted)/);
    expect(changes.at(-1)).toMatch(/deleted\s+DELETE$/);

    const ended = await interrupt(watch);
    expect(ended.code).toBe(0);
    expect(ended.stderr).not.toMatch(/Error|\n\s+at /);
  }, 120_000);

  it('prints one JSON object a line with --json: the list as ADDED, then ADDED, MODIFIED and DELETED', async () => {
    const listed = JSON.parse((await ops.pks(['clusters', '--json'])).stdout) as Record<string, unknown>[];
    const watch = ops.start(['clusters', '-w', '--json']);
    await printed(watch, /"name":"standing"/);
    await create('w-json');
    await printed(
      watch,
      /"type":"MODIFIED".*"last_action_state":"succeeded".*"name":"w-json"|"type":"MODIFIED"[^\n]*"name":"w-json"[^\n]*"last_action_state":"succeeded"/,
    );
    await remove('w-json');
    await printed(watch, /"type":"DELETED"[^\n]*"name":"w-json"/);
    const ended = await interrupt(watch);
    expect(ended.code).toBe(0);

    const objects = ended.stdout
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            cluster: Record<string, unknown>;
            event?: Record<string, unknown>;
          },
      );
    // The list first, each cluster as `pks clusters --json` shows it.
    expect(objects.slice(0, listed.length)).toEqual(listed.map((cluster) => ({ type: 'ADDED', cluster })));
    const ours = objects.filter((o) => o.cluster.name === 'w-json');
    expect(ours[0]).toMatchObject({ type: 'ADDED', cluster: { last_action: 'CREATE' } });
    expect(ours.slice(1, -1).every((o) => o.type === 'MODIFIED')).toBe(true);
    expect(ours.some((o) => o.type === 'MODIFIED' && typeof o.event?.progress === 'number')).toBe(true);
    expect(ours.at(-1)).toMatchObject({
      type: 'DELETED',
      event: { last_action: 'DELETE', last_action_state: 'succeeded' },
    });
    for (const o of ours) {
      expect(Object.keys(o.cluster).sort()).toEqual(Object.keys(listed[0]!).sort());
      if (o.event) expect(o.event).toMatchObject({ kind: expect.any(String), at: expect.any(String) });
    }
  }, 120_000);

  it('follows one cluster with `pks cluster NAME --watch` and exits 0 when it is deleted', async () => {
    await create('w-one');
    await settled('w-one');
    const shown = (await ops.pks(['cluster', 'w-one'])).stdout;
    const watch = ops.start(['cluster', 'w-one', '--watch']);
    const json = ops.start(['cluster', 'w-one', '--watch', '--json']);
    await printed(watch, /Network Profile Name:/);
    await printed(json, /"type":"ADDED"/);
    expect(watch.output().stdout).toBe(shown);

    await remove('w-one');
    const ended = await watch.done;
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout.slice(shown.length)).toMatch(
      /^\S+Z DELETE in progress: [^\n]+\n(.*\n)*\S+Z DELETE succeeded: [^\n]+\nCluster w-one has been deleted\.\n$/,
    );
    const endedJson = await json.done;
    expect(endedJson.code, endedJson.stderr).toBe(0);
    const types = endedJson.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe('ADDED');
    expect(types.at(-1)).toBe('DELETED');

    const missing = await ops.pks(['cluster', 'w-nowhere', '--watch']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error: Cluster w-nowhere not found\n');
  }, 120_000);

  it('reconnects after a dropped connection and resumes where it was: nothing missed, no resync', async () => {
    const watch = viaProxy.start(['clusters', '--watch']);
    await printed(watch, /^\S+\s+standing\s+/m);
    await create('w-drop');
    await printed(watch, /^\S+\s+w-drop\s+.*\s+in progress/m);

    // The network drops mid-create and stays down until the create has ended.
    proxy.cut();
    const atCut = watch.output().stdout.length;
    await printed(watch, /connection lost, reconnecting…/, 'stderr');
    await settled('w-drop');
    expect(watch.output().stdout).not.toMatch(/w-drop\s+.*succeeded/);
    proxy.mend();

    await printed(watch, /^\S+\s+w-drop\s+.*\s+succeeded\s+CREATE$/m);
    // Resumed from its cursor: the Director's progress while it was away is replayed before the end (a
    // fresh list would jump straight to `succeeded`), and the table is not printed again.
    const after = watch.output().stdout.slice(atCut);
    expect(after).toMatch(
      / w-drop .* in progress \(\S.* \d+%\)\s+CREATE\n(.*\n)*.* w-drop .* succeeded\s+CREATE\n/,
    );
    expect(watch.output().stdout.match(/^PKS Version/gm)).toHaveLength(1);
    const ended = await interrupt(watch);
    expect(ended.code).toBe(0);
    expect(ended.stderr).toMatch(/connection lost, reconnecting…\n(.*\n)*reconnected\n/);
    await remove('w-drop');
    await gone('w-drop');
  }, 120_000);

  it('after an outage too long to replay, prints the table again and marks what went meanwhile', async () => {
    await create('w-stays');
    await create('w-goes');
    await settled('w-stays');
    await settled('w-goes');
    const watch = viaProxy.start(['clusters', '--watch']);
    await printed(watch, /^\S+\s+w-goes\s+/m);
    proxy.cut();
    await printed(watch, /connection lost, reconnecting…/, 'stderr');
    // Meanwhile w-goes is deleted, and the fleet's history grows past what a resume replays (MAX_FEED_REPLAY,
    // 1,000 events): written straight into the journal, as a long outage of a busy fleet would leave it.
    await remove('w-goes');
    await gone('w-goes');
    await stack.db.query(
      `INSERT INTO api.cluster_events (cluster_uuid, event)
       SELECT uuid, jsonb_build_object('owner', owner, 'type', 'MODIFIED') FROM api.clusters, generate_series(1, 1001)
       WHERE name = 'w-stays' AND deleted_at IS NULL`,
    );
    proxy.mend();

    // The API answers RESYNC: the table is printed again, and w-goes, no longer in it, gets its deleted row.
    await printed(watch, /^\S+\s+w-goes\s+.*\s+deleted\s*/m);
    await printed(watch, /(^PKS Version.*\n(.*\n)*){2}/m);
    const ended = await interrupt(watch);
    expect(ended.code).toBe(0);
    expect(ended.stdout.match(/^PKS Version/gm)).toHaveLength(2);
    expect(ended.stdout.slice(ended.stdout.lastIndexOf('PKS Version'))).toMatch(/ w-stays /);
    expect(ended.stdout.slice(ended.stdout.lastIndexOf('PKS Version'))).not.toMatch(/ w-goes .*succeeded/);
    await remove('w-stays');
    await gone('w-stays');
  }, 180_000);

  it("ends with the usual 'not logged in' when UAA revokes the user's tokens", async () => {
    const id = await stack.uaa.createUser('rev', 'rev-password-1', ['pks.clusters.manage']);
    const rev = await newShell();
    expect((await login(rev, stack.api.url, 'rev', 'rev-password-1')).code).toBe(0);
    const watch = rev.start(['clusters', '--watch']);
    await printed(watch, /^PKS Version/m);
    const revoke = await stack.uaa.fetch(`${stack.uaa.url}/oauth/token/revoke/user/${id}`, {
      headers: { authorization: `Bearer ${await stack.uaa.adminToken()}` },
    });
    expect(revoke.status).toBe(200);
    const ended = await watch.done;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toBe(`${NOT_LOGGED_IN}\n`);
  }, 60_000);
});
