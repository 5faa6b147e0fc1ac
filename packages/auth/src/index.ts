export { UaaTokenVerifier, KEY_REFETCH_INTERVAL_MS } from './uaaTokenVerifier.js';
export type { VerifiedToken, TokenVerifier, UaaTokenVerifierOptions } from './uaaTokenVerifier.js';
export { bearerToken } from './bearerToken.js';
export { hasAnyScope, requireAnyScope } from './scopes.js';
export { ClientCredentialsTokenSource } from './clientCredentialsTokenSource.js';
export type { ClientCredentialsOptions, TokenSource } from './clientCredentialsTokenSource.js';
export { discoverUaaIssuer } from './discovery.js';
