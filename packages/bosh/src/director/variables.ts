import { createHash, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InputError } from '@openpks/domain';
import {
  createCertificateAuthority,
  describeCertificate,
  generatePassword,
  issueCertificate,
  type CertificateUsage,
} from '@openpks/pki';
import { VariableType, type VariableDefinition } from '../manifest/manifest.js';
import type { VariableStore } from './store/variableStore.js';

/** A generated value as BOSH's config server returns it: a string, or an object with named parts. */
export type VariableValue = string | Record<string, string>;

/**
 * The embedded Director's config server: generates `certificate`, `password`, `rsa` and `ssh` variables
 * once per deployment, keeps them (sealed, in the VariableStore), and hands them back unchanged on every
 * later deploy so redeploys never rotate credentials by accident.
 *
 * Generates the variables that do not exist yet (CAs before the certificates they sign). `links` holds
 * the addresses of the deployment's links once its instances have them: a certificate that `consumes` a
 * link gets them as SANs, and is generated again when an address it lacks appears (a new master).
 * Without `links` (addresses not known yet) such a certificate is generated from its options alone.
 */
export async function ensureVariables(
  store: VariableStore,
  deployment: string,
  definitions: readonly VariableDefinition[],
  links?: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, VariableValue>> {
  const values = await store.all(deployment);
  const ordered = [...definitions].sort((a, b) => rank(a) - rank(b));
  // New variables are added together in one statement once generated (it was one per variable).
  const fresh: { name: string; type: string; value: VariableValue }[] = [];
  try {
    for (const definition of ordered) {
      const consumed = consumedAddresses(definition, links);
      const existing = values.get(definition.name);
      if (existing !== undefined && !lacksAddresses(existing, consumed)) continue;
      const value = await generate(withConsumed(definition, consumed), values);
      if (existing === undefined) {
        fresh.push({ name: definition.name, type: definition.type, value });
      } else {
        // A new version (CredHub's converge): readers see a new version_created_at.
        await store.replace(deployment, definition.name, value);
      }
      values.set(definition.name, value);
    }
  } catch (error) {
    // Keep what was generated before the failure (each variable was its own insert before).
    await store.add(deployment, fresh).catch(() => undefined);
    throw error;
  }
  await store.add(deployment, fresh);
  return values;
}

/** The addresses a variable's `consumes` links stand for now (undefined: not known yet). */
function consumedAddresses(
  definition: VariableDefinition,
  links: ReadonlyMap<string, readonly string[]> | undefined,
): { alternativeNames: string[]; commonName?: string } | undefined {
  if (definition.consumes === undefined || links === undefined) return undefined;
  const alternative = definition.consumes.alternative_name;
  const common = definition.consumes.common_name;
  const commonName = common !== undefined ? links.get(common.from)?.[0] : undefined;
  return {
    alternativeNames: alternative !== undefined ? [...(links.get(alternative.from) ?? [])] : [],
    ...(commonName !== undefined ? { commonName } : {}),
  };
}

function lacksAddresses(value: VariableValue, consumed: { alternativeNames: string[] } | undefined): boolean {
  if (consumed === undefined || consumed.alternativeNames.length === 0) return false;
  if (typeof value !== 'object' || value.certificate === undefined) return false;
  const summary = describeCertificate(value.certificate);
  const names = new Set([...summary.ipAddresses, ...summary.dnsNames]);
  return consumed.alternativeNames.some((address) => !names.has(address));
}

function withConsumed(
  definition: VariableDefinition,
  consumed: { alternativeNames: string[]; commonName?: string } | undefined,
): VariableDefinition {
  if (consumed === undefined) return definition;
  const names = [
    ...new Set([...strings(definition.options.alternative_names), ...consumed.alternativeNames]),
  ];
  return {
    ...definition,
    options: {
      ...definition.options,
      alternative_names: names,
      ...(consumed.commonName !== undefined && definition.options.common_name === undefined
        ? { common_name: consumed.commonName }
        : {}),
    },
  };
}

function rank(definition: VariableDefinition): number {
  if (definition.type !== VariableType.CERTIFICATE) return 0;
  return definition.options.is_ca === true ? (definition.options.ca === undefined ? 1 : 2) : 3;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

const generateKeyPairAsync = promisify(generateKeyPair);

type RsaKeyPair = { privateKey: KeyObject; publicKey: KeyObject };

/**
 * RSA-2048 key pairs made ahead of need. Finding the primes takes 50-470 ms on this class of machine
 * (median ~100 ms) on libuv's thread pool, and a deployment's `rsa` variable (kubo's service account
 * key) waited for it on the critical path of every create: the main thread sat idle meanwhile. A few
 * keys are kept ready, each handed out once and never reused; taking one starts its replacement, so
 * keys are generated while the rest of the work goes on. The pool fills on first use, not at start.
 */
export class RsaKeyPool {
  readonly #ready: Promise<RsaKeyPair>[] = [];

  constructor(
    private readonly size: number,
    private readonly make: () => Promise<RsaKeyPair> = () =>
      generateKeyPairAsync('rsa', { modulusLength: 2048 }),
  ) {}

  take(): Promise<RsaKeyPair> {
    const key = this.#ready.shift() ?? this.#generate();
    while (this.#ready.length < this.size) this.#ready.push(this.#generate());
    return key;
  }

  get ready(): number {
    return this.#ready.length;
  }

  #generate(): Promise<RsaKeyPair> {
    const key = this.make();
    // A failure surfaces to whoever takes this key; until then it must not be an unhandled rejection.
    key.catch(() => undefined);
    return key;
  }
}

const rsaKeys = new RsaKeyPool(2);

function rsaKeyPair(): Promise<RsaKeyPair> {
  return rsaKeys.take();
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
      const { privateKey, publicKey } = await rsaKeyPair();
      return {
        private_key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }
    case VariableType.SSH: {
      const { privateKey, publicKey } = await rsaKeyPair();
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
