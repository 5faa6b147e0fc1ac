import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi } from './testing/index.js';

/**
 * A token UAA revoked stops working at the API within two seconds: on HTTP (even though the API had
 * verified and cached it) and on a subscription already open with it, which closes with 4401.
 */
const WITHIN_MS = 2_000;

describe.each(testDatabaseBackends())('revoked tokens at the API on $name', (backend) => {
  let db: TestDatabase;
  let uaa: TestUaa;
  let api: TestApi;
  let rheaId: string;

  beforeAll(async () => {
    db = await backend.open();
    uaa = await startTestUaa({ db });
    api = await startTestApi({
      uaa,
      db,
      broker: { url: 'https://127.0.0.1:9', username: 'u', password: 'p' },
    });
    for (const owner of ['rhea', 'sol']) {
      await db.query(
        `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, worker_instances, pks_version, last_action, last_action_state)
         VALUES ($1, $2, $3, 'small', $4, 1, 'x', 'CREATE', 'succeeded')`,
        [randomUUID(), `${owner}-cluster`, owner, `${owner}.example.test`],
      );
    }
    rheaId = await uaa.createUser('rhea', 'rhea-password-1', ['pks.clusters.manage']);
    await uaa.createUser('sol', 'sol-password-1', ['pks.clusters.manage']);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await uaa?.stop();
    await db?.close();
  });

  /** Opens a subscription with `token`; resolves the close event when the socket ends. */
  function watch(token: string, cluster: string) {
    let closed: { code: number; reason: string } | undefined;
    let resolveClosed: (event: { code: number; reason: string }) => void = () => {};
    const closedPromise = new Promise<{ code: number; reason: string }>(
      (resolve) => (resolveClosed = resolve),
    );
    const ws = api.wsClient(token, (event) => {
      closed = event;
      resolveClosed(event);
    });
    const opened = new Promise<void>((resolve, reject) => {
      ws.on('connected', () => resolve());
      ws.on('closed', (event) => reject(new Error(`closed before connecting: ${JSON.stringify(event)}`)));
    });
    ws.subscribe(
      { query: `subscription{ clusterEvents(name:"${cluster}"){ description } }` },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    return { ws, opened, closedPromise, closed: () => closed };
  }

  it('closes the revoked user’s open subscription with 4401 and refuses their cached token on HTTP', async () => {
    const rhea = (await uaa.tokenFor({ username: 'rhea', password: 'rhea-password-1' })).access_token;
    const sol = (await uaa.tokenFor({ username: 'sol', password: 'sol-password-1' })).access_token;
    expect((await api.query(rhea, '{ clusters { name } }')).status).toBe(200);
    const rheaWatch = watch(rhea, 'rhea-cluster');
    const solWatch = watch(sol, 'sol-cluster');
    await Promise.all([rheaWatch.opened, solWatch.opened]);

    const revokedAt = Date.now();
    const revoke = await uaa.fetch(`${uaa.url}/oauth/token/revoke/user/${rheaId}`, {
      headers: { authorization: `Bearer ${await uaa.adminToken()}` },
    });
    expect(revoke.status).toBe(200);

    const closed = await Promise.race([
      rheaWatch.closedPromise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still open after ${WITHIN_MS} ms`)), WITHIN_MS),
      ),
    ]);
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/^Unauthorized: token revoked/);
    expect(Date.now() - revokedAt).toBeLessThan(WITHIN_MS);

    const refused = await api.query(rhea, '{ clusters { name } }');
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.message).toMatch(/token revoked/);

    // The other user's socket and token are untouched; a new sign-in works.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(solWatch.closed()).toBeUndefined();
    expect((await api.query(sol, '{ clusters { name } }')).status).toBe(200);
    const again = (await uaa.tokenFor({ username: 'rhea', password: 'rhea-password-1' })).access_token;
    expect((await api.query(again, '{ clusters { name } }')).status).toBe(200);
    await rheaWatch.ws.dispose();
    await solWatch.ws.dispose();
  }, 30_000);
});
