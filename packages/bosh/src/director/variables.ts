import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Queryable } from '@openpks/db';
import { InputError } from '@openpks/domain';
import {
  createCertificateAuthority,
  generatePassword,
  issueCertificate,
  type CertificateUsage,
  type SecretBox,
} from '@openpks/pki';
import { VariableType, type VariableDefinition } from '../manifest/manifest.js';

/** A generated value as BOSH's config server returns it: a string, or an object with named parts. */
export type VariableValue = string | Record<string, string>;

/**
 * The embedded Director's config server: generates `certificate`, `password`, `rsa` and `ssh` variables
 * once per deployment, keeps them sealed (SecretBox, bound to deployment and name), and hands them back
 * unchanged on every later deploy so redeploys never rotate credentials by accident.
 */
export class VariableStore {
  constructor(
    private readonly db: Queryable,
    private readonly box: SecretBox,
  ) {}

  private context(deployment: string, name: string): string {
    return `director.variables/${deployment}/${name}`;
  }

  async get(deployment: string, name: string): Promise<VariableValue | undefined> {
    const { rows } = await this.db.query<{ value: string }>(
      'SELECT value FROM director.variables WHERE deployment = $1 AND name = $2',
      [deployment, name],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return JSON.parse(this.box.openString(row.value, this.context(deployment, name))) as VariableValue;
  }

  async all(deployment: string): Promise<Map<string, VariableValue>> {
    const { rows } = await this.db.query<{ name: string; value: string }>(
      'SELECT name, value FROM director.variables WHERE deployment = $1',
      [deployment],
    );
    return new Map(
      rows.map((row) => [
        row.name,
        JSON.parse(this.box.openString(row.value, this.context(deployment, row.name))) as VariableValue,
      ]),
    );
  }

  /** Generates the variables that do not exist yet (CAs before the certificates they sign). */
  async ensure(
    deployment: string,
    definitions: readonly VariableDefinition[],
  ): Promise<Map<string, VariableValue>> {
    const values = await this.all(deployment);
    const ordered = [...definitions].sort((a, b) => rank(a) - rank(b));
    for (const definition of ordered) {
      if (values.has(definition.name)) continue;
      const value = await generate(definition, values);
      await this.db.query(
        `INSERT INTO director.variables (deployment, name, type, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (deployment, name) DO NOTHING`,
        [
          deployment,
          definition.name,
          definition.type,
          this.box.seal(JSON.stringify(value), this.context(deployment, definition.name)),
        ],
      );
      values.set(definition.name, value);
    }
    return values;
  }

  async deleteAll(deployment: string): Promise<void> {
    await this.db.query('DELETE FROM director.variables WHERE deployment = $1', [deployment]);
  }
}

function rank(definition: VariableDefinition): number {
  if (definition.type !== VariableType.CERTIFICATE) return 0;
  return definition.options.is_ca === true ? (definition.options.ca === undefined ? 1 : 2) : 3;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

async function generate(
  definition: VariableDefinition,
  known: Map<string, VariableValue>,
): Promise<VariableValue> {
  const options = definition.options;
  switch (definition.type) {
    case VariableType.PASSWORD:
      return generatePassword(typeof options.length === 'number' ? options.length : 30);
    case VariableType.RSA: {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        private_key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }
    case VariableType.SSH: {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const openSsh = sshPublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const blob = Buffer.from(openSsh.split(' ')[1]!, 'base64');
      return {
        private_key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        public_key: openSsh,
        public_key_fingerprint: createHash('md5')
          .update(blob)
          .digest('hex')
          .replace(/(..)(?!$)/g, '$1:'),
      };
    }
    case VariableType.CERTIFICATE: {
      const commonName = typeof options.common_name === 'string' ? options.common_name : definition.name;
      const caName = typeof options.ca === 'string' ? options.ca : undefined;
      if (options.is_ca === true && caName === undefined) {
        const ca = await createCertificateAuthority({ commonName });
        return { ca: ca.certificatePem, certificate: ca.certificatePem, private_key: ca.privateKeyPem };
      }
      if (caName === undefined) {
        throw new InputError(
          `variables.${definition.name}.options.ca`,
          `Variable '${definition.name}': a certificate that is not a self-signed CA needs 'options.ca'`,
        );
      }
      const ca = known.get(caName);
      if (ca === undefined || typeof ca === 'string' || ca.private_key === undefined) {
        throw new InputError(
          `variables.${definition.name}.options.ca`,
          `Variable '${definition.name}': CA '${caName}' is not a generated certificate`,
        );
      }
      const usages = strings(options.extended_key_usage);
      const usage: CertificateUsage =
        usages.includes('client_auth') && usages.includes('server_auth')
          ? 'server-and-client'
          : usages.includes('client_auth')
            ? 'client'
            : 'server';
      const leaf = await issueCertificate(
        { certificatePem: ca.certificate!, privateKeyPem: ca.private_key },
        {
          commonName,
          hostnames: strings(options.alternative_names),
          usage,
          organizations: strings(options.organization ?? options.organizations),
        },
      );
      return { ca: ca.certificate!, certificate: leaf.certificatePem, private_key: leaf.privateKeyPem };
    }
  }
}

/** `ssh-rsa AAAA…`: the OpenSSH wire form of an RSA public key. */
function sshPublicKey(spkiPem: string): string {
  const jwk = createPublicKey(spkiPem).export({ format: 'jwk' });
  const part = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, data]);
  };
  const mpint = (base64url: string) => {
    const bytes = Buffer.from(base64url, 'base64url');
    return part(bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
  };
  const blob = Buffer.concat([part(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return `ssh-rsa ${blob.toString('base64')}`;
}

const PLACEHOLDER = /\(\(\s*(!?[\w./-]+)\s*\)\)/g;
const WHOLE = /^\(\(\s*(!?[\w./-]+)\s*\)\)$/;

/**
 * Replaces `((name))` and `((name.part))` anywhere in a manifest value. A placeholder that is the whole
 * string takes the value's type (an object for certificates); one inside a longer string must be a string.
 * Unknown names fail the way BOSH's config-server lookup does.
 */
export function interpolate(
  value: unknown,
  variables: ReadonlyMap<string, VariableValue>,
  deployment: string,
): unknown {
  const lookup = (reference: string): unknown => {
    const bare = reference.replace(/^!/, '').replace(/^\/[^/]+\/[^/]+\//, '');
    const [name, ...path] = bare.split('.');
    let found: unknown = variables.get(name!);
    if (found === undefined) {
      throw new InputError(
        'variables',
        `Failed to find variable '/${deployment}/${name}' from config server: HTTP Code '404', Error: 'The request could not be completed because the credential does not exist or you do not have sufficient authorization.'`,
      );
    }
    for (const key of path) {
      found =
        typeof found === 'object' && found !== null ? (found as Record<string, unknown>)[key] : undefined;
      if (found === undefined) {
        throw new InputError(
          'variables',
          `Failed to find variable '/${deployment}/${bare}': no '${key}' in '${name}'`,
        );
      }
    }
    return found;
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const whole = WHOLE.exec(node);
      if (whole) return lookup(whole[1]!);
      return node.replace(PLACEHOLDER, (_, reference: string) => {
        const found = lookup(reference);
        return typeof found === 'string' ? found : JSON.stringify(found);
      });
    }
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    }
    return node;
  };
  return walk(value);
}
