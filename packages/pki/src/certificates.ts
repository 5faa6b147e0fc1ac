import {
  createHash,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { InputError } from '@openpks/domain';
import {
  bitString,
  boolean,
  children,
  explicit,
  implicitPrimitive,
  namedBits,
  nullValue,
  objectIdentifier,
  octetString,
  readObjectIdentifier,
  readTime,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
  type Element,
} from './der.js';

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

const DAY_MS = 86_400_000;

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
} as const;

/** RFC 5280 §4.2.1.3's bit numbers. */
const KeyUsageBit = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

const generateKeyPairAsync = promisify(generateKeyPair);

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

// Off the loop (libuv's pool): RSA-2048 takes 50-500 ms to find its primes.
function generateKeys(algorithm: KeyAlgorithm): Promise<KeyPair> {
  return algorithm === 'ecdsa-p256'
    ? generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    : generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
}

function exportPrivateKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new InputError('private key', `cannot read the private key: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** ECDSA keys of any curve sign with SHA-256, as they always have here; RSA with PKCS#1 v1.5. */
function signatureAlgorithm(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'ec'
    ? sequence(objectIdentifier(OID.ecdsaWithSha256))
    : sequence(objectIdentifier(OID.sha256WithRsaEncryption), nullValue());
}

function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  // Positive, and its first byte not zero, so the INTEGER keeps all 16 bytes (126 random bits).
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return unsignedInteger(bytes);
}

/** A Name of one attribute per RDN, the common name first, each value a UTF8String (RFC 5280 §4.1.2.6). */
function distinguishedName(commonName: string, organizations: readonly string[] = []): Buffer {
  const rdn = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(
    rdn(OID.commonName, commonName),
    ...organizations.map((organization) => rdn(OID.organizationName, organization)),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  // DER leaves out a BOOLEAN that has its DEFAULT (critical FALSE).
  return critical
    ? sequence(objectIdentifier(oid), boolean(true), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

/** RFC 5280 §4.2.1.2's method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = children(children(spkiDer)[0]!.content);
  return createHash('sha1').update(subjectPublicKey!.content.subarray(1)).digest();
}

function ipAddressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: a zone is not part of the address; an IPv4 tail (::ffff:10.0.0.1) is its last two groups; `::`
  // stands for the groups of zeros that are missing.
  const text = address
    .split('%')[0]!
    .replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) =>
      [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((word) => word.toString(16)).join(':'),
    );
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const before = groups(head);
  const after = groups(tail);
  const words =
    tail === undefined
      ? before
      : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = Buffer.alloc(16);
  words.forEach((word, i) => bytes.writeUInt16BE(word, 2 * i));
  return bytes;
}

function subjectAltName(hostnames: readonly string[]): Buffer {
  return sequence(
    ...[...new Set(hostnames)].map((name) => {
      if (isIP(name) !== 0) return implicitPrimitive(7, ipAddressBytes(name));
      // dNSName is an IA5String: an internationalised name must come in its ASCII (punycode) form.
      if (!/^[\x20-\x7e]*$/.test(name))
        throw new InputError(
          'hostnames',
          `'${name}' is not an ASCII host name; give an internationalised name in its punycode (xn--) form`,
        );
      return implicitPrimitive(2, Buffer.from(name, 'ascii'));
    }),
  );
}

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** The subject's public key, DER SubjectPublicKeyInfo. */
  spki: Buffer;
  signingKey: KeyObject;
  extensions: Buffer[];
}

function signCertificate(fields: CertificateFields): string {
  const algorithm = signatureAlgorithm(fields.signingKey);
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    serialNumber(),
    algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  // node:crypto's ECDSA signatures are DER Ecdsa-Sig-Value already, as X.509 wants them.
  const signature = sign('sha256', tbs, fields.signingKey);
  return pem(sequence(tbs, algorithm, bitString(signature)));
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
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const name = distinguishedName(commonName);
  const certificatePem = signCertificate({
    issuer: name,
    subject: name,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + validityDays * DAY_MS),
    spki,
    signingKey: keys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(
        OID.keyUsage,
        true,
        namedBits([KeyUsageBit.digitalSignature, KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
      ),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    ],
  });
  return { certificatePem, privateKeyPem: exportPrivateKey(keys.privateKey) };
}

interface ParsedCa {
  subject: Buffer;
  notAfter: Date;
  key: KeyObject;
  /** The CA's subject key identifier, which its leaves name as their authority key identifier. */
  keyId: Buffer;
}

/**
 * What a leaf needs of its CA: the subject exactly as the CA encodes it (verifiers match the leaf's issuer
 * to it byte for byte), its expiry, its key and its key identifier (the CA's own extension when it has
 * one, as a CA made elsewhere may compute it another way).
 */
function parseCa(ca: CertificateAndKey): ParsedCa {
  let raw: Buffer;
  try {
    raw = new X509Certificate(ca.certificatePem).raw;
  } catch (error) {
    throw new InputError('certificate', `cannot read the CA certificate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const key = readPrivateKey(ca.privateKeyPem);
  const [tbs] = children(children(raw)[0]!.content);
  // version [0], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... [3]
  const fields = children(tbs!.content);
  const rest = fields[0]!.tag === 0xa0 ? fields.slice(1) : fields;
  const [, , , validity, subject, spki] = rest as [Element, Element, Element, Element, Element, Element];
  const extensions = rest.find((field) => field.tag === 0xa3);
  const ski = extensions
    ? children(children(extensions.content)[0]!.content)
        .map((ext) => children(ext.content))
        .find(([oid]) => readObjectIdentifier(oid!.content) === OID.subjectKeyIdentifier)
    : undefined;
  return {
    subject: Buffer.from(subject.raw),
    notAfter: readTime(children(validity.content)[1]!),
    key,
    keyId: ski ? children(ski[ski.length - 1]!.content)[0]!.content : keyIdentifier(spki.raw),
  };
}

