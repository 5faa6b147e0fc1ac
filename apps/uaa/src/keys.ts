import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import type { Database, Queryable } from '@openpks/db';
import type { SecretBox } from '@openpks/pki';
import type { Clock } from './clock.js';

const SEAL_CONTEXT = 'uaa.signing-key';
/** How long a cached view of the keys is trusted before the table is read again (another replica may rotate). */
const CACHE_MS = 30_000;
/**
 * At most one reload a second for tokens naming a key we do not hold: enough to pick up another replica's
 * rotation at once, and a flood of made-up `kid`s costs the database one query a second, not one each.
 */
export const UNKNOWN_KID_RELOAD_MS = 1_000;

/** One key as `/token_keys` publishes it: the JWK fields plus UAA's `value` (the public PEM). */
export interface PublishedKey {
  kty: 'RSA';
  e: string;
  use: 'sig';
  kid: string;
  alg: 'RS256';
  value: string;
  n: string;
}

interface KeyRow {
  kid: string;
  private_key_sealed: string;
  public_key_pem: string;
  created: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

interface KeySet {
  active: { kid: string; privateKey: KeyObject };
  published: { kid: string; publicKey: KeyObject; jwk: PublishedKey }[];
  loadedAt: number;
}

/**
 * The RS256 signing keys. Private keys are stored sealed in `uaa.signing_keys`; one key signs, and a
 * retired key stays published (and accepted) until every token it signed has expired.
 */
export class SigningKeys {
  private cache: KeySet | undefined;
  private reloading: Promise<KeySet> | undefined;
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** Makes sure a signing key exists (creating the first one) and loads the set. */
  async init(): Promise<void> {
    const { rows } = await this.db.query(`SELECT 1 FROM uaa.signing_keys WHERE retired_at IS NULL LIMIT 1`);
    if (rows.length === 0) await this.insertKey('key-1');
    await this.load();
  }

  async active(): Promise<{ kid: string; privateKey: KeyObject }> {
    return (await this.current()).active;
  }

  async published(): Promise<PublishedKey[]> {
    return (await this.current()).published.map((key) => key.jwk);
  }

  async publicKey(kid: string): Promise<KeyObject | undefined> {
    let set = await this.current();
    let key = set.published.find((k) => k.kid === kid);
    if (!key) {
      // Another replica may have rotated since we cached the set: reload, shared and rate-limited.
      if (this.reloading === undefined && Date.now() - this.lastUnknownKidReload >= UNKNOWN_KID_RELOAD_MS) {
        this.lastUnknownKidReload = Date.now();
        this.reloading = this.load().finally(() => {
          this.reloading = undefined;
        });
      }
      if (this.reloading !== undefined) {
        set = await this.reloading;
        key = set.published.find((k) => k.kid === kid);
      }
    }
    return key?.publicKey;
  }

  /**
   * Puts a new key in charge. The old one is retired but stays published for `retainSeconds` (the
   * longest lifetime of a token it may have signed), so tokens in flight keep verifying.
   */
  async rotate(retainSeconds: number, announce?: (tx: Queryable) => Promise<void>): Promise<string> {
    const now = this.clock.now();
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM uaa.signing_keys`);
    const kid = `key-${(rows[0]?.n ?? 0) + 1}-${now.getTime().toString(36)}`;
    const { privateKey, publicKey } = await newKeyPair();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE uaa.signing_keys SET retired_at = $1, publish_until = $2 WHERE retired_at IS NULL`,
        [now, new Date(now.getTime() + retainSeconds * 1000)],
      );
      await tx.query(
        `INSERT INTO uaa.signing_keys (kid, private_key_sealed, public_key_pem, created) VALUES ($1, $2, $3, $4)`,
        [kid, this.secrets.seal(privateKey, SEAL_CONTEXT), publicKey, now],
      );
      await announce?.(tx);
    });
    await this.load();
    return kid;
  }

  private async insertKey(kid: string): Promise<void> {
    const { privateKey, publicKey } = await newKeyPair();
    // Two replicas starting together both try; the primary key keeps one.
    await this.db.query(
      `INSERT INTO uaa.signing_keys (kid, private_key_sealed, public_key_pem, created) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kid) DO NOTHING`,
      [kid, this.secrets.seal(privateKey, SEAL_CONTEXT), publicKey, this.clock.now()],
    );
  }

  private async current(): Promise<KeySet> {
    if (this.cache && Date.now() - this.cache.loadedAt < CACHE_MS) return this.cache;
    return this.load();
  }

  private async load(): Promise<KeySet> {
    const now = this.clock.now();
    const { rows } = await this.db.query<KeyRow>(
      `SELECT * FROM uaa.signing_keys WHERE retired_at IS NULL OR publish_until > $1 ORDER BY created DESC, kid DESC`,
      [now],
    );
    const activeRow = rows.find((row) => row.retired_at === null);
    if (!activeRow) throw new Error('no active UAA signing key (uaa.signing_keys has none unretired)');
    const published = rows.map((row) => {
      const publicKey = createPublicKey(row.public_key_pem);
      const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
      return {
        kid: row.kid,
        publicKey,
        jwk: {
          kty: 'RSA',
          e: jwk.e,
          use: 'sig',
          kid: row.kid,
          alg: 'RS256',
          value: row.public_key_pem.trim(),
          n: jwk.n,
        } as PublishedKey,
      };
    });
    this.cache = {
      active: {
        kid: activeRow.kid,
        privateKey: createPrivateKey(this.secrets.openString(activeRow.private_key_sealed, SEAL_CONTEXT)),
      },
      published,
      loadedAt: Date.now(),
    };
    return this.cache;
  }
}

function newKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (error, publicKey, privateKey) => (error ? reject(error) : resolve({ privateKey, publicKey })),
    ),
  );
}
