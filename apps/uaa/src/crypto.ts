import {
  createHash,
  randomBytes,
  randomUUID,
  scrypt,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

// N=2^15, r=8, p=1: 32 MiB and tens of milliseconds per check, slow enough to make offline guessing
// expensive while a login or a client-credentials grant stays well under a tenth of a second.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32 } as const;
const SCRYPT_MAXMEM = 128 * SCRYPT.N * SCRYPT.r * 2;

function scryptAsync(secret: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** A slow salted hash for passwords and client secrets: `$scrypt$N=…,r=…,p=…$<salt>$<hash>`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, SCRYPT.keylen, {
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: SCRYPT_MAXMEM,
  });
  return `$scrypt$N=${SCRYPT.N},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a secret against `hashSecret`'s output in constant time; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const match = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const expected = Buffer.from(match[5]!, 'base64');
  const actual = await scryptAsync(secret, Buffer.from(match[4]!, 'base64'), expected.length, {
    N,
    r,
    p,
    maxmem: 128 * N * r * 2,
  });
  return timingSafeEqual(actual, expected);
}

/** A hash to burn the same time as a real check when the user or client does not exist. */
let dummyHash: Promise<string> | undefined;
export async function burnVerification(secret: string): Promise<void> {
  dummyHash ??= hashSecret('openpks-dummy-secret');
  await verifySecret(secret, await dummyHash);
}

/** Constant-time equality of two strings (different lengths compare unequal without a shortcut on content). */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** UAA's id format for tokens: a UUID without dashes. */
export function newTokenId(): string {
  return randomUUID().replaceAll('-', '');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * MurmurHash3 x86 32-bit, the hash UAA chains into `rev_sig`; implemented here so a token's `rev_sig`
 * is computed exactly as UAA does (seed 0xF0F0 over UTF-8 bytes).
 */
export function murmur3x86_32(text: string, seed: number): number {
  const data = Buffer.from(text, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h1 = seed >>> 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k1 = data.readInt32LE(i);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  const tail = data.length & 3;
  if (tail === 3) k1 ^= data[blocks + 2]! << 16;
  if (tail >= 2) k1 ^= data[blocks + 1]! << 8;
  if (tail >= 1) {
    k1 ^= data[blocks]!;
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
  }
  h1 ^= data.length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/**
 * UAA's revocation signature: the salts (skipping missing ones) chained through murmur3 as
 * `hash(prev + "###" + salt)`. Anything that changes a salt (a new password, a new client secret, a
 * revoke-all that renews a token salt) changes the signature and so invalidates every token carrying it.
 */
export function revocationSignature(salts: readonly (string | null | undefined)[]): string {
  let result = '';
  for (const salt of salts) {
    if (salt === null || salt === undefined) continue;
    result = murmur3x86_32(`${result}###${salt}`, 0xf0f0).toString(16);
  }
  return result;
}
