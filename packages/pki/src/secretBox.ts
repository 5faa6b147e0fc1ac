import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError, InternalError } from '@openpks/domain';
import type { DataDirectory } from './dataDirectory.js';

const VERSION = 'v1';
const KEY_FILE = 'secrets/encryption.key';
// GCM accepts tags as short as 4 bytes, and a prefix of the real tag verifies; a short tag is far easier
// to forge, so only the full tag `seal` writes is accepted.
const TAG_BYTES = 16;

/**
 * Encrypts secrets at rest (cluster CA keys, client secrets, binding credentials, signing keys) with
 * AES-256-GCM. Sealed values are self-describing strings `v1.<iv>.<tag>.<ciphertext>` (base64url), so a
 * column or file holding one needs no other metadata. `context` binds a value to where it belongs
 * (e.g. `uaa.signing-key`), so a sealed value copied to another place fails to open.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new InternalError(`SecretBox needs a 32-byte key, got ${key.length} bytes`);
  }

  /** The box keyed by the data directory's encryption key, created on first use. */
  static async fromDataDirectory(dataDir: DataDirectory): Promise<SecretBox> {
    const stored = await dataDir.loadOrCreateSecret(KEY_FILE, () => randomBytes(32).toString('base64'));
    return new SecretBox(
      keyOf(
        stored.toString('utf8'),
        KEY_FILE,
        dataDir.path(KEY_FILE),
        'delete it only if nothing was encrypted with it yet',
      ),
    );
  }

  /**
   * The box keyed by an operator-given key file (`secrets.key_file`): every machine of one installation
   * is given the same file, so what one seals in the shared database the others can open.
   */
  static async fromKeyFile(path: string, field = 'secrets.key_file'): Promise<SecretBox> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InputError(field, `cannot read ${path}: ${(error as Error).message}`, {
        allowed: 'the key file `pks-admin init` wrote, readable by this process',
        cause: error,
      });
    }
    return new SecretBox(keyOf(text, field, path, 'as `pks-admin init` writes it'));
  }

  /** A new random key, base64, for a key file. */
  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  seal(plaintext: string | Buffer, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string, context = ''): Buffer {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new InternalError('sealed secret is malformed or of an unknown version');
    }
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== TAG_BYTES) {
      throw new InternalError(
        `sealed secret is malformed: its GCM tag must be ${TAG_BYTES} bytes, got ${authTag.length}`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    } catch (error) {
      throw new InternalError('sealed secret failed authentication (wrong key, wrong context or tampered)', {
        cause: error,
      });
    }
  }

  openString(sealed: string, context = ''): string {
    return this.open(sealed, context).toString('utf8');
  }
}

/** The 256-bit key a key file holds in base64; anything else is named by the setting that points at it. */
function keyOf(text: string, field: string, path: string, hint: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new InputError(field, `${path} does not hold a base64 256-bit key`, {
      allowed: `44 characters of base64 (32 bytes); ${hint}`,
    });
  }
  return key;
}
