import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import { openDatabase, type Database } from '@openpks/db';
import { describeCertificate, isIssuedBy } from '@openpks/pki';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { ConfigServerClient, configServerName } from '../client/configServerClient.js';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';

let uaa: TestUaa;
let db: Database;
let bosh: TestDirector;
const deployment = 'service-instance_cs';
const hostname = 'cluster-cs.example.com';

beforeAll(async () => {
  uaa = await startTestUaa();
  db = await openDatabase({ dataDir: 'memory://' });
  bosh = await startTestDirector({ uaa, db, ipRange: '127.1.53.0/24' });
  const task = await bosh.client.deploy(
    kuboManifest({ name: deployment, masters: 2, workers: 1, externalHostname: hostname }),
  );
  await bosh.client.waitForTask(task.id);
}, 120_000);
afterAll(async () => {
  await bosh?.stop();
  await db?.close();
  await uaa?.stop();
});

const name = (variable: string) => configServerName(bosh.director.name, deployment, variable);

/** The certificate a TLS server presents when asked for `servername`, and whether `ca` verifies it. */
const handshake = (host: string, servername: string, ca: string) =>
  new Promise<{ authorized: boolean; error?: string; pem: string }>((resolve, reject) => {
    const socket = connect({ host, port: 8443, servername, ca, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      const pem = `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
      resolve({
        authorized: socket.authorized,
        ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}),
        pem,
      });
      socket.end();
    });
    socket.on('error', reject);
  });

describe("the embedded Director's config server (CredHub's read API)", () => {
  it('is advertised in /info and serves certificates without their private keys', async () => {
    const info = await bosh.client.info();
    expect(info.features.config_server).toEqual({
      status: true,
      extras: { urls: [`${new URL(bosh.url).origin}/api/`] },
    });

    const ca = await bosh.configServer.certificate(name('kubo_ca'));
    expect(ca?.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(ca?.ca).toBe(ca?.certificate);
    const serving = await bosh.configServer.certificate(name('tls-kubernetes'));
    expect(isIssuedBy(serving!.certificate, ca!.certificate)).toBe(true);

    const credential = await bosh.configServer.current(name('tls-kubernetes'));
    expect(credential).toMatchObject({
      type: 'certificate',
      name: name('tls-kubernetes'),
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      version_created_at: expect.any(String),
    });
    expect(JSON.stringify(credential)).not.toMatch(/PRIVATE KEY/);
    expect(Object.keys(credential!.value as object).sort()).toEqual(['ca', 'certificate']);
  });

  it('answers 404 for passwords and keys, other directors and unknown names; 401 without a token, 403 without an admin scope', async () => {
    expect(await bosh.configServer.current(name('kubo-admin-password'))).toBeUndefined();
    expect(await bosh.configServer.current(name('service-account-key'))).toBeUndefined();
    expect(await bosh.configServer.current(`/another-director/${deployment}/kubo_ca`)).toBeUndefined();
    expect(await bosh.configServer.current(name('no-such-variable'))).toBeUndefined();

    const anonymous = new ConfigServerClient({ url: `${bosh.url}/api/`, ca: bosh.caPem });
    await expect(anonymous.current(name('kubo_ca'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    anonymous.close();

    await uaa.createUser('cs-operator', 'Passw0rd!cs', ['pks.clusters.admin']);
    const { access_token } = await uaa.tokenFor({ username: 'cs-operator', password: 'Passw0rd!cs' });
    const operator = new ConfigServerClient({
      url: `${bosh.url}/api/`,
      ca: bosh.caPem,
      tokenSource: { token: async () => access_token },
    });
    await expect(operator.current(name('kubo_ca'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    operator.close();
  });

  it("makes sim masters serve the deployment's tls-kubernetes, with the master IPs from the link as SANs", async () => {
    const ca = (await bosh.configServer.certificate(name('kubo_ca')))!.certificate;
    const serving = (await bosh.configServer.certificate(name('tls-kubernetes')))!.certificate;
    const masters = (await bosh.client.instances(deployment)).filter((i) => i.job === 'master');
    expect(masters).toHaveLength(2);
    const sans = describeCertificate(serving);
    expect(sans.dnsNames).toContain(hostname);
    for (const master of masters) {
      expect(sans.ipAddresses).toContain(master.ips[0]);
      // What a kubeconfig with `server: https://<master ip>:8443` and `tls-server-name: <hostname>` does.
      const byName = await handshake(master.ips[0]!, hostname, ca);
      expect(byName).toMatchObject({ authorized: true });
      expect(byName.pem.replace(/\s/g, '')).toBe(serving.replace(/\s/g, ''));
    }
  });
});
