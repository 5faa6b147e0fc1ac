import { constants } from 'node:fs';
import { access, chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, SecretBox } from '@openpks/pki';

/** The files every machine of one installation is given, in the directory `pks-admin init` writes. */
export const PREPARED_FILES = {
  key: 'secret.key',
  caCert: 'ca.crt',
  caKey: 'ca.key',
  config: 'pks.yaml',
} as const;

// The data directory's own key and CA (pki's TlsAuthority and SecretBox defaults).
const DATA_DIR_KEY = 'secrets/encryption.key';
const DATA_DIR_CA_CERT = 'tls/ca.crt';
const DATA_DIR_CA_KEY = 'tls/ca.key';

export interface PrepareOptions {
  /** Where to write the files (created; must not hold them already). */
  out: string;
  /** A data directory whose key and CA the installation keeps (its first machine), if it has them. */
  dataDir: string;
  databaseUrl?: string;
  externalHost?: string;
}

export interface Prepared {
  files: Record<keyof typeof PREPARED_FILES, string>;
  /** Whether the key and the CA were taken from `dataDir` (else generated). */
  fromDataDir: boolean;
}

/**
 * Prepares what a machine needs to join an installation on a shared PostgreSQL: the key that seals the
 * shared secrets, the CA that issues each machine's server certificates, and a pks.yaml naming them.
 * An existing single-machine data directory keeps its key and CA, so what it sealed and the certificates
 * its users trust stay valid.
 */
export async function prepareInstallation(options: PrepareOptions): Promise<Prepared> {
  const files = Object.fromEntries(
    Object.entries(PREPARED_FILES).map(([k, name]) => [k, join(options.out, name)]),
  ) as Prepared['files'];
  for (const file of Object.values(files)) {
    if (await exists(file)) {
      throw new Error(
        `${file} already exists: pks-admin init never overwrites prepared files (choose another --out)`,
      );
    }
  }
  await mkdir(options.out, { recursive: true, mode: 0o700 });

  const existing = {
    key: join(options.dataDir, DATA_DIR_KEY),
    caCert: join(options.dataDir, DATA_DIR_CA_CERT),
    caKey: join(options.dataDir, DATA_DIR_CA_KEY),
  };
  const present = await Promise.all(Object.values(existing).map(exists));
  const fromDataDir = present.every(Boolean);
  if (!fromDataDir && present.some(Boolean)) {
    throw new Error(
      `${options.dataDir} holds only part of a key and CA (${Object.values(existing)
        .filter((_, i) => !present[i])
        .join(', ')} missing): restore it, or pass --data-dir of an empty directory to generate new ones`,
    );
  }
  if (fromDataDir) {
    // Checked before copying: a key that does not open is no use on any machine.
    await SecretBox.fromKeyFile(existing.key, DATA_DIR_KEY);
    await copyFile(existing.key, files.key, constants.COPYFILE_EXCL);
    await copyFile(existing.caKey, files.caKey, constants.COPYFILE_EXCL);
    await copyFile(existing.caCert, files.caCert, constants.COPYFILE_EXCL);
  } else {
    const ca = await createCertificateAuthority({ commonName: 'openpks CA' });
    await writeFile(files.key, `${SecretBox.generateKey()}\n`, { mode: 0o600, flag: 'wx' });
    await writeFile(files.caKey, ca.privateKeyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(files.caCert, ca.certificatePem, { mode: 0o644, flag: 'wx' });
  }
  await writeFile(files.config, configText(options), { mode: 0o644, flag: 'wx' });
  // copyFile keeps the source's mode; the keys must stay private whatever it was.
  for (const file of [files.key, files.caKey]) await chmod(file, 0o600);
  return { files, fromDataDir };
}

function configText(options: PrepareOptions): string {
  return [
    '# Prepared by `pks-admin init`: give every machine of this installation this directory (keep secret.key',
    '# and ca.key private), and start each with PKS_CONFIG=<this file> pks-server start --roles <its roles>.',
    '# Paths are relative to this file.',
    `external_host: ${JSON.stringify(options.externalHost ?? 'localhost')} # the name clients use to reach the roles`,
    ...(options.databaseUrl !== undefined
      ? ['database:', `  url: ${JSON.stringify(options.databaseUrl)}`]
      : [
          '# Required before a second machine joins: every machine shares one PostgreSQL.',
          '# database:',
          '#   url: postgres://pks@db.example.com:5432/pks',
        ]),
    'secrets:',
    `  key_file: ${PREPARED_FILES.key} # seals the secrets every replica shares through the database`,
    'tls:',
    `  ca_file: ${PREPARED_FILES.caCert} # clients trust this CA`,
    `  ca_key_file: ${PREPARED_FILES.caKey} # each machine issues its own server certificates with it`,
    '# roles: # where roles that run on other machines are reached, e.g.',
    '#   broker: { url: https://broker.pks.example.com:8080 }',
    '',
  ].join('\n');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
