import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  username: string;
  password: string;
}

// Keyed per process so the digests compared below are never predictable outside it.
const DIGEST_KEY = randomBytes(32);

function digest(value: string): Buffer {
  return createHmac('sha256', DIGEST_KEY).update(value, 'utf8').digest();
}

/**
 * Whether `given` are the `expected` credentials, in time that depends on neither their lengths nor
 * which of user and password is wrong: both sides are reduced to fixed-length HMACs, and both
 * comparisons always run before their results are combined.
 */
export function credentialsMatch(given: BasicCredentials | undefined, expected: BasicCredentials): boolean {
  // A missing header still pays for both comparisons, so it looks like any other wrong answer.
  const user = given?.username ?? '';
  const password = given?.password ?? '';
  const userMatches = timingSafeEqual(digest(user), digest(expected.username));
  const passwordMatches = timingSafeEqual(digest(password), digest(expected.password));
  return given !== undefined && userMatches && passwordMatches;
}

/**
 * The credentials of an `Authorization: Basic <base64 user:password>` header (RFC 7617: the scheme is
 * case-insensitive, the user ends at the first colon), or undefined when it is absent or not Basic.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
