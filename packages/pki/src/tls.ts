import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '@openpks/domain';
import type { DataDirectory } from './dataDirectory.js';
import {
  createCertificateAuthority,
  describeCertificate,
  isIssuedBy,
  issueCertificate,
  type CertificateAndKey,
} from './certificates.js';

/** What a TLS server needs: its certificate chain, its key and the CA clients should trust. */
export interface ServerCredentials {
  cert: string;
  key: string;
  ca: string;
}

export interface TlsAuthorityOptions {
  /** Names clients use to reach the servers; localhost and 127.0.0.1 are always included. */
  hostnames?: readonly string[];
  /** Operator-supplied certificate, key and CA used for every role instead of generated ones. */
  operatorSupplied?: { certFile: string; keyFile: string; caFile: string };
  /**
   * An operator-given CA (certificate and key) that issues each role's server certificate here, instead
   * of a CA generated into the data directory: every machine of one installation is given the same one.
   */
  issuingCa?: { certFile: string; keyFile: string };
}

const CA_CERT = 'tls/ca.crt';
const CA_KEY = 'tls/ca.key';
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * The CA of an openpks installation. On first start it generates a CA and per-role server certificates
 * into the data directory; later starts reuse them, and reissue a server certificate only when it
 * no longer covers the configured host names, was signed by another CA, or expires within 30 days.
 */
export class TlsAuthority {
  private constructor(
    private readonly dataDir: DataDirectory | undefined,
    private readonly ca: CertificateAndKey | undefined,
    readonly caPem: string,
    readonly caPath: string,
    readonly hostnames: readonly string[],
    private readonly supplied: ServerCredentials | undefined,
  ) {}

  static async load(dataDir: DataDirectory, options: TlsAuthorityOptions = {}): Promise<TlsAuthority> {
    const hostnames = [...new Set(['localhost', '127.0.0.1', ...(options.hostnames ?? [])])];
    if (options.operatorSupplied) {
      const { certFile, keyFile, caFile } = options.operatorSupplied;
      const [cert, key, ca] = await readSettingFiles([
        ['tls.cert_file', certFile],
        ['tls.key_file', keyFile],
        ['tls.ca_file', caFile],
      ]);
      if (!isIssuedBy(cert!, ca!)) {
        throw new InputError('tls.cert_file', `${certFile} is not signed by the CA in ${caFile}`);
      }
      return new TlsAuthority(undefined, undefined, ca!, caFile, hostnames, {
        cert: cert!,
        key: key!,
        ca: ca!,
      });
    }

    if (options.issuingCa) {
      const { certFile, keyFile } = options.issuingCa;
      const [certificatePem, privateKeyPem] = await readSettingFiles([
        ['tls.ca_file', certFile],
        ['tls.ca_key_file', keyFile],
      ]);
      const ca = { certificatePem: certificatePem!, privateKeyPem: privateKeyPem! };
      if (!keyMatches(ca)) {
        throw new InputError('tls.ca_key_file', `${keyFile} is not the private key of the CA in ${certFile}`);
      }
      return new TlsAuthority(dataDir, ca, ca.certificatePem, certFile, hostnames, undefined);
    }

    let ca: CertificateAndKey;
    // An empty file counts as missing: it is what an interrupted copy or a truncated backup leaves.
    const [certificate, privateKey] = (await Promise.all([dataDir.read(CA_CERT), dataDir.read(CA_KEY)])).map(
      (b) => (b && b.length > 0 ? b : undefined),
    );
    if (certificate && privateKey) {
      ca = { certificatePem: certificate.toString('utf8'), privateKeyPem: privateKey.toString('utf8') };
    } else if (certificate || privateKey) {
      throw new InputError(
        'data_dir',
        `${dataDir.path(certificate ? CA_KEY : CA_CERT)} is missing while its pair exists; restore it from a backup, or remove ${dataDir.path('tls')} to generate a new CA (existing kubeconfigs and clients will then distrust the servers)`,
      );
    } else {
      ca = await createCertificateAuthority({ commonName: 'openpks CA' });
      await dataDir.write(CA_KEY, ca.privateKeyPem, { secret: true });
      await dataDir.write(CA_CERT, ca.certificatePem);
    }
    return new TlsAuthority(dataDir, ca, ca.certificatePem, dataDir.path(CA_CERT), hostnames, undefined);
  }

  /** Whether this authority can issue certificates (false for operator-supplied TLS). */
  get canIssue(): boolean {
    return this.ca !== undefined;
  }

  /** The server certificate of a role (e.g. `uaa`), reusing the stored one while it is still right. */
  async serverCredentials(role: string): Promise<ServerCredentials> {
    if (this.supplied) return this.supplied;
    const dataDir = this.dataDir!;
    const ca = this.ca!;
    const certPath = `tls/${role}.crt`;
    const keyPath = `tls/${role}.key`;
    const [cert, key] = await Promise.all([dataDir.read(certPath), dataDir.read(keyPath)]);
    if (cert && key && this.isCurrent(cert.toString('utf8'))) {
      return { cert: cert.toString('utf8'), key: key.toString('utf8'), ca: ca.certificatePem };
    }
    const issued = await issueCertificate(ca, {
      commonName: `openpks ${role}`,
      hostnames: this.hostnames,
      usage: 'server',
    });
    await dataDir.write(keyPath, issued.privateKeyPem, { secret: true });
    await dataDir.write(certPath, issued.certificatePem);
    return { cert: issued.certificatePem, key: issued.privateKeyPem, ca: ca.certificatePem };
  }

  /** Signs a certificate with the installation CA (e.g. for clients or the embedded Director's needs). */
  async issue(options: Parameters<typeof issueCertificate>[1]): Promise<CertificateAndKey> {
    if (!this.ca)
      throw new InputError('tls', 'operator-supplied TLS has no CA key to issue certificates with');
    return issueCertificate(this.ca, options);
  }

  private isCurrent(pem: string): boolean {
    try {
      if (!isIssuedBy(pem, this.caPem)) return false;
      const summary = describeCertificate(pem);
      const covered = new Set([...summary.dnsNames, ...summary.ipAddresses]);
      return (
        this.hostnames.every((name) => covered.has(name)) &&
        summary.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS
      );
    } catch {
      return false;
    }
  }
}

/** Whether a CA's private key belongs to its certificate (a mismatched pair issues certificates nobody trusts). */
function keyMatches(ca: CertificateAndKey): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(ca.privateKeyPem)).export({
      type: 'spki',
      format: 'der',
    });
    const fromCert = new X509Certificate(ca.certificatePem).publicKey.export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

/** Reads the files the settings name; one that cannot be read is reported under its setting. */
function readSettingFiles(files: readonly (readonly [field: string, path: string])[]): Promise<string[]> {
  return Promise.all(
    files.map(async ([field, path]) => {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        throw new InputError(field, `cannot read ${path}: ${(error as Error).message}`, { cause: error });
      }
    }),
  );
}
