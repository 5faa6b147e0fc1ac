import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirectory, TlsAuthority } from '@openpks/pki';
import { createLogger, listenHttps } from '@openpks/role';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { DEFAULT_NSX_SIM_SEED, NsxProxy, type NsxClient } from '@openpks/nsx';
import { startTestNsx, type TestNsx } from '@openpks/nsx/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi } from './testing/index.js';

// Network profiles and the NSX proxy step end to end: UAA, the API, the broker, the embedded Director
// (sim CPI) and the NSX simulator, each on loopback with its real protocol.

// Room for exactly three clusters' /24 node subnets, so the exhaustion test stays quick.
const seed = { ...DEFAULT_NSX_SIM_SEED, nodeIpBlockCidr: '172.24.0.0/23', podIpBlockCidr: '172.28.0.0/18' };
const NODE_BLOCK = seed.nodeIpBlockId;

async function objectCount(client: NsxClient): Promise<number> {
  let count = 0;
  for (const c of [
    client.ipBlocks,
    client.ipPools,
    client.tier0s,
    client.tier1s,
    client.segments,
    client.lbServices,
  ]) {
    count += (await c.list()).length;
  }
  for (const pool of await client.ipPools.list()) {
    count +=
      (await client.poolSubnets(pool.id).list()).length +
      (await client.poolAllocations(pool.id).list()).length;
  }
  return count;
}

