import type { Database } from '@openpks/db';
import { createCertificateAuthority, type CertificateAndKey, type SecretBox } from '@openpks/pki';
import { clientCaStore } from '../store/clientCaStore.js';

const CLIENT_CA_ID = 'pks-broker-client-ca';
const SEAL_CONTEXT = `broker.client_ca/${CLIENT_CA_ID}`;

/**
 * The broker's client CA: clusters trust it for client certificates (beside kubo_ca, whose key never
 * leaves the Director), so the broker can reach each cluster as `system:masters` and hand bindings a client
 * certificate. Made once per installation and kept sealed in the broker's schema; replicas starting
 * together settle on the first one written.
 */
export async function loadOrCreateClientCa(db: Database, secrets: SecretBox): Promise<CertificateAndKey> {
  let row = await clientCaStore.get(db, CLIENT_CA_ID);
  if (row === undefined) {
    const ca = await createCertificateAuthority({ commonName: 'openpks broker client CA' });
    await clientCaStore.insertIfAbsent(db, {
      id: CLIENT_CA_ID,
      certificate: ca.certificatePem,
      privateKeySealed: secrets.seal(ca.privateKeyPem, SEAL_CONTEXT),
    });
    row = await clientCaStore.get(db, CLIENT_CA_ID);
  }
  if (row === undefined) throw new Error('the broker client CA could not be stored');
  return {
    certificatePem: row.certificate,
    privateKeyPem: secrets.openString(row.private_key_sealed, SEAL_CONTEXT),
  };
}
