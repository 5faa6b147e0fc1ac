export { DataDirectory } from './dataDirectory.js';
export { SecretBox } from './secretBox.js';
export { generatePassword } from './passwords.js';
export {
  createCertificateAuthority,
  issueCertificate,
  describeCertificate,
  isIssuedBy,
} from './certificates.js';
export type {
  CertificateAndKey,
  CertificateSummary,
  CertificateUsage,
  IssueOptions,
  KeyAlgorithm,
} from './certificates.js';
export { TlsAuthority } from './tls.js';
export type { ServerCredentials, TlsAuthorityOptions } from './tls.js';
export { credentialsMatch, parseBasicAuthorization } from './credentials.js';
export type { BasicCredentials } from './credentials.js';
