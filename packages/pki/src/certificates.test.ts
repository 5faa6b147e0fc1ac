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