/** How many CAs' parsed forms are kept: a deployment has a few, and a fleet's deploys come in bursts. */
const PARSED_CA_LIMIT = 64;
const parsedCas = new Map<string, ParsedCa>();

/**
 * `parseCa`, kept for the most recently used CAs: a deployment's leaves share one, and reading its PEM
 * key (OpenSSL's decoders, ~0.4 ms) was a third of issuing a leaf. Keyed by certificate and key together,
 * so a CA given with another key is read again, and one that cannot be read is never kept.
 */
function parsedCa(ca: CertificateAndKey): ParsedCa {
  const key = `${ca.certificatePem}\n${ca.privateKeyPem}`;
  const parsed = parsedCas.get(key) ?? parseCa(ca);
  parsedCas.delete(key);
  parsedCas.set(key, parsed);
  if (parsedCas.size > PARSED_CA_LIMIT) parsedCas.delete(parsedCas.keys().next().value!);
  return parsed;
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
  const parsed = parsedCa(ca);
  const keys = await generateKeys(keyAlgorithm);
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const extendedUsages = {
    server: [OID.serverAuth],
    client: [OID.clientAuth],
    'server-and-client': [OID.serverAuth, OID.clientAuth],
  }[usage];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(
      OID.keyUsage,
      true,
      namedBits([
        KeyUsageBit.digitalSignature,
        keyAlgorithm === 'rsa-2048' ? KeyUsageBit.keyEncipherment : KeyUsageBit.keyAgreement,
      ]),
    ),
    extension(OID.extKeyUsage, false, sequence(...extendedUsages.map((oid) => objectIdentifier(oid)))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, parsed.keyId))),
  ];
  if (hostnames.length > 0) extensions.push(extension(OID.subjectAltName, false, subjectAltName(hostnames)));
  const certificatePem = signCertificate({
    issuer: parsed.subject,
    subject: distinguishedName(commonName, options.organizations),
    notBefore: new Date(now - 5 * 60_000),
    // A leaf never outlives its CA: clients would reject the chain at the CA's expiry anyway.
    notAfter: new Date(Math.min(now + validityDays * DAY_MS, parsed.notAfter.getTime())),
    spki,
    signingKey: parsed.key,
    extensions,
  });
  return { certificatePem, privateKeyPem: exportPrivateKey(keys.privateKey) };
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