describe('network profiles and the NSX proxy step', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let nsx: TestNsx;
  let bosh: TestDirector;
  let broker: TestBroker;
  let api: TestApi;
  const token = { admin: '', manager: '' };

  const gql = (who: keyof typeof token, query: string, variables?: Record<string, unknown>) =>
    api.query(token[who], query, variables);
  const settle = async (name: string, until = (s: string | undefined) => s !== 'in progress') => {
    for (let i = 0; i < 400; i++) {
      const { data } = await gql('admin', `{ clusters { name lastActionState lastActionDescription } }`);
      const cluster = (
        data?.clusters as { name: string; lastActionState: string; lastActionDescription: string }[]
      ).find((c) => c.name === name);
      if (until(cluster?.lastActionState)) return cluster;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { data } = await gql('admin', `{ clusters { name lastActionState lastActionDescription } }`);
    throw new Error(`${name} did not settle: ${JSON.stringify(data)}`);
  };
  const createCluster = (name: string, profile?: string) =>
    gql(
      'manager',
      `mutation($n:String!,$p:String){ createCluster(input:{name:$n, planName:"small", externalHostname:"x.example.test", numNodes:1, networkProfileName:$p}){ name lastActionState } }`,
      { n: name, p: profile ?? null },
    );
  const createProfile = (
    name: string,
    parameters: Record<string, unknown>,
    who: keyof typeof token = 'admin',
  ) =>
    gql(who, `mutation($i:NetworkProfileInput!){ createNetworkProfile(input:$i){ name parameters } }`, {
      i: { name, description: `profile ${name}`, parameters },
    });

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db });
    nsx = await startTestNsx({ db, seed, dataDir: uaa.dataDir });
    await nsx.client.ipBlocks.put('pods-a', { cidr: '10.100.0.0/16' });
    await nsx.client.ipBlocks.put('pods-b', { cidr: '10.101.0.0/16' });
    bosh = await startTestDirector({ uaa, db, ipRange: '127.1.90.0/24' });
    broker = await startTestBroker({ uaa, bosh, db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
      director: bosh.client,
      nsx: { proxy: new NsxProxy(nsx.client, seed), topology: seed },
    });
    await uaa.createUser('np-admin', 'np-admin-password-1', ['pks.clusters.admin']);
    await uaa.createUser('np-manager', 'np-manager-password-1', ['pks.clusters.manage']);
    token.admin = (
      await uaa.tokenFor({ username: 'np-admin', password: 'np-admin-password-1' })
    ).access_token;
    token.manager = (
      await uaa.tokenFor({ username: 'np-manager', password: 'np-manager-password-1' })
    ).access_token;
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await broker?.stop();
    await bosh?.stop();
    await nsx?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('lets only admins create and delete profiles', async () => {
    const denied = await createProfile('np-denied', { lb_size: 'small' }, 'manager');
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const made = await createProfile('np-base', {
      lb_size: 'medium',
      pod_ip_block_ids: ['pods-a'],
      nodes_dns: ['10.0.0.2'],
      cni_configurations: { type: 'nsxt', parameters: { nsx_lb: true, l4_lb_algorithm: 'ip_hash' } },
    });
    expect(made.errors).toBeUndefined();
    expect((await gql('manager', '{ networkProfiles { name } }')).data?.networkProfiles).toEqual([
      { name: 'np-base' },
    ]);
    expect(
      (await gql('manager', 'mutation{ deleteNetworkProfile(name:"np-base"){ name } }')).errors?.[0]
        ?.extensions?.code,
    ).toBe('FORBIDDEN');
  });

  it('names every bad parameter with what is allowed', async () => {
    const result = await createProfile('np-bad', {
      lb_size: 'huge',
      node_subnet_prefix: 40,
      cni_configurations: { type: 'nsxt', parameters: { x_forwarded_for: 'append' } },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.extensions?.fields).toEqual([
      expect.objectContaining({ field: 'parameters.lb_size', allowed: 'small, medium, large' }),
      expect.objectContaining({
        field: 'parameters.node_subnet_prefix',
        allowed: 'an integer from 16 to 28',
      }),
      expect.objectContaining({
        field: 'parameters.cni_configurations.parameters.x_forwarded_for',
        allowed: 'insert, replace',
      }),
    ]);
    const tile = await createProfile('np-tile', { pod_ip_block_ids: [seed.podIpBlockId] });
    expect(tile.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'parameters.pod_ip_block_ids',
    });
    const prefix = await createProfile('np-prefix', { pod_ip_block_ids: ['pods-a'], pod_subnet_prefix: 25 });
    expect(prefix.errors?.[0]?.extensions).toMatchObject({
      field: 'parameters.pod_subnet_prefix',
      allowed: '24',
    });
  });

  it('creates a cluster with its NSX networking, refuses deleting its profile, and applies only allowed updates', async () => {
    expect((await createCluster('np-one', 'np-base')).errors).toBeUndefined();
    expect((await settle('np-one'))?.lastActionState).toBe('succeeded');
    const { data } = await gql(
      'manager',
      `{ cluster(name:"np-one"){ uuid nsxDetails { lbSize podIpBlockIds nodeSubnet tier1RouterId lbServiceId floatingIps networkDetails } } }`,
    );
    const details = data.cluster.nsxDetails;
    expect(details).toMatchObject({
      lbSize: 'medium',
      podIpBlockIds: ['pods-a'],
      nodeSubnet: '172.24.0.0/24',
      tier1RouterId: `pks-${data.cluster.uuid}-cluster-router`,
    });
    expect([...details.floatingIps].sort()).toEqual(['192.168.160.10', '192.168.160.11']);
    // nodes_dns reaches the node segment's DHCP and the broker's network details.
    expect(details.networkDetails.nodes_dns).toEqual(['10.0.0.2']);
    expect(
      (await nsx.client.segments.get(details.networkDetails.node_segment_id)).subnets?.[0]?.dhcp_config,
    ).toMatchObject({ dns_servers: ['10.0.0.2'] });
    expect(details.networkDetails.namespaces['kube-system'].subnet).toMatch(/^10\.100\./);
    expect(await nsx.client.lbServices.get(details.lbServiceId)).toMatchObject({ size: 'MEDIUM' });

    const inUse = await gql('admin', 'mutation{ deleteNetworkProfile(name:"np-base"){ name } }');
    expect(inUse.errors?.[0]).toMatchObject({
      message: 'Network profile np-base is in use by cluster(s): np-one',
      extensions: { code: 'CONFLICT' },
    });

    // A new profile that only adds and reorders pod blocks is accepted.
    expect(
      (await createProfile('np-more-pods', { ...profileBase(), pod_ip_block_ids: ['pods-b', 'pods-a'] }))
        .errors,
    ).toBeUndefined();
    const updated = await gql(
      'manager',
      'mutation{ updateCluster(name:"np-one", input:{networkProfileName:"np-more-pods"}){ networkProfileName } }',
    );
    expect(updated.errors).toBeUndefined();
    expect((await settle('np-one'))?.lastActionState).toBe('succeeded');
    const after = await gql(
      'manager',
      '{ cluster(name:"np-one"){ networkProfileName nsxDetails { podIpBlockIds nodeSubnet networkDetails } } }',
    );
    expect(after.data.cluster).toMatchObject({
      networkProfileName: 'np-more-pods',
      nsxDetails: { podIpBlockIds: ['pods-b', 'pods-a'], nodeSubnet: '172.24.0.0/24' },
    });
    // The NSX record follows: later namespaces are carved from pods-b first; nothing carved moved.
    expect(after.data.cluster.nsxDetails.networkDetails).toMatchObject({
      pod_ip_block_ids: ['pods-b', 'pods-a'],
      namespaces: { 'kube-system': { ip_block_id: 'pods-a' } },
    });

    // A new profile naming a pod block NSX does not have is refused, naming the field.
    expect(
      (
        await createProfile('np-ghost-pods', {
          ...profileBase(),
          pod_ip_block_ids: ['pods-ghost', 'pods-b', 'pods-a'],
        })
      ).errors,
    ).toBeUndefined();
    const ghost = await gql(
      'manager',
      'mutation{ updateCluster(name:"np-one", input:{networkProfileName:"np-ghost-pods"}){ name } }',
    );
    expect(ghost.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'parameters.pod_ip_block_ids' },
    });
    expect(ghost.errors?.[0]?.message).toMatch(
      /^parameters\.pod_ip_block_ids: NSX-T could not provide the pod IP blocks: .*pods-ghost/,
    );

    // Anything else is a conflict, reported field by field, and nothing changes.
    expect(
      (
        await createProfile('np-changed', {
          lb_size: 'large',
          pod_ip_block_ids: ['pods-b'],
          cni_configurations: { type: 'nsxt', parameters: { nsx_lb: false, l4_lb_algorithm: 'ip_hash' } },
        })
      ).errors,
    ).toBeUndefined();
    const refused = await gql(
      'manager',
      'mutation{ updateCluster(name:"np-one", input:{networkProfileName:"np-changed"}){ name } }',
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const message = refused.errors![0]!.message;
    expect(message).toContain('parameters.lb_size: cannot change from "medium" to "large"');
    expect(message).toContain(
      'parameters.pod_ip_block_ids: pod IP blocks can only be added or reordered; pods-a would be removed',
    );
    expect(message).toContain(
      'parameters.cni_configurations.parameters.nsx_lb: cni_configurations can never be updated',
    );
    expect(
      (await gql('manager', '{ cluster(name:"np-one"){ networkProfileName lastActionState } }')).data.cluster,
    ).toEqual({
      networkProfileName: 'np-more-pods',
      lastActionState: 'succeeded',
    });

    expect((await gql('manager', 'mutation{ deleteCluster(name:"np-one"){ name } }')).errors).toBeUndefined();
    await settle('np-one', (s) => s === undefined);
    expect(
      (await gql('admin', 'mutation{ deleteNetworkProfile(name:"np-base"){ name } }')).errors,
    ).toBeUndefined();
  }, 60_000);

  it('refuses a network profile for a cluster created without one', async () => {
    expect((await createCluster('np-bare')).errors).toBeUndefined();
    expect((await settle('np-bare'))?.lastActionState).toBe('succeeded');
    const refused = await gql(
      'manager',
      'mutation{ updateCluster(name:"np-bare", input:{networkProfileName:"np-more-pods"}){ name } }',
    );
    expect(refused.errors?.[0]).toMatchObject({
      message:
        'Cluster np-bare was created without a network profile; a profile is attached at create-cluster',
      extensions: { code: 'CONFLICT' },
    });
    expect(
      (await gql('manager', '{ cluster(name:"np-bare"){ networkProfileName lastActionState } }')).data
        .cluster,
    ).toEqual({ networkProfileName: null, lastActionState: 'succeeded' });
    expect(
      (await gql('manager', 'mutation{ deleteCluster(name:"np-bare"){ name } }')).errors,
    ).toBeUndefined();
    await settle('np-bare', (s) => s === undefined);
  }, 60_000);

  it('creates clusters until the node IP block is exhausted, then gets every address back after deleting', async () => {
    // Two node blocks: the small one first, then the installation's; the create fails when both are full.
    await nsx.client.ipBlocks.put('nodes-extra', { cidr: '10.102.0.0/24' });
    const objects = await objectCount(nsx.client);
    const free = await nsx.client.blockUsage(NODE_BLOCK);
    const extraFree = await nsx.client.blockUsage('nodes-extra');
    expect(
      (
        await createProfile('np-fill', {
          lb_size: 'small',
          pod_ip_block_ids: ['pods-b'],
          node_ip_block_ids: ['nodes-extra', NODE_BLOCK],
        })
      ).errors,
    ).toBeUndefined();
    const made: string[] = [];
    let refusal: { message: string; extensions?: Record<string, unknown> } | undefined;
    for (let i = 0; i < 10 && refusal === undefined; i++) {
      const result = await createCluster(`np-fill-${i}`, 'np-fill');
      if (result.errors) refusal = result.errors[0];
      else made.push(`np-fill-${i}`);
    }
    expect(made).toHaveLength(3);
    expect(refusal).toMatchObject({
      message:
        'NSX-T could not provide the node subnet: ' +
        'IP block /infra/ip-blocks/nodes-extra (10.102.0.0/24) is exhausted: no free subnet of size 256 left.; ' +
        'IP block /infra/ip-blocks/pks-node-ip-block (172.24.0.0/23) is exhausted: no free subnet of size 256 left.',
      extensions: { code: 'QUOTA_EXCEEDED' },
    });
    // The refused cluster was never recorded.
    expect(
      (await gql('manager', '{ clusters { name } }')).data.clusters
        .map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual(made);
    for (const name of made) await settle(name);
    for (const name of made)
      expect(
        (await gql('manager', `mutation{ deleteCluster(name:"${name}"){ name } }`)).errors,
      ).toBeUndefined();
    for (const name of made) await settle(name, (s) => s === undefined);
    expect(await objectCount(nsx.client)).toBe(objects);
    expect(await nsx.client.blockUsage(NODE_BLOCK)).toEqual(free);
    expect(await nsx.client.blockUsage('nodes-extra')).toEqual(extraFree);
    expect((await nsx.client.blockUsage('pods-b')).allocated).toBe(0);
  }, 90_000);
});

