import type { Database } from '@openpks/db';
import { ConflictError, InputError, NotFoundError, throwInputErrors, type Plan } from '@openpks/domain';
import { clusterStore } from '../store/clusterStore.js';
import {
  computeProfileStore,
  type ComputeProfileAz,
  type ComputeProfileRecord,
} from '../store/computeProfileStore.js';
import { access, type Caller } from './access.js';
import type { Audit } from './audit.js';

/** PKS 1.6 limits compute profile names to 26 characters (PKS-REFERENCE §5). */
export const COMPUTE_PROFILE_NAME_MAX_LENGTH = 26;
const PROFILE_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${COMPUTE_PROFILE_NAME_MAX_LENGTH - 1}}$`);
const AZ_FIELDS = ['name', 'datacenter', 'cluster', 'resource_pool'] as const;
const PARAMETER_FIELDS = ['azs'] as const;

export interface ComputeProfileInput {
  name: unknown;
  description?: unknown;
  parameters: unknown;
}

/**
 * Compute profiles (PKS 1.6 beta): the AZs a cluster's VMs are placed in instead of its plan's (the broker's
 * service adapter renders every instance group into them). Everyone with a PKS scope lists them; only
 * admins create and delete them; both changes are audited; one a live cluster was created with stays.
 */
export class ComputeProfileService {
  readonly #azs: readonly string[];

  constructor(
    private readonly db: Database,
    private readonly audit: Audit,
    plans: readonly Plan[],
  ) {
    // The installation's AZs are those its plans place masters and workers in (the tile's AZ list).
    this.#azs = [...new Set(plans.flatMap((p) => [...p.master.azs, ...p.worker.azs]))];
  }

  async list(caller: Caller): Promise<ComputeProfileRecord[]> {
    access.requireAnyPksScope(caller);
    return computeProfileStore.all(this.db);
  }

  async get(caller: Caller, name: string): Promise<ComputeProfileRecord> {
    access.requireAnyPksScope(caller);
    const profile = await computeProfileStore.byName(this.db, name);
    if (profile === undefined) throw new NotFoundError(`Compute profile ${name} not found`);
    return profile;
  }

  create(caller: Caller, input: ComputeProfileInput): Promise<ComputeProfileRecord> {
    const target = typeof input.name === 'string' ? input.name : undefined;
    return this.audit.audited(caller, 'createComputeProfile', target, { ...input }, async () => {
      access.requireAdmin(caller);
      const profile = this.#validate(input);
      const inserted = await computeProfileStore.insert(this.db, profile);
      if (!inserted) throw new ConflictError(`Compute profile ${profile.name} already exists`);
      return (await computeProfileStore.byName(this.db, profile.name))!;
    });
  }

  /** Deletes a profile no live cluster was created with. */
  delete(caller: Caller, name: string): Promise<ComputeProfileRecord> {
    return this.audit.audited(caller, 'deleteComputeProfile', name, {}, async () => {
      access.requireAdmin(caller);
      const profile = await computeProfileStore.byName(this.db, name);
      if (profile === undefined) throw new NotFoundError(`Compute profile ${name} not found`);
      const names = await clusterStore.namesUsingComputeProfile(this.db, name);
      if (names.length > 0) {
        throw new ConflictError(`Compute profile ${name} is in use by cluster(s): ${names.join(', ')}`, {
          details: { clusters: names },
        });
      }
      await computeProfileStore.remove(this.db, name);
      return profile;
    });
  }

  /** Every field checked, every bad one reported in one answer. */
  #validate(input: ComputeProfileInput): {
    name: string;
    description: string;
    parameters: { azs: ComputeProfileAz[] };
  } {
    const bad: InputError[] = [];
    const nameAllowed = `letters, digits, _ . -, starting with a letter or digit, at most ${COMPUTE_PROFILE_NAME_MAX_LENGTH} characters`;
    if (typeof input.name !== 'string' || input.name === '') {
      bad.push(new InputError('name', 'is required', { allowed: nameAllowed }));
    } else if (input.name.length > COMPUTE_PROFILE_NAME_MAX_LENGTH) {
      bad.push(
        new InputError('name', `"${input.name}" is ${input.name.length} characters long`, {
          allowed: nameAllowed,
        }),
      );
    } else if (!PROFILE_NAME.test(input.name)) {
      bad.push(
        new InputError('name', `"${input.name}" is not a valid compute profile name`, {
          allowed: nameAllowed,
        }),
      );
    }
    if (
      input.description !== undefined &&
      input.description !== null &&
      typeof input.description !== 'string'
    ) {
      bad.push(new InputError('description', `must be a string, not ${typeName(input.description)}`));
    }
    const azs: ComputeProfileAz[] = [];
    const p = input.parameters;
    const azAllowed = this.#azs.join(', ');
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      bad.push(
        new InputError(
          'parameters',
          p === undefined || p === null ? 'is required' : `must be an object, not ${typeName(p)}`,
          {
            allowed: '{"azs": [{"name": "<AZ>", "datacenter": …, "cluster": …, "resource_pool": …}]}',
          },
        ),
      );
    } else {
      for (const key of Object.keys(p)) {
        if (!(PARAMETER_FIELDS as readonly string[]).includes(key)) {
          bad.push(
            new InputError(`parameters.${key}`, 'is not a compute profile parameter', { allowed: 'azs' }),
          );
        }
      }
      const list = (p as { azs?: unknown }).azs;
      if (!Array.isArray(list) || list.length === 0) {
        bad.push(
          new InputError(
            'parameters.azs',
            list === undefined || list === null
              ? 'is required'
              : Array.isArray(list)
                ? 'lists no AZ'
                : `must be a list, not ${typeName(list)}`,
            { allowed: `one or more of ${azAllowed}` },
          ),
        );
      } else {
        const seen = new Set<string>();
        list.forEach((az: unknown, i) => {
          const field = `parameters.azs[${i}]`;
          if (typeof az !== 'object' || az === null || Array.isArray(az)) {
            bad.push(new InputError(field, `must be an object, not ${typeName(az)}`));
            return;
          }
          const entry = az as Record<string, unknown>;
          const before = bad.length;
          for (const key of Object.keys(entry)) {
            if (!(AZ_FIELDS as readonly string[]).includes(key)) {
              bad.push(
                new InputError(`${field}.${key}`, 'is not a field of an AZ', {
                  allowed: AZ_FIELDS.join(', '),
                }),
              );
            }
          }
          for (const key of AZ_FIELDS.slice(1)) {
            const value = entry[key];
            if (value !== undefined && value !== null && (typeof value !== 'string' || value === '')) {
              bad.push(
                new InputError(`${field}.${key}`, `must be a non-empty string, not ${JSON.stringify(value)}`),
              );
            }
          }
          const name = entry.name;
          if (typeof name !== 'string' || name === '') {
            bad.push(new InputError(`${field}.name`, 'is required', { allowed: azAllowed }));
          } else if (!this.#azs.includes(name)) {
            bad.push(new InputError(`${field}.name`, `AZ "${name}" does not exist`, { allowed: azAllowed }));
          } else if (seen.has(name)) {
            bad.push(new InputError(`${field}.name`, `AZ "${name}" is listed twice`));
          } else {
            seen.add(name);
          }
          if (bad.length > before) return;
          const placed: ComputeProfileAz = { name: name as string };
          for (const key of AZ_FIELDS.slice(1)) {
            if (typeof entry[key] === 'string') placed[key] = entry[key];
          }
          azs.push(placed);
        });
      }
    }
    throwInputErrors(bad);
    return {
      name: input.name as string,
      description: typeof input.description === 'string' ? input.description : '',
      parameters: { azs },
    };
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}
