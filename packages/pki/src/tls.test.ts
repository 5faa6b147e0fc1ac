import { mkdtempSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirectory } from './dataDirectory.js';
import {
  createCertificateAuthority,
  describeCertificate,
  isIssuedBy,
  issueCertificate,
} from './certificates.js';
import { TlsAuthority, type ServerCredentials } from './tls.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(credentials: ServerCredentials): Promise<number> {
  const server = createServer({ cert: credentials.cert, key: credentials.key }, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number, ca: string, servername = 'localhost'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, ca, servername, path: '/', rejectUnauthorized: true },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function freshDir(): Promise<DataDirectory> {
  return DataDirectory.open(mkdtempSync(join(tmpdir(), 'pks-pki-')));
}

describe('TlsAuthority', () => {
  it('generates a CA and a role certificate that a TLS client trusting only that CA accepts', async () => {
    const dataDir = await freshDir();
    const authority = await TlsAuthority.load(dataDir, { hostnames: ['pks.example.com'] });
    const credentials = await authority.serverCredentials('uaa');
    const port = await serve(credentials);
    expect(await get(port, authority.caPem, 'localhost')).toBe('ok');
    expect(await get(port, authority.caPem, 'pks.example.com')).toBe('ok');
    const summary = describeCertificate(credentials.cert);
    expect(summary.dnsNames).toEqual(expect.arrayContaining(['localhost', 'pks.example.com']));
    expect(summary.ipAddresses).toContain('127.0.0.1');
    expect(summary.isCa).toBe(false);
    expect(describeCertificate(authority.caPem).isCa).toBe(true);
  });

  it('is refused by a client that does not trust the CA, or asks for a name it does not cover', async () => {
    const dataDir = await freshDir();
    const authority = await TlsAuthority.load(dataDir);
    const port = await serve(await authority.serverCredentials('api'));
    const other = await createCertificateAuthority({ commonName: 'someone else' });
    await expect(get(port, other.certificatePem)).rejects.toThrow(/certificate/i);
    await expect(get(port, authority.caPem, 'evil.example.com')).rejects.toThrow(/altnames|Hostname/i);
  });

  it('keeps keys private: 0600 key files in a 0700 directory', async () => {
    const dataDir = await freshDir();
    const authority = await TlsAuthority.load(dataDir);
    await authority.serverCredentials('broker');
    expect(statSync(dataDir.path('tls/ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir.path('tls/broker.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir.root).mode & 0o777).toBe(0o700);
  });

  it('reuses the CA and server certificates on the next start', async () => {
    const dataDir = await freshDir();
    const first = await TlsAuthority.load(dataDir);
    const firstCert = await first.serverCredentials('uaa');
    const second = await TlsAuthority.load(dataDir);
    expect(second.caPem).toBe(first.caPem);
    expect((await second.serverCredentials('uaa')).cert).toBe(firstCert.cert);
  });

  it('reissues a server certificate when a new host name is configured, keeping the CA', async () => {
    const dataDir = await freshDir();
    const first = await TlsAuthority.load(dataDir);
    const before = await first.serverCredentials('api');
    const second = await TlsAuthority.load(dataDir, { hostnames: ['api.pks.local'] });
    const after = await second.serverCredentials('api');
    expect(second.caPem).toBe(first.caPem);
    expect(after.cert).not.toBe(before.cert);
    expect(describeCertificate(after.cert).dnsNames).toContain('api.pks.local');
  });

  it('refuses to start when the CA key is missing but its certificate exists', async () => {
    const dataDir = await freshDir();
    await TlsAuthority.load(dataDir);
    unlinkSync(dataDir.path('tls/ca.key'));
    await expect(TlsAuthority.load(dataDir)).rejects.toThrow(/ca.key is missing while its pair exists/);
    writeFileSync(dataDir.path('tls/ca.key'), '');
    await expect(TlsAuthority.load(dataDir)).rejects.toThrow(/ca.key is missing while its pair exists/);
  });

  it('serves operator-supplied certificates, and rejects a certificate from another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pks-operator-'));
    const ca = await createCertificateAuthority({ commonName: 'corp CA' });
    const leaf = await issueCertificate(ca, { commonName: 'pks', hostnames: ['localhost', '127.0.0.1'] });
    writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
    writeFileSync(join(dir, 'cert.pem'), leaf.certificatePem);
    writeFileSync(join(dir, 'key.pem'), leaf.privateKeyPem);
    const files = {
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
      caFile: join(dir, 'ca.pem'),
    };
    const authority = await TlsAuthority.load(await freshDir(), { operatorSupplied: files });
    expect(authority.canIssue).toBe(false);
    const port = await serve(await authority.serverCredentials('uaa'));
    expect(await get(port, ca.certificatePem)).toBe('ok');

    const other = await createCertificateAuthority({ commonName: 'other' });
    writeFileSync(join(dir, 'ca.pem'), other.certificatePem);
    await expect(TlsAuthority.load(await freshDir(), { operatorSupplied: files })).rejects.toThrow(
      /is not signed by the CA/,
    );
  });
});

describe('certificates', () => {
  it('issues RSA and client certificates too, never outliving the CA', async () => {
    const ca = await createCertificateAuthority({
      commonName: 'short CA',
      validityDays: 10,
      keyAlgorithm: 'rsa-2048',
    });
    const leaf = await issueCertificate(ca, {
      commonName: 'admin',
      usage: 'client',
      organizations: ['system:masters'],
      validityDays: 365,
    });
    expect(isIssuedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
    const summary = describeCertificate(leaf.certificatePem);
    expect(summary.subject).toContain('O=system:masters');
    expect(summary.notAfter.getTime()).toBeLessThanOrEqual(
      describeCertificate(ca.certificatePem).notAfter.getTime(),
    );
  });
});
