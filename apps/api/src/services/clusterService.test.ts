import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '@openpks/broker';
import { parseConfig } from '@openpks/config';
import { migrate, type Database } from '@openpks/db';
import { testDatabaseBackends } from '@openpks/db/testing';
import { createLogger } from '@openpks/role';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { ClusterObserver } from '../clusters/observer.js';
import { PKS_VERSION } from '../clusters/versions.js';
import { Operations } from '../operations/operations.js';
import { apiMigrations } from '../store/migrations.js';
import { seedCluster, scopedCallers } from '../testing/index.js';
import type { Caller } from './access.js';
import { Audit } from './audit.js';
import { BrokerCatalog } from './brokerCatalog.js';
import { ClusterQueries } from './clusterQueries.js';
import { ClusterService } from './clusterService.js';

// The rules of ClusterService that every transport shares: whose kubeconfig a caller may ask for
// (credentialsOf) and who may ask which PKS version clusters upgrade to (pksVersion). Each refusal here
// comes before anything is sent: the broker client points where no broker listens, so a request that got
// as far as the broker would fail differently. Kubeconfigs issued end to end: rest.journey.test.ts.

describe.each(testDatabaseBackends())('ClusterService kubeconfig and version rules on $name', (backend) => {
  let db: Database;
  let uaa: TestUaa;
  let broker: BrokerClient;
  let callers: Record<'alice' | 'root' | 'auditor' | 'nobody', Caller>;
  let service: ClusterService;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    await migrate(db, { schema: 'api', migrations: apiMigrations });
    callers = await scopedCallers(uaa);
    const logger = createLogger({ level: 'silent', pretty: false });
    const plans = parseConfig({}).plans;
    const audit = new Audit(db, logger);
    const queries = new ClusterQueries({ db, plans, observer: new ClusterObserver(db, undefined, logger) });
    broker = new BrokerClient({ url: 'https://127.0.0.1:9', username: 'broker', password: 'unused' });
    service = new ClusterService({
      db,
      plans,
      broker,
      // No operation starts here, so there is no tracker to wake.
      operations: new Operations({ db, holder: 'test', leaseMs: 3_000, logger, audit, wake: () => {} }),
      catalog: new BrokerCatalog(broker),
      audit,
      queries,
      clusterTokens: async (userName, password) => {
        const answer = await uaa.tokenFor({
          username: userName,
          password,
          clientId: 'pks_cluster_client',
          scope: 'openid',
        });
        return { idToken: answer.id_token!, refreshToken: answer.refresh_token! };
      },
      logger,
    });
    await seedCluster(db, 'alices', 'alice');
    await seedCluster(db, 'roots', 'root');
  }, 120_000);

  afterAll(async () => {
    broker?.close();
    await uaa?.stop();
    await db?.close();
  });

  it('gives a kubeconfig of the caller’s own only: another user’s is bad input, for admins too', async () => {
    await expect(
      service.credentialsOf(callers.alice, 'alices', 'bob', 'alice-password-1'),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'user',
      message: '"bob" is not you: a kubeconfig carries the OIDC tokens of the user who asks for it',
      allowed: 'alice',
    });
    await expect(
      service.credentialsOf(callers.root, 'alices', 'alice', 'root-password-1'),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'user',
      allowed: 'root',
    });
  });

  it('checks scopes before the user: admin.read and no PKS scope are refused even for themselves', async () => {
    await expect(service.credentialsOf(callers.auditor, 'roots', 'bob', undefined)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(service.credentialsOf(callers.auditor, 'roots', 'auditor', undefined)).rejects.toMatchObject(
      {
        code: 'FORBIDDEN',
      },
    );
    await expect(service.credentialsOf(callers.nobody, 'alices', 'nobody', undefined)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('asks for one’s own goes on as credentials does: the cluster must be visible, the password given', async () => {
    await expect(
      service.credentialsOf(callers.alice, 'roots', 'alice', 'alice-password-1'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Cluster roots not found',
    });
    await expect(service.credentialsOf(callers.alice, 'alices', 'alice', undefined)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'password',
    });
    await expect(service.credentialsOf(callers.root, 'alices', 'root', '')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'password',
    });
  });

  it('audits every refusal once, with who asked for whose kubeconfig and why it was refused', async () => {
    await db.query(`DELETE FROM api.audit_events`);
    await service.credentialsOf(callers.alice, 'alices', 'bob', 'alice-password-1').catch(() => undefined);
    await service.credentialsOf(callers.auditor, 'roots', 'auditor', undefined).catch(() => undefined);
    await service.credentialsOf(callers.alice, 'alices', 'alice', undefined).catch(() => undefined);
    const { rows } = await db.query<{
      actor: string;
      action: string;
      target: string;
      outcome: string;
      error_code: string;
      parameters: unknown;
    }>(`SELECT actor, action, target, outcome, error_code, parameters FROM api.audit_events ORDER BY id`);
    expect(rows).toEqual([
      {
        actor: 'alice',
        action: 'clusterCredentials',
        target: 'alices',
        outcome: 'failed',
        error_code: 'BAD_USER_INPUT',
        parameters: { user: 'bob' },
      },
      {
        actor: 'auditor',
        action: 'clusterCredentials',
        target: 'roots',
        outcome: 'failed',
        error_code: 'FORBIDDEN',
        parameters: { user: 'auditor' },
      },
      {
        actor: 'alice',
        action: 'clusterCredentials',
        target: 'alices',
        outcome: 'failed',
        error_code: 'BAD_USER_INPUT',
        parameters: { user: 'alice' },
      },
    ]);
  });

  it('tells every PKS scope the version clusters upgrade to, and no one else', () => {
    for (const who of ['alice', 'root', 'auditor'] as const) {
      expect(service.pksVersion(callers[who])).toBe(PKS_VERSION);
    }
    expect(() => service.pksVersion(callers.nobody)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }) as Error,
    );
  });
});
