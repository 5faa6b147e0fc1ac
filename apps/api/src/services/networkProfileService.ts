import type { Database } from '@openpks/db';
import { ConflictError, InputError, NotFoundError } from '@openpks/domain';
import { networkProfiles, type NetworkProfileRecord } from '../store/records.js';
import { access, type Caller } from './access.js';
import type { ClusterService } from './clusterService.js';

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const LB_SIZES = ['small', 'medium', 'large'];

/** Network profiles: everyone with a PKS scope lists them; only admins create and delete them. */
export class NetworkProfileService {
  constructor(
    private readonly db: Database,
    private readonly clusterService: ClusterService,
  ) {}

  async list(caller: Caller): Promise<NetworkProfileRecord[]> {
    access.requireAnyPksScope(caller);
    return networkProfiles.all(this.db);
  }

  async get(caller: Caller, name: string): Promise<NetworkProfileRecord> {
    access.requireAnyPksScope(caller);
    const profile = await networkProfiles.byName(this.db, name);
    if (profile === undefined) throw new NotFoundError(`Network profile ${name} not found`);
    return profile;
  }

  create(
    caller: Caller,
    input: { name: string; description?: string | null; parameters: Record<string, unknown> },
  ): Promise<NetworkProfileRecord> {
    return this.clusterService.audited(caller, 'createNetworkProfile', input.name, { ...input }, async () => {
      access.requireAdmin(caller);
      if (!PROFILE_NAME.test(input.name)) {
        throw new InputError('name', `"${input.name}" is not a valid network profile name`, {
          allowed: 'letters, digits, _ . -, at most 63 characters',
        });
      }
      const lbSize = input.parameters.lb_size;
      if (lbSize !== undefined && !LB_SIZES.includes(lbSize as string)) {
        throw new InputError('parameters.lb_size', `"${String(lbSize)}" is not a load balancer size`, {
          allowed: LB_SIZES.join(', '),
        });
      }
      const dns = input.parameters.nodes_dns;
      if (dns !== undefined && (!Array.isArray(dns) || dns.length > 3)) {
        throw new InputError('parameters.nodes_dns', 'nodes_dns is a list of at most 3 IP addresses');
      }
      const result = await this.db.query(
        `INSERT INTO api.network_profiles (name, description, parameters) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (name) DO NOTHING`,
        [input.name, input.description ?? '', JSON.stringify(input.parameters)],
      );
      if (result.rowCount !== 1) throw new ConflictError(`Network profile ${input.name} already exists`);
      return (await networkProfiles.byName(this.db, input.name))!;
    });
  }

  delete(caller: Caller, name: string): Promise<NetworkProfileRecord> {
    return this.clusterService.audited(caller, 'deleteNetworkProfile', name, {}, async () => {
      access.requireAdmin(caller);
      const profile = await networkProfiles.byName(this.db, name);
      if (profile === undefined) throw new NotFoundError(`Network profile ${name} not found`);
      const users = await this.db.query(
        `SELECT 1 FROM api.clusters WHERE network_profile_name = $1 AND deleted_at IS NULL LIMIT 1`,
        [name],
      );
      if (users.rowCount > 0) throw new ConflictError(`Network profile ${name} is in use by a cluster`);
      await this.db.query(`DELETE FROM api.network_profiles WHERE name = $1`, [name]);
      return profile;
    });
  }
}
