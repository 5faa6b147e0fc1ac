import type { Database } from '@openpks/db';
import { createCertificateAuthority, type CertificateAndKey, type SecretBox } from '@openpks/pki';

const CLIENT_CA_ID = 'pks-broker-client-ca';
const SEAL_CONTEXT = `broker.client_ca/${CLIENT_CA_ID}`;

/**
 * The broker's client CA: clusters trust it for client certificates (beside kubo_ca, whose key never
 * leaves the Director), so the broker can reach each cluster as `system:masters` and hand bindings a client
 * certificate. Made once per installation and kept sealed in the broker's schema; replicas starting
 * together settle on the first one written.
 */
export async function loadOrCreateClientCa(db: Database, secrets: SecretBox): Promise<CertificateAndKey> {
  const read = async () =>
    (
      await db.query<{ certificate: string; private_key_sealed: string }>(
        'SELECT certificate, private_key_sealed FROM broker.client_ca WHERE id = $1',
        [CLIENT_CA_ID],
      )
    ).rows[0];
  let row = await read();
  if (row === undefined) {
    const ca = await createCertificateAuthority({ commonName: 'openpks broker client CA' });
    await db.query(
      `INSERT INTO broker.client_ca (id, certificate, private_key_sealed) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING`,
      [CLIENT_CA_ID, ca.certificatePem, secrets.seal(ca.privateKeyPem, SEAL_CONTEXT)],
    );
    row = await read();
  }
  if (row === undefined) throw new Error('the broker client CA could not be stored');
  return {
    certificatePem: row.certificate,
    privateKeyPem: secrets.openString(row.private_key_sealed, SEAL_CONTEXT),
  };
}
