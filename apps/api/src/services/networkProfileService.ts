import type { Database } from '@openpks/db';
import {
  ConflictError,
  InputError,
  NotFoundError,
  collectInputErrors,
  invariant,
  throwInputErrors,
} from '@openpks/domain';
import { DEFAULT_SUBNET_PREFIX, validateNetworkProfileParameters, type NsxTopology } from '@openpks/nsx';
import { clusterStore } from '../store/clusterStore.js';
import { networkProfileStore, type NetworkProfileRecord } from '../store/networkProfileStore.js';
import { access, type Caller } from './access.js';
import type { Audit } from './audit.js';

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Network profiles: everyone with a PKS scope lists them; only admins create and delete them. */
export class NetworkProfileService {
  constructor(
    private readonly db: Database,
    private readonly audit: Audit,
    /** The installation's NSX objects (its pod IP block may not appear in profiles); none without NSX-T. */
    private readonly topology?: NsxTopology,
  ) {}

  async list(caller: Caller): Promise<NetworkProfileRecord[]> {
    access.requireAnyPksScope(caller);
    return networkProfileStore.all(this.db);
  }

  async get(caller: Caller, name: string): Promise<NetworkProfileRecord> {
    access.requireAnyPksScope(caller);
    const profile = await networkProfileStore.byName(this.db, name);
    if (profile === undefined) throw new NotFoundError(`Network profile ${name} not found`);
    return profile;
  }

  create(
    caller: Caller,
    input: { name: string; description?: string | null; parameters: Record<string, unknown> },
  ): Promise<NetworkProfileRecord> {
    return this.audit.audited(caller, 'createNetworkProfile', input.name, { ...input }, async () => {
      access.requireAdmin(caller);
      // The name and every parameter are checked together: one answer names each bad field of the file.
      const bad: InputError[] = [];
      if (!PROFILE_NAME.test(input.name)) {
        bad.push(
          new InputError('name', `"${input.name}" is not a valid network profile name`, {
            allowed: 'letters, digits, _ . -, at most 63 characters',
          }),
        );
      }
      const parameters = collectInputErrors(bad, () =>
        validateNetworkProfileParameters(
          input.parameters,
          this.topology ? { tilePodIpBlockId: this.topology.podIpBlockId } : {},
        ),
      );
      throwInputErrors(bad);
      invariant(parameters !== undefined, 'parameters that passed their checks are returned');
      await this.#samePodPrefix(
        parameters.pod_ip_block_ids ?? [],
        parameters.pod_subnet_prefix ?? DEFAULT_SUBNET_PREFIX,
      );
      const inserted = await networkProfileStore.insert(this.db, {
        name: input.name,
        description: input.description ?? '',
        parameters: parameters as Record<string, unknown>,
      });
      if (!inserted) throw new ConflictError(`Network profile ${input.name} already exists`);
      return (await networkProfileStore.byName(this.db, input.name))!;
    });
  }

  delete(caller: Caller, name: string): Promise<NetworkProfileRecord> {
    return this.audit.audited(caller, 'deleteNetworkProfile', name, {}, async () => {
      access.requireAdmin(caller);
      const profile = await networkProfileStore.byName(this.db, name);
      if (profile === undefined) throw new NotFoundError(`Network profile ${name} not found`);
      const names = await clusterStore.namesUsingProfile(this.db, name);
      if (names.length > 0) {
        throw new ConflictError(`Network profile ${name} is in use by cluster(s): ${names.join(', ')}`, {
          details: { clusters: names },
        });
      }
      await networkProfileStore.remove(this.db, name);
      return profile;
    });
  }

  /** A pod IP block is cut into subnets of one size: every profile naming it must use the same prefix. */
  async #samePodPrefix(blocks: readonly string[], prefix: number): Promise<void> {
    if (blocks.length === 0) return;
    for (const other of await networkProfileStore.all(this.db)) {
      const theirs = (other.parameters.pod_subnet_prefix as number | undefined) ?? DEFAULT_SUBNET_PREFIX;
      const shared = ((other.parameters.pod_ip_block_ids as string[] | undefined) ?? []).filter((b) =>
        blocks.includes(b),
      );
      if (shared.length > 0 && theirs !== prefix) {
        throw new InputError(
          'parameters.pod_subnet_prefix',
          `pod IP block ${shared[0]} is used with prefix /${theirs} by network profile ${other.name}`,
          { allowed: String(theirs) },
        );
      }
    }
  }
}
