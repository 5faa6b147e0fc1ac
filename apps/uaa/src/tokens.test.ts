import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from './testing/index.js';

describe('token endpoint', () => {
  let uaa: TestUaa;
  beforeAll(async () => {
    uaa = await startTestUaa();
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  const verify = (token: string, audience?: string) =>
    jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${uaa.url}/token_keys`), { [customFetch]: uaa.fetch as never }),
      {
        issuer: uaa.issuer,
        algorithms: ['RS256'],
        ...(audience ? { audience } : {}),
      },
    );

  it("gives pks_cli a password-grant token carrying the admin user's PKS scope", async () => {
    const response = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    expect(response.token_type).toBe('bearer');
    expect(response.scope).toBe('pks.clusters.admin');
    expect(response.refresh_token).toMatch(/-r/);
    expect(response.expires_in).toBe(600);
    const { payload, protectedHeader } = await verify(response.access_token, 'pks');
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: `${uaa.url}/token_keys` });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({
      scope: ['pks.clusters.admin'],
      client_id: 'pks_cli',
      cid: 'pks_cli',
      azp: 'pks_cli',
      grant_type: 'password',
      user_name: 'admin',
      origin: 'uaa',
      zid: 'uaa',
      iss: uaa.issuer,
    });
    expect(payload.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(payload.sub).toBe(payload.user_id);
    expect(payload.aud).toEqual(expect.arrayContaining(['pks_cli', 'pks']));
    expect(typeof payload.rev_sig).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('gives pks_director a client-credentials token with bosh.admin', async () => {
    const response = await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret });
    expect(response.refresh_token).toBeUndefined();
    const { payload } = await verify(response.access_token, 'bosh');
    expect(payload).toMatchObject({
      sub: 'pks_director',
      authorities: ['bosh.admin'],
      scope: ['bosh.admin'],
    });
    expect(payload.user_id).toBeUndefined();
  });
});
