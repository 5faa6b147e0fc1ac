import { testDatabaseBackends } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUaa, type TestUaa } from './testing/index.js';

interface ScimUser {
  id: string;
  userName: string;
  meta: { version: number };
  groups: { display: string; type: string }[];
  emails: { value: string }[];
  name: { givenName?: string; familyName?: string };
  active: boolean;
}

describe.each(testDatabaseBackends())('SCIM users and groups on $name', (backend) => {
  let uaa: TestUaa;
  let admin: string;

  beforeAll(async () => {
    uaa = await startTestUaa({ backend });
    admin = await uaa.adminToken();
  });
  afterAll(async () => {
    await uaa?.stop();
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await uaa.fetch(`${uaa.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  }
  const filter = (text: string) => encodeURIComponent(text);

  it("creates a user in UAA's shape, with the default groups", async () => {
    const created = await call('POST', '/Users', {
      userName: 'alice',
      password: 'alice-password',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      emails: [{ value: 'alice@example.com', primary: true }],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"0"');
    const user = created.body as unknown as ScimUser;
    expect(user).toMatchObject({
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      emails: [{ value: 'alice@example.com', primary: false }],
      active: true,
      verified: true,
      origin: 'uaa',
      zoneId: 'uaa',
      meta: { version: 0 },
      schemas: ['urn:scim:schemas:core:1.0'],
    });
    expect(user.groups.map((g) => g.display)).toEqual(expect.arrayContaining(['openid', 'uaa.user']));
    expect(created.body).not.toHaveProperty('password');

    const duplicate = await call('POST', '/Users', {
      userName: 'ALICE',
      password: 'whatever-1',
      emails: [{ value: 'a@b.c' }],
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ error: 'scim_resource_already_exists', user_id: user.id });
  });

  it('filters, sorts and pages users', async () => {
    for (const name of ['bob', 'bella', 'carol']) {
      await call('POST', '/Users', {
        userName: name,
        password: `${name}-password`,
        emails: [{ value: `${name}@corp.example` }],
      });
    }
    const sw = await call('GET', `/Users?filter=${filter('userName sw "b"')}&sortBy=userName`);
    expect(sw.status).toBe(200);
    expect((sw.body.resources as ScimUser[]).map((u) => u.userName)).toEqual(['bella', 'bob']);
    expect(sw.body).toMatchObject({ totalResults: 2, startIndex: 1, itemsPerPage: 2 });

    const eq = await call(
      'GET',
      `/Users?filter=${filter('username eq "CAROL" or email co "bella@"')}&sortBy=userName&sortOrder=descending`,
    );
    expect((eq.body.resources as ScimUser[]).map((u) => u.userName)).toEqual(['carol', 'bella']);

    const paged = await call(
      'GET',
      `/Users?filter=${filter('email co "corp.example"')}&sortBy=userName&startIndex=2&count=1`,
    );
    expect(paged.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect((paged.body.resources as ScimUser[])[0]!.userName).toBe('bob');

    const projected = await call(
      'GET',
      `/Users?filter=${filter('userName eq "bob"')}&attributes=id,userName`,
    );
    expect(Object.keys((projected.body.resources as object[])[0]!).sort()).toEqual(['id', 'userName']);
  });

  it("answers malformed filters and unknown attributes with 400 and UAA's message", async () => {
    for (const bad of ['userName eq', 'userName xx "a"', '(userName eq "a"', 'password eq "x"']) {
      const response = await call('GET', `/Users?filter=${filter(bad)}`);
      expect(response.status, bad).toBe(400);
      expect(response.body).toMatchObject({
        error: 'scim',
        error_description: `Invalid filter expression: [${bad}] [created]`,
      });
    }
    const groups = await call('GET', `/Groups?filter=${filter('displayName eq')}`);
    expect(groups.status).toBe(400);
  });

  it('updates with If-Match versions and refuses a stale version', async () => {
    const [user] = (await call('GET', `/Users?filter=${filter('userName eq "alice"')}`)).body
      .resources as ScimUser[];
    const patched = await call(
      'PATCH',
      `/Users/${user!.id}`,
      { name: { givenName: 'Alicia' } },
      { 'if-match': `"${user!.meta.version}"` },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: { givenName: 'Alicia', familyName: 'Liddell' },
      meta: { version: 1 },
    });

    const stale = await call(
      'PATCH',
      `/Users/${user!.id}`,
      { name: { givenName: 'Old' } },
      { 'if-match': '0' },
    );
    expect(stale.status).toBe(409);
    const missing = await call('PUT', `/Users/${user!.id}`, {
      userName: 'alice',
      emails: [{ value: 'alice@example.com' }],
    });
    expect(missing.status).toBe(400);
    const put = await call(
      'PUT',
      `/Users/${user!.id}`,
      { userName: 'alice', emails: [{ value: 'alice@new.example' }], active: true },
      { 'if-match': '*' },
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ emails: [{ value: 'alice@new.example' }], meta: { version: 2 } });
    const unchanged = (await call('GET', `/Users/${user!.id}`)).body as unknown as ScimUser;
    expect(unchanged.meta.version).toBe(2);
  });

  it('maps groups to scopes: membership gives the scope, removal takes it away at the next refresh', async () => {
    const id = await uaa.createUser('dave', 'dave-password', []);
    await expect(uaa.tokenFor({ username: 'dave', password: 'dave-password' })).rejects.toThrow(
      /invalid_scope/,
    );

    const [group] = (await call('GET', `/Groups?filter=${filter('displayName eq "pks.clusters.manage"')}`))
      .body.resources as { id: string }[];
    const added = await call('POST', `/Groups/${group!.id}/members`, {
      value: id,
      type: 'USER',
      origin: 'uaa',
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ value: id, type: 'USER', origin: 'uaa' });
    const token = await uaa.tokenFor({ username: 'dave', password: 'dave-password' });
    expect(token.scope).toBe('pks.clusters.manage');

    const members = await call('GET', `/Groups/${group!.id}/members`);
    expect(members.body).toEqual(expect.arrayContaining([{ value: id, type: 'USER', origin: 'uaa' }]));
    const removed = await call('DELETE', `/Groups/${group!.id}/members/${id}`);
    expect(removed.status).toBe(200);
    const refreshed = await uaa.fetch(`${uaa.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'pks_cli',
        refresh_token: token.refresh_token!,
      }),
    });
    expect(refreshed.status).toBe(400);
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_scope');
  });

  it('resolves nested groups as INDIRECT memberships and scopes', async () => {
    const id = await uaa.createUser('erin', 'erin-password', []);
    const team = await call('POST', '/Groups', {
      displayName: 'team.platform',
      members: [{ value: id, type: 'USER' }],
    });
    expect(team.status).toBe(201);
    const [admins] = (
      await call('GET', `/Groups?filter=${filter('displayName eq "pks.clusters.admin.read"')}`)
    ).body.resources as {
      id: string;
    }[];
    await call('POST', `/Groups/${admins!.id}/members`, { value: team.body.id, type: 'GROUP' });
    const user = (await call('GET', `/Users/${id}`)).body as unknown as ScimUser;
    expect(user.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ display: 'team.platform', type: 'DIRECT' }),
        expect.objectContaining({ display: 'pks.clusters.admin.read', type: 'INDIRECT' }),
      ]),
    );
    expect((await uaa.tokenFor({ username: 'erin', password: 'erin-password' })).scope).toBe(
      'pks.clusters.admin.read',
    );
  });

  it('writes nothing when a group create names a member that does not exist', async () => {
    const response = await call('POST', '/Groups', {
      displayName: 'half.written',
      members: [{ value: '00000000-0000-4000-8000-000000000000', type: 'USER' }],
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_scim_resource');
    const found = await call('GET', `/Groups?filter=${filter('displayName eq "half.written"')}`);
    expect(found.body.totalResults).toBe(0);
  });

  it('patches a group (rename, remove a member with operation delete) and deletes it', async () => {
    const id = await uaa.createUser('frank', 'frank-password', []);
    const created = await call('POST', '/Groups', {
      displayName: 'team.ops',
      description: 'ops',
      members: [{ value: id }],
    });
    const groupId = created.body.id as string;
    const patched = await call(
      'PATCH',
      `/Groups/${groupId}`,
      { displayName: 'team.operations', members: [{ value: id, operation: 'delete' }] },
      { 'if-match': String((created.body.meta as { version: number }).version) },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'team.operations', description: 'ops', members: [] });
    const deleted = await call('DELETE', `/Groups/${groupId}`);
    expect(deleted.status).toBe(200);
    expect((await call('GET', `/Groups/${groupId}`)).status).toBe(404);
  });

  it('deletes a user and its memberships', async () => {
    const id = await uaa.createUser('gina', 'gina-password', ['pks.clusters.manage']);
    const deleted = await call('DELETE', `/Users/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id, userName: 'gina' });
    const gone = await call('GET', `/Users/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: 'scim_resource_not_found' });
    const [group] = (await call('GET', `/Groups?filter=${filter('displayName eq "pks.clusters.manage"')}`))
      .body.resources as {
      members: { value: string }[];
    }[];
    expect(group!.members.map((m) => m.value)).not.toContain(id);
  });

  it('requires a token with SCIM scopes', async () => {
    const none = await uaa.fetch(`${uaa.url}/Users`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      error: 'unauthorized',
      error_description: 'Full authentication is required to access this resource',
    });
    const user = await uaa.tokenFor({ username: 'admin', password: uaa.adminPassword });
    const forbidden = await uaa.fetch(`${uaa.url}/Users`, {
      headers: { authorization: `Bearer ${user.access_token}` },
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('manages clients: create, read, update, change secret, delete', async () => {
    const created = await call('POST', '/oauth/clients', {
      client_id: 'automation',
      client_secret: 'automation-secret',
      authorized_grant_types: ['client_credentials'],
      authorities: ['pks.clusters.admin'],
      scope: [],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      client_id: 'automation',
      authorities: ['pks.clusters.admin'],
      authorized_grant_types: ['client_credentials'],
    });
    expect(created.body).not.toHaveProperty('client_secret');
    const token = await uaa.tokenFor({ clientId: 'automation', clientSecret: 'automation-secret' });
    expect(token.scope).toBe('pks.clusters.admin');

    const duplicate = await call('POST', '/oauth/clients', {
      client_id: 'automation',
      client_secret: 'x',
      authorized_grant_types: ['client_credentials'],
    });
    expect(duplicate.status).toBe(409);
    const invalid = await call('POST', '/oauth/clients', {
      client_id: 'bad',
      authorized_grant_types: ['telepathy'],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('invalid_client');
    expect((await call('GET', '/oauth/clients/bad')).status).toBe(404);

    const updated = await call('PUT', '/oauth/clients/automation', {
      client_id: 'automation',
      authorized_grant_types: ['client_credentials'],
      authorities: ['pks.clusters.admin.read'],
    });
    expect(updated.body).toMatchObject({ authorities: ['pks.clusters.admin.read'] });
    const secret = await call('PUT', '/oauth/clients/automation/secret', { secret: 'rotated-secret' });
    expect(secret.status).toBe(200);
    await expect(uaa.tokenFor({ clientId: 'automation', clientSecret: 'automation-secret' })).rejects.toThrow(
      /401/,
    );
    expect((await uaa.tokenFor({ clientId: 'automation', clientSecret: 'rotated-secret' })).scope).toBe(
      'pks.clusters.admin.read',
    );

    const list = await call('GET', '/oauth/clients');
    expect((list.body.resources as { client_id: string }[]).map((c) => c.client_id)).toEqual(
      expect.arrayContaining([
        'admin',
        'automation',
        'pks_cli',
        'pks_cluster_client',
        'pks_console',
        'pks_director',
      ]),
    );
    expect((await call('DELETE', '/oauth/clients/automation')).status).toBe(200);
    await expect(uaa.tokenFor({ clientId: 'automation', clientSecret: 'rotated-secret' })).rejects.toThrow(
      /invalid_client/,
    );
  });
});