function profileBase() {
  return {
    lb_size: 'medium',
    cni_configurations: { type: 'nsxt', parameters: { nsx_lb: true, l4_lb_algorithm: 'ip_hash' } },
  };
}

describe('a create the broker refuses', () => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let nsx: TestNsx;
  let api: TestApi;
  let refusing: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    uaa = await startTestUaa({ db });
    nsx = await startTestNsx({ db, dataDir: uaa.dataDir });
    // An OSB broker that offers the plan and refuses every provision (422), as for a bad manifest.
    const tls = await TlsAuthority.load(await DataDirectory.open(uaa.dataDir));
    refusing = await listenHttps({
      role: 'broker',
      host: '127.0.0.1',
      port: 0,
      credentials: await tls.serverCredentials('broker'),
      logger: createLogger({ level: 'silent', pretty: false }),
      handler: (req, res) => {
        const catalog = req.method === 'GET' && req.url === '/v2/catalog';
        res.writeHead(catalog ? 200 : 422, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify(
            catalog
              ? { services: [{ id: 'svc', name: 'pks', plans: [{ id: 'plan-small', name: 'small' }] }] }
              : { error: 'UnprocessableEntity', description: 'the adapter refused this cluster' },
          ),
        );
      },
    });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: refusing.url, username: 'u', password: 'p' },
      nsx: { proxy: new NsxProxy(nsx.client, nsx.topology), topology: nsx.topology },
    });
    await uaa.createUser('refused-admin', 'refused-admin-password-1', ['pks.clusters.admin']);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await refusing?.close();
    await nsx?.stop();
    await uaa?.stop();
    await db?.close();
  });

  it('gives its NSX objects back at once', async () => {
    const token = (await uaa.tokenFor({ username: 'refused-admin', password: 'refused-admin-password-1' }))
      .access_token;
    const objects = await objectCount(nsx.client);
    const result = await api.query(
      token,
      'mutation{ createCluster(input:{name:"refused", planName:"small", externalHostname:"r.example.test", numNodes:1}){ name } }',
    );
    expect(result.errors?.[0]).toMatchObject({
      message: 'the adapter refused this cluster',
      extensions: { code: 'CONFLICT' },
    });
    expect(await objectCount(nsx.client)).toBe(objects);
    const { data } = await api.query(
      token,
      '{ cluster(name:"refused"){ lastActionState nsxDetails { nodeSubnet } } }',
    );
    expect(data.cluster).toEqual({ lastActionState: 'failed', nsxDetails: null });
  });
});
