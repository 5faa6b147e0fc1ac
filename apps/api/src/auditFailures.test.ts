import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { createLogger } from '@openpks/role';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi } from './testing/index.js';

// The audit trail records what happened; it never decides it. A change the broker accepted is reported
// as accepted even when its audit row cannot be written, and the operator finds why in the log.

describe.each(testDatabaseBackends().map((backend, i) => ({ backend, name: backend.name, subnet: 246 + i })))(
  'audit write failures on $name',
  ({ backend, subnet }) => {
    let db: TestDatabase;
    let uaa: TestUaa;
    let bosh: TestDirector;
    let broker: TestBroker;
    let api: TestApi;
    let token: string;
    const logged: Record<string, unknown>[] = [];

    beforeAll(async () => {
      db = await backend.open();
      uaa = await startTestUaa({ db });
      bosh = await startTestDirector({ uaa, db, ipRange: `127.1.${subnet}.0/24` });
      broker = await startTestBroker({ uaa, bosh, db });
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n')) if (line) logged.push(JSON.parse(line));
          done();
        },
      });
      api = await startTestApi({
        uaa,
        db,
        broker: { url: broker.url, ...broker.credentials },
        director: bosh.client,
        logger: createLogger({ level: 'warn', pretty: false, destination }),
      });
      await uaa.createUser('auditor', 'auditor-password-1', ['pks.clusters.admin']);
      token = (await uaa.tokenFor({ username: 'auditor', password: 'auditor-password-1' })).access_token;
    }, 120_000);

    afterAll(async () => {
      await db?.query('DROP TRIGGER IF EXISTS refuse_audit ON api.audit_events').catch(() => undefined);
      await api?.stop();
      await broker?.stop();
      await bosh?.stop();
      await uaa?.stop();
      await db?.close();
    });

    it('reports a create the broker accepted as accepted when its audit row cannot be written, and logs why', async () => {
      await db.query(
        `CREATE OR REPLACE FUNCTION api.refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'audit storage is full'; END $$`,
      );
      await db.query(
        'CREATE TRIGGER refuse_audit BEFORE INSERT ON api.audit_events FOR EACH ROW EXECUTE FUNCTION api.refuse_audit()',
      );
      const made = await api.query(
        token,
        `mutation{ createCluster(input:{name:"audited", planName:"small", externalHostname:"audited.example.test", numNodes:1}){ name lastAction } }`,
      );
      expect(made.errors).toBeUndefined();
      expect(made.data).toEqual({ createCluster: { name: 'audited', lastAction: 'CREATE' } });
      expect(logged).toContainEqual(
        expect.objectContaining({
          msg: 'could not write the audit event of a request',
          actor: 'auditor',
          action: 'createCluster',
          target: 'audited',
          outcome: 'succeeded',
        }),
      );

      // A refused request is still refused with its own reason, not the audit's.
      const refused = await api.query(
        token,
        `mutation{ createCluster(input:{name:"audited", planName:"small", externalHostname:"audited.example.test", numNodes:1}){ name } }`,
      );
      expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(logged).toContainEqual(
        expect.objectContaining({ msg: 'could not write the audit event of a request', outcome: 'failed' }),
      );
    });
  },
);
