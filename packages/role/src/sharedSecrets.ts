import { InputError } from '@openpks/domain';
import { migrate, type Database } from '@openpks/db';
import type { DataDirectory, SecretBox } from '@openpks/pki';

/**
 * The secrets every replica of a role needs (the broker's password, the Director's UAA client secret, the
 * console's session secret, the admin password): one copy in the shared database, sealed with the secret
 * key, so a second machine joins with the key alone instead of a copy of the first one's data directory.
 */
export const SHARED_SECRETS_SCHEMA = 'shared';

const migrations = [
  {
    id: '0001_secrets',
    sql: `CREATE TABLE secrets (
  name text PRIMARY KEY,
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`,
  },
];

export interface SharedSecretOptions {
  /**
   * The secret's file in the data directory. A value found there before the secret was shared is taken
   * over on first use (an existing installation keeps its passwords); afterwards the file holds a copy
   * of the shared value (0600), for the people and tools that read it there (the banner names it).
   */
  file?: string;
  /** The file holds the value sealed by this box under `context` (taken over, never rewritten). */
  fileSealedAs?: string;
}

export class SharedSecrets {
  readonly #ready: Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly dataDir: DataDirectory,
  ) {
    this.#ready = migrate(db, { schema: SHARED_SECRETS_SCHEMA, migrations }).then(() => undefined);
    // Awaited by every call; a failure surfaces there.
    this.#ready.catch(() => undefined);
  }

  /** The secret `name`, or undefined when no replica has created it yet. */
  async read(name: string, options: SharedSecretOptions = {}): Promise<string | undefined> {
    await this.#ready;
    const stored = await this.#select(name);
    if (stored !== undefined) return this.#open(name, stored, options);
    const legacy = await this.#legacy(options);
    if (legacy === undefined) return undefined;
    return this.#store(name, legacy, options);
  }

  /** The secret `name`, created with `generate` by the first replica that asks; every replica gets that one. */
  async loadOrCreate(
    name: string,
    generate: () => string,
    options: SharedSecretOptions = {},
  ): Promise<string> {
    return (await this.read(name, options)) ?? this.#store(name, generate(), options);
  }

  async #select(name: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ sealed: string }>(
      `SELECT sealed FROM ${SHARED_SECRETS_SCHEMA}.secrets WHERE name = $1`,
      [name],
    );
    return rows[0]?.sealed;
  }

  /** Inserts unless another replica got there first; either way returns the value now in effect. */
  async #store(name: string, value: string, options: SharedSecretOptions): Promise<string> {
    await this.db.query(
      `INSERT INTO ${SHARED_SECRETS_SCHEMA}.secrets (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [name, this.box.seal(value, contextOf(name))],
    );
    return this.#open(name, (await this.#select(name))!, options);
  }

  async #open(name: string, sealed: string, options: SharedSecretOptions): Promise<string> {
    let value: string;
    try {
      value = this.box.openString(sealed, contextOf(name));
    } catch {
      throw new InputError(
        'secrets.key_file',
        `the shared secret "${name}" in the database was sealed with another secret key than this machine's`,
        {
          allowed:
            'the key the first machine uses: give every machine the same key file (secrets.key_file or ' +
            'PKS_SECRET_KEY_FILE), as prepared by `pks-admin init`',
        },
      );
    }
    if (options.file !== undefined && options.fileSealedAs === undefined) {
      const current = (await this.dataDir.read(options.file))?.toString('utf8').trim();
      if (current !== value) await this.dataDir.write(options.file, `${value}\n`, { secret: true });
    }
    return value;
  }

  async #legacy(options: SharedSecretOptions): Promise<string | undefined> {
    if (options.file === undefined) return undefined;
    const text = (await this.dataDir.read(options.file))?.toString('utf8').trim();
    if (!text) return undefined;
    return options.fileSealedAs !== undefined ? this.box.openString(text, options.fileSealedAs) : text;
  }
}

function contextOf(name: string): string {
  return `shared-secret:${name}`;
}
