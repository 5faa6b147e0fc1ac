export { UaaTokenVerifier, KEY_REFETCH_INTERVAL_MS, KEY_SET_MAX_AGE_MS } from './uaaTokenVerifier.js';
export type {
  VerifiedToken,
  TokenVerifier,
  UaaTokenVerifierOptions,
  IntrospectionOptions,
} from './uaaTokenVerifier.js';
export { RevocationList } from './revocations.js';
export type { Revocation, RevocableToken } from './revocations.js';
export {
  REVOCATION_CHANNEL,
  revocationJournalMigration,
  publishRevocation,
  purgeExpiredRevocations,
  followRevocations,
} from './revocationJournal.js';
export type { FollowRevocationsOptions } from './revocationJournal.js';
export { bearerToken } from './bearerToken.js';
export { hasAnyScope, requireAnyScope } from './scopes.js';
export { ClientCredentialsTokenSource, deferredTokenSource } from './clientCredentialsTokenSource.js';
export type { ClientCredentialsOptions, TokenSource } from './clientCredentialsTokenSource.js';
export { discoverUaaIssuer } from './discovery.js';
export {
  HttpsJsonClient,
  HttpsCallError,
  ConnectionError,
  HttpStatusError,
  UnexpectedAnswerError,
  descriptionOf,
} from './httpsJsonClient.js';
export type {
  HttpsJsonClientOptions,
  HttpsCallOptions,
  HttpsResponse,
  HttpsAuth,
} from './httpsJsonClient.js';
