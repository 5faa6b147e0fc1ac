import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UaaAdminClient, UaaRequestError } from './uaaAdminClient.js';

// pks-admin's UAA client against the bundled UAA: what moved into the shared HTTPS JSON client (a token
// the UAA stops taking is fetched anew once) and what stays its own (UAA's words in its errors).

describe.each(testDatabaseBackends())('UaaAdminClient on $name', (backend) => {
  let uaa: TestUaa;
  beforeAll(async () => {
    uaa = await startTestUaa({ backend });
  }, 60_000);
  afterAll(async () => {
    await uaa?.stop();
  });

  const admin = (clientSecret = uaa.adminClientSecret) =>
    new UaaAdminClient({ url: uaa.url, caPem: uaa.caPem, clientId: 'admin', clientSecret });

  it('signs in again once when the UAA stops taking its token, and carries on', async () => {
    const client = admin();
    expect((await client.listUsers()).map((u) => u.userName)).toContain('admin');
    // Every token of the admin client issued so far is revoked: the client's cached one too.
    const before = await uaa.adminToken();
    const revoked = await uaa.fetch(`${uaa.url}/oauth/token/revoke/client/admin`, {
      headers: { Authorization: `Bearer ${before}` },
    });
    expect(revoked.status).toBe(200);
    const stale = await uaa.fetch(`${uaa.url}/Users`, { headers: { Authorization: `Bearer ${before}` } });
    expect(stale.status).toBe(401);
    expect((await client.findUser('admin'))?.userName).toBe('admin');
  });

  it('says what the UAA said, in its words, for a refused call and for a refused client', async () => {
    const weak = await admin()
      .createUser({ userName: 'dana', password: 'short', email: 'dana@example.com' })
      .catch((e: unknown) => e);
    expect(weak).toBeInstanceOf(UaaRequestError);
    expect(weak).toMatchObject({ status: 422, error: 'invalid_password' });
    expect((weak as Error).message).toBe(
      'Password must be at least 8 characters in length. (invalid_password, HTTP 422)',
    );
    const wrong = await admin('wrong')
      .listUsers()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(UaaRequestError);
    expect((wrong as Error).message).toBe('Bad credentials (invalid_client, HTTP 401)');
  });
});
