import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { DirectorClient } from '../client/directorClient.js';
import { DirectorTaskError } from '../client/errors.js';
import type { TaskEvent } from '../protocol/types.js';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';

let uaa: TestUaa;
beforeAll(async () => {
  uaa = await startTestUaa();
});
afterAll(async () => {
  await uaa?.stop();
});

function raw(
  url: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function directorToken(): Promise<string> {
  return (await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret }))
    .access_token;
}

describe('failures', () => {
  let bosh: TestDirector;
  beforeAll(async () => {
    bosh = await startTestDirector({ uaa, ipRange: '127.1.38.0/24', sim: { cpiTimeoutMs: 500 } });
  });
  afterAll(async () => bosh?.stop());

  it("ends the task error with the CPI's message, and a retry deploy repairs it", async () => {
    const { client, director } = bosh;
    director.cpi.injectFault({
      method: 'create_vm',
      instanceGroup: 'worker',
      nth: 2,
      message: 'sim: datastore ds-1 is full',
    });
    const task = await client.deploy(kuboManifest({ name: 'faulty', workers: 3 }));
    const events: TaskEvent[] = [];
    const failure = await client
      .waitForTask(task.id, { onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DirectorTaskError);
    expect((failure as DirectorTaskError).task.state).toBe('error');
    expect((failure as DirectorTaskError).message).toBe('sim: datastore ds-1 is full');
    expect(events.some((e) => e.state === 'failed' && e.data?.error === 'sim: datastore ds-1 is full')).toBe(
      true,
    );
    expect(events.at(-1)?.error?.message).toBe('sim: datastore ds-1 is full');

    // The failed first deploy left what it created, visible and recorded for the retry.
    expect((await client.instances('faulty')).filter((i) => i.cid !== null).length).toBeGreaterThan(0);
    const retry = await client.deploy(kuboManifest({ name: 'faulty', workers: 3 }));
    expect((await client.waitForTask(retry.id)).state).toBe('done');
    expect((await client.instances('faulty')).filter((i) => i.job === 'worker' && i.cid)).toHaveLength(3);
  });

  it('ends the task timeout when a CPI call hangs, and a retry repairs it', async () => {
    const { client, director } = bosh;
    director.cpi.injectFault({ method: 'create_vm', instanceGroup: 'master', hang: true });
    const task = await client.deploy(kuboManifest({ name: 'hung', workers: 1 }));
    const failure = (await client.waitForTask(task.id).catch((e: unknown) => e)) as DirectorTaskError;
    expect(failure.task.state).toBe('timeout');
    expect(failure.message).toMatch(/CPI 'create_vm' timed out after 500 ms/);
    director.cpi.clearFaults();
    const retry = await client.deploy(kuboManifest({ name: 'hung', workers: 1 }));
    expect((await client.waitForTask(retry.id)).state).toBe('done');
  });

  it('rejects bad manifests with messages naming the field', async () => {
    const { client } = bosh;
    const fails = async (manifest: string) => {
      const task = await client.deploy(manifest, { diff: false });
      return ((await client.waitForTask(task.id).catch((e: unknown) => e)) as DirectorTaskError).message;
    };
    const good = kuboManifest({ name: 'bad', workers: 1 });
    expect(await fails(good.replace(/\n {4}instances: 1\n/, '\n'))).toMatch(
      /Required property 'instances' was not specified in object \(instance group 'master'\)/,
    );
    expect(await fails(good.replace('((tls-kubelet))', '((no-such-cert))'))).toMatch(
      /Failed to find variable '\/bad\/no-such-cert'/,
    );
    expect(await fails(good.replace('max_in_flight: 1', 'max_in_flight: lots'))).toMatch(/max_in_flight/);
    expect(await fails(good.replace('release: docker', 'release: nope'))).toMatch(/requires release 'nope'/);
    await expect(client.deploy('releases: []\n', { diff: false })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(await client.manifest('bad')).toBeUndefined();
  });

  it('answers 401 to missing, forged and foreign tokens, and 403 without a bosh scope', async () => {
    const url = `${bosh.url}/deployments`;
    expect((await raw(`${bosh.url}/info`, bosh.caPem)).status).toBe(200);
    expect((await raw(url, bosh.caPem)).status).toBe(401);
    expect((await raw(url, bosh.caPem, { Authorization: 'Bearer not.a.jwt' })).status).toBe(401);
    const token = await directorToken();
    const [header, payload] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: ['bosh.admin'], exp: 9999999999 })).toString('base64url')}.${token.split('.')[2]}`;
    expect((await raw(url, bosh.caPem, { Authorization: `Bearer ${forged}` })).status).toBe(401);
    const admin = await uaa.adminToken();
    const forbidden = await raw(url, bosh.caPem, { Authorization: `Bearer ${admin}` });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body)).toMatchObject({ description: expect.stringMatching(/bosh\.admin/) });

    // bosh.read may look but not change anything.
    const created = await uaa.fetch(`${uaa.url}/oauth/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'bosh_reader',
        client_secret: 'reader-secret',
        authorized_grant_types: ['client_credentials'],
        authorities: ['bosh.read'],
        scope: [],
      }),
    });
    expect(created.status).toBe(201);
    const reader = new DirectorClient({
      url: bosh.url,
      ca: bosh.caPem,
      client: { id: 'bosh_reader', secret: 'reader-secret' },
    });
    expect(Array.isArray(await reader.deployments())).toBe(true);
    await expect(reader.deploy(kuboManifest({ name: 'read-only' }), { diff: false })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    reader.close();

    const wrong = new DirectorClient({
      url: bosh.url,
      ca: bosh.caPem,
      client: { id: 'pks_director', secret: 'wrong' },
    });
    await expect(wrong.deployments()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    wrong.close();
    await expect(bosh.client.task(999_999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
