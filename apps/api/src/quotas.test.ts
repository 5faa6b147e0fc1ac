import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@openpks/config';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestStack, type TestStack } from './testing/index.js';

// Quotas and usage end to end: real UAA tokens, the API, the broker over OSB and the embedded Director
// (sim CPI). Two plans with different VM types, so usage is the sum of each plan's own sizes.

const plans = parseConfig({
  vm_types: {
    'quota.master': { cpu: 1, ram: 1024, ephemeral_disk: 8192 },
    'quota.worker': { cpu: 2, ram: 2048, ephemeral_disk: 32768 },
  },
  plans: {
    // 1 master (1 cpu, 1 GB) + n workers (2 cpu, 2 GB): 1 + 2n cpu, 1 + 2n GB.
    tiny: {
      master: { instances: 1, vm_type: 'quota.master' },
      worker: { instances: 1, max_instances: 5, vm_type: 'quota.worker' },
    },
    // 1 master medium (2 cpu, 4 GB) + n workers large (2 cpu, 8 GB): 2 + 2n cpu, 4 + 8n GB.
    big: {
      master: { instances: 1, vm_type: 'medium' },
      worker: { instances: 1, max_instances: 5, vm_type: 'large' },
    },
  },
}).plans;

const USAGE = `query($o:String){ usage(owner:$o){ owner totals { cluster cpu memory }
  clusters { name planName workerInstances cpu memory } limit { cluster cpu memory } } }`;
const SET = `mutation($o:String!,$l:QuotaLimitInput!){ setQuota(owner:$o, limit:$l){ owner limit { cluster cpu memory } } }`;
const UPDATE = `mutation($o:String!,$l:QuotaLimitInput!){ updateQuota(owner:$o, limit:$l){ owner limit { cluster cpu memory } } }`;
const CREATE = `mutation($n:String!,$p:String!,$w:Int){ createCluster(input:{name:$n, planName:$p,
  externalHostname:"q.example.test", numNodes:$w}){ name owner } }`;
const RESIZE = `mutation($n:String!,$w:Int!){ resizeCluster(name:$n, numNodes:$w){ name workerInstances } }`;

