// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { isIP } from 'node:net';
import { InputError } from '@openpks/domain';

x509.cryptoProvider.set(webcrypto as never);

export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048';

/** A certificate and its private key, PEM-encoded (the key as PKCS#8). */
export interface CertificateAndKey {
  certificatePem: string;
  privateKeyPem: string;
}

export type CertificateUsage = 'server' | 'client' | 'server-and-client';

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName; IPs are recognised and encoded as such. */
  hostnames?: readonly string[];
  usage?: CertificateUsage;
  validityDays?: number;
  keyAlgorithm?: KeyAlgorithm;
  /** Subject organisation(s); Kubernetes reads client certificates' O as groups. */
  organizations?: readonly string[];
}

const ALGORITHMS: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'rsa-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
};

const DAY_MS = 86_400_000;

function signingAlgorithm(key: CryptoKey): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

async function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHMS[algorithm], true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  let keyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (error) {
    throw new InputError('private key', `cannot read the private key: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const algorithm =
    keyObject.asymmetricKeyType === 'ec'
      ? {
          name: 'ECDSA',
          namedCurve: keyObject.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256',
        }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

function distinguishedName(commonName: string, organizations: readonly string[] = []): string {
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${escape(commonName)}`, ...organizations.map((o) => `O=${escape(o)}`)].join(', ');
}

/** Creates a self-signed CA able to sign server and client certificates. */
export async function createCertificateAuthority({
  commonName,
  validityDays = 3650,
  keyAlgorithm = 'ecdsa-p256',
}: {
  commonName: string;
  validityDays?: number;
  keyAlgorithm?: KeyAlgorithm;
}): Promise<CertificateAndKey> {
  const keys = await generateKeys(keyAlgorithm);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(commonName),
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + validityDays * DAY_MS),
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportPrivateKey(keys.privateKey),
  };
}

interface ParsedCa {
  privateKeyPem: string;
  certificate: x509.X509Certificate;
  key: CryptoKey;
  authorityKeyId: x509.AuthorityKeyIdentifierExtension;
}

/** How many CAs' parsed forms are kept: a deployment has a few, and a fleet's deploys come in bursts. */
const PARSED_CA_LIMIT = 64;
const parsedCas = new Map<string, Promise<ParsedCa>>();

/**
 * The CA's certificate parsed, its key imported and its authority key identifier built, kept per CA
 * certificate (the most recently used `PARSED_CA_LIMIT`): a deployment's leaves share a CA, and parsing it
 * again for each leaf was a quarter of issuing one. The key is kept only beside the PEM it was read from
 * (a CA given with another key is read again).
 */
function parsedCa(ca: CertificateAndKey): Promise<ParsedCa> {
  const cached = parsedCas.get(ca.certificatePem);
  if (cached !== undefined) {
    parsedCas.delete(ca.certificatePem);
    parsedCas.set(ca.certificatePem, cached);
    return cached.then((parsed) => (parsed.privateKeyPem === ca.privateKeyPem ? parsed : parse()));
  }
  return parse();

  function parse(): Promise<ParsedCa> {
    const parsing = (async () => {
      const certificate = new x509.X509Certificate(ca.certificatePem);
      return {
        privateKeyPem: ca.privateKeyPem,
        certificate,
        key: await importPrivateKey(ca.privateKeyPem),
        authorityKeyId: await x509.AuthorityKeyIdentifierExtension.create(certificate),
      };
    })();
    parsedCas.set(ca.certificatePem, parsing);
    // A CA that cannot be read is not kept: the error is the caller's, and the next call tries again.
    parsing.catch(() => {
      if (parsedCas.get(ca.certificatePem) === parsing) parsedCas.delete(ca.certificatePem);
    });
    while (parsedCas.size > PARSED_CA_LIMIT) parsedCas.delete(parsedCas.keys().next().value!);
    return parsing;
  }
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCertificate(
  ca: CertificateAndKey,
  options: IssueOptions,
): Promise<CertificateAndKey> {
  const {
    commonName,
    hostnames = [],
    usage = 'server',
    validityDays = 825,
    keyAlgorithm = 'ecdsa-p256',
  } = options;
  const { certificate: caCertificate, key: caKey, authorityKeyId } = await parsedCa(ca);
  const keys = await generateKeys(keyAlgorithm);
  const now = Date.now();
  const caNotAfter = caCertificate.notAfter.getTime();
  const extendedUsages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    'server-and-client': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[usage];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature |
        (keyAlgorithm === 'rsa-2048' ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.keyAgreement),
      true,
    ),
    new x509.ExtendedKeyUsageExtension(extendedUsages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    authorityKeyId,
  ];
  const names = [...new Set(hostnames)].map((name) =>
    isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name },
  );
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(commonName, options.organizations),
    issuer: caCertificate.subject,
    notBefore: new Date(now - 5 * 60_000),
    // A leaf never outlives its CA: clients would reject the chain at the CA's expiry anyway.
    notAfter: new Date(Math.min(now + validityDays * DAY_MS, caNotAfter)),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: signingAlgorithm(caKey),
    extensions,
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportPrivateKey(keys.privateKey),
  };
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  isCa: boolean;
  fingerprint256: string;
}

/** Reads the facts of a PEM certificate that callers decide on (SANs, validity, issuer). */
export function describeCertificate(pem: string): CertificateSummary {
  const certificate = new X509Certificate(pem);
  const altNames = certificate.subjectAltName?.split(', ') ?? [];
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    dnsNames: altNames.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
    ipAddresses: altNames.filter((n) => n.startsWith('IP Address:')).map((n) => normaliseIp(n.slice(11))),
    isCa: certificate.ca,
    fingerprint256: certificate.fingerprint256,
  };
}

function normaliseIp(ip: string): string {
  return ip.trim();
}

/** True when `pem` was signed by the CA certificate `caPem`. */
export function isIssuedBy(pem: string, caPem: string): boolean {
  const certificate = new X509Certificate(pem);
  const ca = new X509Certificate(caPem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}
