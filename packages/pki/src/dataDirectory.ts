import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError, InputError } from '@openpks/domain';

/** Locks held by this process, so a second server in the same process is refused too. */
const heldLocks = new Set<string>();

/**
 * The data directory holds everything openpks generates and must keep: the embedded database, the CA and
 * server certificates, signing keys, the at-rest encryption key and generated passwords. Secret files
 * are written 0600 (the directory 0700) and replaced atomically, so a crash never leaves half a key.
 */
export class DataDirectory {
  private constructor(readonly root: string) {}

  static async open(path: string): Promise<DataDirectory> {
    const root = resolve(path);
    try {
      await mkdir(root, { recursive: true, mode: 0o700 });
      const info = await stat(root);
      if (!info.isDirectory()) throw new Error('not a directory');
    } catch (error) {
      throw new InputError(
        'data_dir',
        `cannot use ${root} as the data directory: ${(error as Error).message}`,
        {
          cause: error,
          allowed: 'a writable directory (PKS_DATA_DIR or data_dir in pks.yaml)',
        },
      );
    }
    return new DataDirectory(root);
  }

  /** Absolute path of a file or folder inside the data directory. */
  path(...segments: string[]): string {
    return join(this.root, ...segments);
  }

  async read(relativePath: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(relativePath));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Writes a file atomically; `secret` files get mode 0600. */
  async write(relativePath: string, content: string | Buffer, { secret = false } = {}): Promise<string> {
    const target = this.path(relativePath);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, content, { mode: secret ? 0o600 : 0o644 });
    await rename(temporary, target);
    if (secret) await chmod(target, 0o600);
    return target;
  }

  /**
   * Returns the secret stored under `relativePath`, creating it with `generate` on first use. Used for
   * the admin password, client secrets and keys that must survive restarts.
   */
  async loadOrCreateSecret(relativePath: string, generate: () => string | Buffer): Promise<Buffer> {
    const existing = await this.read(relativePath);
    if (existing !== undefined && existing.length > 0) return existing;
    const value = generate();
    await this.write(relativePath, value, { secret: true });
    return Buffer.isBuffer(value) ? value : Buffer.from(value);
  }

  /**
   * Takes an exclusive lock on the data directory for `name` (a pid file under `run/`). The embedded
   * database may be opened by one process only, so a second `pks-server` on the same directory is
   * refused instead of corrupting it. A lock left by a process that no longer runs is taken over.
   */
  async lock(name: string): Promise<() => Promise<void>> {
    const file = this.path('run', `${name}.pid`);
    await mkdir(this.path('run'), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      if (heldLocks.has(file)) {
        throw new ConflictError(`another ${name} in this process is using the data directory ${this.root}`);
      }
      try {
        await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        heldLocks.add(file);
        return async () => {
          if (!heldLocks.delete(file)) return;
          await unlink(file).catch(() => undefined);
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await this.read(`run/${name}.pid`))?.toString('utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
        throw new ConflictError(
          `another ${name} (pid ${holder}) is using the data directory ${this.root}; stop it first or choose another PKS_DATA_DIR`,
        );
      }
      await unlink(file).catch(() => undefined);
    }
    throw new ConflictError(`could not lock the data directory ${this.root} for ${name}`);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
