import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@openpks/config';
import { migrate, type Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { createLogger } from '@openpks/role';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { ClusterObserver } from '../clusters/observer.js';
import { clusterNetworks } from '../store/clusterNetworks.js';
import { apiMigrations } from '../store/migrations.js';
import { networkProfileStore } from '../store/networkProfileStore.js';
import { seedCluster, scopedCallers } from '../testing/index.js';
import type { Caller } from './access.js';
import { ClusterQueries } from './clusterQueries.js';

// detailsWithNetwork: what every transport shows as a cluster's details (PKS's `clusterdetails`), with the
// same access checks as a cluster's read. No Director here: the status is the record's, as last observed.

const plans = [
  ...parseConfig({}).plans,
  { ...parseConfig({}).plans.find((p) => p.name === 'small')!, name: 'retired', active: false },
];

describe.each(testDatabaseBackends())('ClusterQueries.detailsWithNetwork on $name', (backend) => {
  let db: Database;
  let uaa: TestUaa;
  let callers: Record<'alice' | 'root' | 'auditor' | 'nobody', Caller>;
  let queries: ClusterQueries;
  let withProfileUuid: string;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    await migrate(db, { schema: 'api', migrations: apiMigrations });
    callers = await scopedCallers(uaa);
    queries = new ClusterQueries({
      db,
      plans,
      observer: new ClusterObserver(db, undefined, createLogger({ level: 'silent', pretty: false })),
    });

    await seedCluster(db, 'plain', 'alice');
    withProfileUuid = await seedCluster(db, 'networked', 'alice');
    await networkProfileStore.insert(db, {
      name: 'np1',
      description: 'small load balancer',
      parameters: { lb_size: 'small' },
    });
    await clusterNetworks.put(db, {
      clusterUuid: withProfileUuid,
      profileParameters: { lb_size: 'small' },
      details: { t0_router_id: 't0-1' },
    });
    await seedCluster(db, 'orphaned', 'alice');
    await seedCluster(db, 'old-plan', 'alice');
    await seedCluster(db, 'roots', 'root');
    await db.query(`UPDATE api.clusters SET network_profile_name = $1 WHERE name = ANY($2::text[])`, [
      'np1',
      ['networked'],
    ]);
    // A profile deleted since the cluster was created with it.
    await db.query(`UPDATE api.clusters SET network_profile_name = 'gone' WHERE name = 'orphaned'`);
    await db.query(`UPDATE api.clusters SET plan_name = 'retired' WHERE name = 'old-plan'`);
  }, 120_000);

  afterAll(async () => {
    await uaa?.stop();
    await db?.close();
  });

  it('gives the cluster with its network, its network profile and its plan', async () => {
    const details = await queries.detailsWithNetwork(callers.alice, 'networked');
    expect(details.cluster.name).toBe('networked');
    expect(details.network).toEqual({
      clusterUuid: withProfileUuid,
      profileParameters: { lb_size: 'small' },
      details: { t0_router_id: 't0-1' },
    });
    expect(details.profile).toMatchObject({
      name: 'np1',
      description: 'small load balancer',
      parameters: { lb_size: 'small' },
    });
    expect(details.plan?.name).toBe('small');
  });

  it('leaves out what the cluster does not have, or no longer has, instead of failing', async () => {
    const plain = await queries.detailsWithNetwork(callers.alice, 'plain');
    expect({ network: plain.network, profile: plain.profile, plan: plain.plan?.name }).toEqual({
      network: undefined,
      profile: undefined,
      plan: 'small',
    });
    const orphaned = await queries.detailsWithNetwork(callers.alice, 'orphaned');
    expect(orphaned.cluster.networkProfileName).toBe('gone');
    expect(orphaned.profile).toBeUndefined();
    const oldPlan = await queries.detailsWithNetwork(callers.alice, 'old-plan');
    expect(oldPlan.cluster.planName).toBe('retired');
    expect(oldPlan.plan).toBeUndefined();
  });

  it('answers as a read of the cluster does: another manager’s cluster is not found, no scope is refused', async () => {
    await expect(queries.detailsWithNetwork(callers.alice, 'roots')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Cluster roots not found',
    });
    await expect(queries.detailsWithNetwork(callers.alice, 'ghost')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(queries.detailsWithNetwork(callers.nobody, 'plain')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await queries.detailsWithNetwork(callers.root, 'networked')).profile?.name).toBe('np1');
    expect((await queries.detailsWithNetwork(callers.auditor, 'roots')).cluster.owner).toBe('root');
  });
});
