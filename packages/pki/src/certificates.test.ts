import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  describeCertificate,
  isIssuedBy,
  issueCertificate,
} from './certificates.js';

describe('issuing leaves', () => {
  it('signs every leaf of a CA it has read before, and each CA its own', async () => {
    const a = await createCertificateAuthority({ commonName: 'ca-a' });
    const b = await createCertificateAuthority({ commonName: 'ca-b' });
    const leaves = [];
    for (const ca of [a, b, a, b, a])
      leaves.push({ ca, leaf: await issueCertificate(ca, { commonName: 'x' }) });
    for (const { ca, leaf } of leaves) {
      expect(isIssuedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
      expect(isIssuedBy(leaf.certificatePem, (ca === a ? b : a).certificatePem)).toBe(false);
      expect(describeCertificate(leaf.certificatePem).issuer).toBe(ca === a ? 'CN=ca-a' : 'CN=ca-b');
    }
  });

  it("reads the CA's key again when it comes with another key, and keeps no CA it could not read", async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca-c' });
    await issueCertificate(ca, { commonName: 'x' });
    await expect(
      issueCertificate({ ...ca, privateKeyPem: 'not a key' }, { commonName: 'x' }),
    ).rejects.toThrow(/private key/);
    // The bad key did not replace the good one, nor the good one hide the bad one.
    const leaf = await issueCertificate(ca, { commonName: 'y' });
    expect(isIssuedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
    const other = await createCertificateAuthority({ commonName: 'ca-c' });
    await expect(
      issueCertificate({ ...ca, privateKeyPem: 'still not a key' }, { commonName: 'x' }),
    ).rejects.toThrow(/private key/);
    expect(
      isIssuedBy((await issueCertificate(other, { commonName: 'z' })).certificatePem, other.certificatePem),
    ).toBe(true);
  });
});

/** `openssl` as a verifier other than Node: strict RFC 5280 checks and its own parse of every field. */
function openssl(
  args: string[],
  files: Record<string, string>,
  dir = mkdtempSync(join(tmpdir(), 'pks-pki-openssl-')),
): { status: number; output: string; dir: string } {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}`, dir };
}

describe('the certificates, read by openssl', () => {
  it('a CA and a server-and-client leaf with DNS, IPv4 and IPv6 names pass strict verification', async () => {
    const ca = await createCertificateAuthority({ commonName: 'kube CA' });
    const leaf = await issueCertificate(ca, {
      commonName: 'admin',
      organizations: ['system:masters', 'ops'],
      hostnames: ['api.example.com', '10.0.0.1', 'fd00::12', '::ffff:192.168.1.2', 'api.example.com'],
      usage: 'server-and-client',
    });
    const files = { 'ca.pem': ca.certificatePem, 'leaf.pem': leaf.certificatePem };
    for (const purpose of ['sslserver', 'sslclient']) {
      const verified = openssl(
        ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'ca.pem', 'leaf.pem'],
        files,
      );
      expect(verified.output).toContain('leaf.pem: OK');
    }
    const text = openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], files).output;
    expect(text).toMatch(/Subject: CN ?= ?admin, O ?= ?system:masters, O ?= ?ops/);
    expect(text).toMatch(/Issuer: CN ?= ?kube CA/);
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('ecdsa-with-SHA256');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Agreement/);
    expect(text).toMatch(
      /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(text).toMatch(
      /Subject Alternative Name:\s+DNS:api.example.com, IP Address:10.0.0.1, IP Address:FD00:0:0:0:0:0:0:12, IP Address:0:0:0:0:0:FFFF:C0A8:102\s/,
    );
    const caText = openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], files).output;
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    // The leaf names its CA by the CA's own key identifier.
    const caKeyId = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)![1];
    expect(text).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caKeyId}`));
    expect(describeCertificate(leaf.certificatePem).ipAddresses).toEqual([
      '10.0.0.1',
      'FD00:0:0:0:0:0:0:12',
      '0:0:0:0:0:FFFF:C0A8:102',
    ]);
  });

  it('an RSA CA signs RSA leaves with sha256WithRSAEncryption, keyEncipherment for RSA keys', async () => {
    const ca = await createCertificateAuthority({ commonName: 'rsa CA', keyAlgorithm: 'rsa-2048' });
    const leaf = await issueCertificate(ca, {
      commonName: 'client',
      usage: 'client',
      keyAlgorithm: 'rsa-2048',
    });
    const files = {
      'ca.pem': ca.certificatePem,
      'leaf.pem': leaf.certificatePem,
      'key.pem': leaf.privateKeyPem,
    };
    expect(
      openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', 'ca.pem', 'leaf.pem'], files)
        .output,
    ).toContain('leaf.pem: OK');
    const text = openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], files).output;
    expect(text).toContain('sha256WithRSAEncryption');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication\s/);
    expect(text).not.toContain('Subject Alternative Name');
    // The private key is the certificate's.
    const certKey = openssl(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], files).output;
    expect(openssl(['pkey', '-in', 'key.pem', '-pubout'], files).output).toBe(certKey);
  });

  it('issues leaves from a CA made elsewhere (openssl, PrintableString names), whose chain verifies', async () => {
    const made = openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '30',
        '-subj',
        '/C=US/O=Example Org/CN=Outside CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      {},
    );
    expect(made.status, made.output).toBe(0);
    const ca = {
      certificatePem: readFileSync(join(made.dir, 'ca.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(made.dir, 'ca.key'), 'utf8'),
    };
    const leaf = await issueCertificate(ca, {
      commonName: 'node',
      hostnames: ['10.1.2.3'],
      validityDays: 365,
    });
    expect(
      openssl(
        ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'leaf.pem'],
        {
          'leaf.pem': leaf.certificatePem,
        },
        made.dir,
      ).output,
    ).toContain('leaf.pem: OK');
    const summary = describeCertificate(leaf.certificatePem);
    expect(summary.issuer).toBe(describeCertificate(ca.certificatePem).subject);
    // Never outliving its CA: 365 days asked, the CA's 30 given.
    expect(summary.notAfter.getTime()).toBe(describeCertificate(ca.certificatePem).notAfter.getTime());
    expect(isIssuedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
  });

  it('refuses a host name that is not ASCII, naming it, and a CA certificate it cannot read', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca' });
    await expect(issueCertificate(ca, { commonName: 'x', hostnames: ['bücher.example'] })).rejects.toThrow(
      /'bücher.example' is not an ASCII host name; give an internationalised name in its punycode/,
    );
    await expect(
      issueCertificate({ ...ca, certificatePem: 'not a certificate' }, { commonName: 'x' }),
    ).rejects.toThrow(/cannot read the CA certificate/);
  });
});