describe.each(testDatabaseBackends())('quotas and usage, on $name', (backend) => {
  let stack: TestStack;
  const token = { admin: '', reader: '', alice: '', bob: '', carol: '', erin: '' };
  const gql = (who: keyof typeof token, query: string, variables?: Record<string, unknown>) =>
    stack.api.query(token[who], query, variables);
  const codeOf = (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
    r.errors?.[0]?.extensions?.code;
  const settle = async (name: string) => {
    for (let i = 0; i < 600; i++) {
      const { data } = await gql('admin', `query($n:String!){ cluster(name:$n){ lastActionState } }`, {
        n: name,
      });
      const state = data?.cluster?.lastActionState as string | undefined;
      if (state !== undefined && state !== 'in progress') return state;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} did not settle`);
  };

  beforeAll(async () => {
    stack = await startTestStack({
      backend,
      ipRange: `127.1.${backend.name === 'pglite' ? 236 : 237}.0/24`,
      plans,
    });
    token.admin = await stack.signIn('quota-admin', ['pks.clusters.admin']);
    token.reader = await stack.signIn('quota-reader', ['pks.clusters.admin.read']);
    token.alice = await stack.signIn('alice', ['pks.clusters.manage']);
    token.bob = await stack.signIn('bob', ['pks.clusters.manage']);
    token.carol = await stack.signIn('carol', ['pks.clusters.manage']);
    token.erin = await stack.signIn('erin', ['pks.clusters.manage']);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('shows the VM types’ cpu and memory on plans', async () => {
    const { data } = await gql(
      'alice',
      '{ plans { name masterCpu masterMemory workerCpu workerMemory masterVmType workerVmType } }',
    );
    expect(data.plans).toEqual([
      {
        name: 'tiny',
        masterCpu: 1,
        masterMemory: 1,
        workerCpu: 2,
        workerMemory: 2,
        masterVmType: 'quota.master',
        workerVmType: 'quota.worker',
      },
      {
        name: 'big',
        masterCpu: 2,
        masterMemory: 4,
        workerCpu: 2,
        workerMemory: 8,
        masterVmType: 'medium',
        workerVmType: 'large',
      },
    ]);
  });

  it('sums usage over clusters of two plans, limits enforced at and over the limit, a resize over', async () => {
    expect((await gql('alice', USAGE)).data.usage).toEqual({
      owner: 'alice',
      totals: { cluster: 0, cpu: 0, memory: 0 },
      clusters: [],
      limit: null,
    });
    expect((await gql('alice', CREATE, { n: 'a-tiny', p: 'tiny', w: 2 })).errors).toBeUndefined();
    expect((await gql('alice', CREATE, { n: 'a-big', p: 'big', w: 1 })).errors).toBeUndefined();
    // tiny with 2 workers: 5 cpu, 5 GB; big with 1 worker: 4 cpu, 12 GB.
    expect((await gql('alice', USAGE)).data.usage).toEqual({
      owner: 'alice',
      totals: { cluster: 2, cpu: 9, memory: 17 },
      clusters: [
        { name: 'a-big', planName: 'big', workerInstances: 1, cpu: 4, memory: 12 },
        { name: 'a-tiny', planName: 'tiny', workerInstances: 2, cpu: 5, memory: 5 },
      ],
      limit: null,
    });

    // Exactly at the cluster limit: one more is refused, naming the limit, the usage and the request.
    const set = await gql('admin', SET, { o: 'alice', l: { cluster: 2, cpu: 16, memory: 64 } });
    expect(set.data.setQuota).toEqual({ owner: 'alice', limit: { cluster: 2, cpu: 16, memory: 64 } });
    const third = await gql('alice', CREATE, { n: 'a-third', p: 'tiny', w: 1 });
    expect(codeOf(third)).toBe('QUOTA_EXCEEDED');
    expect(third.errors![0]!.message).toBe('clusters: 2 of 2 used, creating one more exceeds the limit');
    expect((await gql('alice', '{ clusters { name } }')).data.clusters).toHaveLength(2);

    // cpu: 9 used; a tiny cluster with 1 worker needs 3, so 12 fits exactly and 11 does not.
    await gql('admin', UPDATE, { o: 'alice', l: { cluster: 5, cpu: 11 } });
    const over = await gql('alice', CREATE, { n: 'a-third', p: 'tiny', w: 1 });
    expect(over.errors![0]!.message).toBe('cpu: 9 of 11 used, this cluster needs 3');
    await gql('admin', UPDATE, { o: 'alice', l: { cpu: 12 } });
    expect((await gql('alice', CREATE, { n: 'a-third', p: 'tiny', w: 1 })).errors).toBeUndefined();
    expect((await gql('alice', USAGE)).data.usage.totals).toEqual({ cluster: 3, cpu: 12, memory: 20 });

    // Memory: 20 GB used, a big cluster with one worker needs 12.
    await gql('admin', UPDATE, { o: 'alice', l: { cpu: 100, memory: 31.5 } });
    const memory = await gql('alice', CREATE, { n: 'a-fourth', p: 'big', w: 1 });
    expect(memory.errors![0]!.message).toBe('memory: 20 of 31.5 GB used, this cluster needs 12 GB');

    // A resize over: a-tiny from 2 to 4 workers adds 4 cpu to the 12 of 14 used.
    await gql('admin', UPDATE, { o: 'alice', l: { cpu: 14 } });
    expect(await settle('a-tiny')).toBe('succeeded');
    const resize = await gql('alice', RESIZE, { n: 'a-tiny', w: 4 });
    expect(codeOf(resize)).toBe('QUOTA_EXCEEDED');
    expect(resize.errors![0]!.message).toBe('cpu: 12 of 14 used, this resize adds 4');
    // One more worker fits (14 of 14), and fewer workers always do.
    expect((await gql('alice', RESIZE, { n: 'a-tiny', w: 3 })).errors).toBeUndefined();
    expect(await settle('a-tiny')).toBe('succeeded');
    expect((await gql('alice', USAGE)).data.usage.totals.cpu).toBe(14);

    // The refusals are audited with their code; nothing was recorded for them.
    const { data } = await gql(
      'admin',
      '{ auditEvents(limit: 100) { actor action target outcome errorCode } }',
    );
    const refused = (
      data.auditEvents as { action: string; target: string; errorCode: string | null }[]
    ).filter((e) => e.errorCode === 'QUOTA_EXCEEDED');
    expect(refused.map((e) => `${e.action} ${e.target}`).sort()).toEqual([
      'createCluster a-fourth',
      'createCluster a-third',
      'createCluster a-third',
      'resizeCluster a-tiny',
    ]);
  }, 180_000);

  it('blocks creation with a cpu or memory limit of 0', async () => {
    await gql('admin', SET, { o: 'carol', l: { cluster: 3, cpu: 0, memory: 64 } });
    const cpu = await gql('carol', CREATE, { n: 'c-one', p: 'tiny', w: 1 });
    expect(cpu.errors![0]!.message).toBe('cpu: 0 of 0 used, this cluster needs 3');
    await gql('admin', SET, { o: 'carol', l: { cluster: 3, cpu: 64, memory: 0 } });
    const memory = await gql('carol', CREATE, { n: 'c-one', p: 'tiny', w: 1 });
    expect(memory.errors![0]!.message).toBe('memory: 0 of 0 GB used, this cluster needs 3 GB');
  });

  it('exempts admins, as PKS does', async () => {
    await gql('admin', SET, { o: 'quota-admin', l: { cluster: 1, cpu: 0, memory: 0 } });
    const created = await gql('admin', CREATE, { n: 'admin-own', p: 'tiny', w: 1 });
    expect(created.errors).toBeUndefined();
    expect(created.data.createCluster.owner).toBe('quota-admin');
    // Their usage still shows what they hold, over their (unenforced) limit.
    expect((await gql('admin', USAGE)).data.usage.totals).toEqual({ cluster: 1, cpu: 3, memory: 3 });
  });

  it('lets only one of two concurrent creates at the limit pass', async () => {
    await gql('admin', SET, { o: 'bob', l: { cluster: 1, cpu: 64, memory: 64 } });
    const results = await Promise.all(
      ['b-one', 'b-two'].map((n) => gql('bob', CREATE, { n, p: 'tiny', w: 1 })),
    );
    const passed = results.filter((r) => r.errors === undefined);
    const refused = results.filter((r) => codeOf(r) === 'QUOTA_EXCEEDED');
    expect([passed.length, refused.length]).toEqual([1, 1]);
    expect(refused[0]!.errors![0]!.message).toBe(
      'clusters: 1 of 1 used, creating one more exceeds the limit',
    );
    expect((await gql('bob', '{ clusters { name } }')).data.clusters).toHaveLength(1);
  });

  it('holds the scopes: admin changes, admin.read reads everyone, a manager reads only their own', async () => {
    const denied = await gql('alice', SET, { o: 'alice', l: { cluster: 9, cpu: 9, memory: 9 } });
    expect(codeOf(denied)).toBe('FORBIDDEN');
    expect(codeOf(await gql('reader', SET, { o: 'alice', l: { cluster: 9, cpu: 9, memory: 9 } }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await gql('alice', `mutation{ deleteQuota(owner:"alice"){ owner } }`))).toBe('FORBIDDEN');

    const read = await gql('reader', `{ quota(owner:"alice"){ limit { cluster } } quotas { owner } }`);
    expect(read.data.quota.limit.cluster).toBe(5);
    expect((read.data.quotas as { owner: string }[]).map((q) => q.owner)).toEqual([
      'alice',
      'bob',
      'carol',
      'quota-admin',
    ]);
    expect((await gql('reader', USAGE, { o: 'alice' })).data.usage.totals.cluster).toBe(3);
    const usages = await gql('reader', '{ usages { owner totals { cluster } } }');
    expect((usages.data.usages as { owner: string }[]).map((u) => u.owner)).toEqual([
      'alice',
      'bob',
      'carol',
      'quota-admin',
    ]);

    // A manager: their own, and nothing of anyone else's (not even whether it exists).
    expect((await gql('alice', '{ quota { owner } }')).data.quota.owner).toBe('alice');
    expect((await gql('alice', '{ quotas { owner } }')).data.quotas).toEqual([{ owner: 'alice' }]);
    expect((await gql('alice', '{ usages { owner } }')).data.usages).toEqual([{ owner: 'alice' }]);
    const other = await gql('alice', `{ quota(owner:"bob"){ owner } }`);
    expect(codeOf(other)).toBe('NOT_FOUND');
    expect(other.errors![0]!.message).toBe('The quota owner named: "bob" not found.');
    expect(codeOf(await gql('alice', USAGE, { o: 'bob' }))).toBe('NOT_FOUND');
  });

  it('names each bad field of a limit and of the owner', async () => {
    const bad = await gql('admin', SET, { o: 'alice', l: { cluster: 0, cpu: -1, memory: -0.5 } });
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(
      (bad.errors![0]!.extensions!.fields as { field: string; allowed: string }[]).map((f) => [
        f.field,
        f.allowed,
      ]),
    ).toEqual([
      ['limit.cluster', 'a whole number of at least 1'],
      ['limit.cpu', 'a whole number of CPUs, 0 or more (0 blocks creating clusters)'],
      ['limit.memory', 'a number of GB, 0 or more (0 blocks creating clusters)'],
    ]);
    // A limit that limits nothing, absent or null, is refused as a whole (an absent field is no limit).
    for (const l of [{}, { cluster: null, cpu: null, memory: null }]) {
      const empty = await gql('admin', SET, { o: 'alice', l });
      expect(codeOf(empty)).toBe('BAD_USER_INPUT');
      expect(empty.errors![0]!.extensions!.field).toBe('limit');
      expect(empty.errors![0]!.extensions!.allowed).toMatch(/^at least one of cluster, cpu, memory/);
    }
    const owner = await gql('admin', SET, { o: 'no such user', l: { cluster: 1, cpu: 1, memory: -1 } });
    expect((owner.errors![0]!.extensions!.fields as { field: string }[]).map((f) => f.field)).toEqual([
      'owner',
      'limit.memory',
    ]);
    const nothing = await gql('admin', UPDATE, { o: 'alice', l: {} });
    expect(nothing.errors![0]!.extensions!.field).toBe('limit');
    // None of it changed alice's quota.
    expect(
      (await gql('admin', `{ quota(owner:"alice"){ limit { cluster cpu memory } } }`)).data.quota,
    ).toEqual({
      limit: { cluster: 5, cpu: 14, memory: 31.5 },
    });
  });

  it('audits every quota change, and a deleted quota is gone', async () => {
    await gql('admin', SET, { o: 'dave', l: { cluster: 2, cpu: 8, memory: 16 } });
    await gql('admin', UPDATE, { o: 'dave', l: { memory: 32 } });
    const deleted = await gql('admin', `mutation{ deleteQuota(owner:"dave"){ owner limit { memory } } }`);
    expect(deleted.data.deleteQuota).toEqual({ owner: 'dave', limit: { memory: 32 } });
    expect(codeOf(await gql('admin', `mutation{ deleteQuota(owner:"dave"){ owner } }`))).toBe('NOT_FOUND');
    expect(codeOf(await gql('admin', `{ quota(owner:"dave"){ owner } }`))).toBe('NOT_FOUND');
    await gql('alice', `mutation{ deleteQuota(owner:"dave"){ owner } }`);

    const { data } = await gql(
      'admin',
      '{ auditEvents(limit: 200) { actor action target outcome errorCode parameters } }',
    );
    const dave = (
      data.auditEvents as {
        actor: string;
        action: string;
        target: string;
        outcome: string;
        errorCode: string | null;
        parameters: Record<string, unknown>;
      }[]
    )
      .filter((e) => e.target === 'dave')
      .reverse()
      .map((e) => [e.actor, e.action, e.outcome, e.errorCode, e.parameters]);
    expect(dave).toEqual([
      [
        'quota-admin',
        'setQuota',
        'succeeded',
        null,
        { owner: 'dave', limit: { cluster: 2, cpu: 8, memory: 16 } },
      ],
      ['quota-admin', 'updateQuota', 'succeeded', null, { owner: 'dave', limit: { memory: 32 } }],
      ['quota-admin', 'deleteQuota', 'succeeded', null, { owner: 'dave' }],
      ['quota-admin', 'deleteQuota', 'failed', 'NOT_FOUND', { owner: 'dave' }],
      ['alice', 'deleteQuota', 'failed', 'FORBIDDEN', { owner: 'dave' }],
    ]);
  });

  it('takes a quota with only some limits: an absent one is no limit, null removes one', async () => {
    const CREATE_QUOTA = `mutation($o:String!,$l:QuotaLimitInput!){ createQuota(owner:$o, limit:$l){ owner limit { cluster cpu memory } } }`;
    // PKS 1.5's quotas, and what PKS tooling posts: cpu and memory, no cluster count.
    const created = await gql('admin', CREATE_QUOTA, { o: 'erin', l: { cpu: 3, memory: 100 } });
    expect(created.data.createQuota).toEqual({
      owner: 'erin',
      limit: { cluster: null, cpu: 3, memory: 100 },
    });
    // A create never replaces: the limits stay.
    const again = await gql('admin', CREATE_QUOTA, { o: 'erin', l: { cluster: 1 } });
    expect(codeOf(again)).toBe('CONFLICT');

    // tiny with 1 worker: 3 cpu, 3 GB. Only cpu holds erin back; the cluster count never does.
    expect((await gql('erin', CREATE, { n: 'e-one', p: 'tiny', w: 1 })).errors).toBeUndefined();
    const over = await gql('erin', CREATE, { n: 'e-two', p: 'tiny', w: 1 });
    expect(codeOf(over)).toBe('QUOTA_EXCEEDED');
    expect(over.errors![0]!.message).toBe('cpu: 3 of 3 used, this cluster needs 3');

    // null removes the cpu limit, absent leaves memory as it is.
    const lifted = await gql('admin', UPDATE, { o: 'erin', l: { cpu: null } });
    expect(lifted.data.updateQuota.limit).toEqual({ cluster: null, cpu: null, memory: 100 });
    for (const n of ['e-two', 'e-three']) {
      expect((await gql('erin', CREATE, { n, p: 'tiny', w: 1 })).errors).toBeUndefined();
    }
    expect((await gql('erin', USAGE)).data.usage).toMatchObject({
      totals: { cluster: 3, cpu: 9, memory: 9 },
      limit: { cluster: null, cpu: null, memory: 100 },
    });

    // Removing the last limit would leave a quota limiting nothing: refused, deleting it is the way.
    const last = await gql('admin', UPDATE, { o: 'erin', l: { memory: null } });
    expect(codeOf(last)).toBe('BAD_USER_INPUT');
    expect(last.errors![0]!.extensions!.field).toBe('limit');
    expect(last.errors![0]!.message).toContain('would leave the quota limiting nothing');
    // A replace (setQuota) with some fields leaves the others unlimited.
    const replaced = await gql('admin', SET, { o: 'erin', l: { cluster: 3 } });
    expect(replaced.data.setQuota.limit).toEqual({ cluster: 3, cpu: null, memory: null });
    const fourth = await gql('erin', CREATE, { n: 'e-four', p: 'tiny', w: 1 });
    expect(fourth.errors![0]!.message).toBe('clusters: 3 of 3 used, creating one more exceeds the limit');
    for (const n of ['e-one', 'e-two', 'e-three']) expect(await settle(n)).toBe('succeeded');
  }, 180_000);
});
