import type { Queryable } from '@openpks/db';
import { NotFoundError } from '@openpks/domain';
import type { Job } from '../../manifest/manifest.js';

/** One instance of a deployment as `director.instances` records it: what BOSH's `Models::Instance` holds. */
export interface InstanceRow {
  deployment: string;
  instance_group: string;
  index: number;
  uuid: string;
  az: string | null;
  lifecycle: string;
  state: string;
  vm_cid: string | null;
  agent_id: string | null;
  ips: string[];
  disk_cid: string | null;
  stemcell: string | null;
  config_hash: string | null;
  bootstrap: boolean;
  jobs: Job[];
  vm_created_at: Date | null;
  /** What the VM was created with (vm_type, extensions, stemcell, networks, env); null before 0002. */
  vm_hash: string | null;
  /** The persistent disk's size and type; null without a disk (or before 0002). */
  disk_hash: string | null;
}

/** A deployment as `director.deployments` records it once a deploy succeeded. */
export interface DeploymentRow {
  name: string;
  manifest: string;
  cloud_config_id: number | null;
}

const INSTANCE_COLUMNS =
  'deployment, instance_group, index, uuid, az, lifecycle, state, vm_cid, agent_id, ips, disk_cid, stemcell, config_hash, bootstrap, jobs, vm_created_at, vm_hash, disk_hash';

/** Far below PostgreSQL's 65,535 parameters per statement, whatever the group's size. */
const INSTANCES_PER_STATEMENT = 500;

/** BOSH's answer for a deployment it does not have. */
export function deploymentNotFound(name: string): NotFoundError {
  return new NotFoundError(`Deployment '${name}' doesn't exist`);
}

/**
 * `director.deployments` (the manifest a deploy made current) and `director.instances` (each instance's
 * VM, disk, IPs and the configuration it runs, recorded as every step happens).
 */
export class DeploymentStore {
  constructor(private readonly db: Queryable) {}

  /** The current manifest, or undefined before a first deploy succeeded. */
  async manifest(name: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ manifest: string }>(
      'SELECT manifest FROM director.deployments WHERE name = $1',
      [name],
    );
    return rows[0]?.manifest;
  }

  /** The current manifest; BOSH's not-found when there is none. */
  async requireManifest(name: string): Promise<string> {
    const manifest = await this.manifest(name);
    if (manifest === undefined) throw deploymentNotFound(name);
    return manifest;
  }

  /** A deployment exists once deployed, or while a failed first deploy left instances behind. */
  async exists(name: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `SELECT 1 FROM director.deployments WHERE name = $1
       UNION ALL SELECT 1 FROM director.instances WHERE deployment = $1 LIMIT 1`,
      [name],
    );
    return rowCount > 0;
  }

  async list(): Promise<DeploymentRow[]> {
    const { rows } = await this.db.query<DeploymentRow>(
      'SELECT name, manifest, cloud_config_id FROM director.deployments ORDER BY name',
    );
    return rows;
  }

  /** Makes `manifest` the deployment's current one, against the latest cloud config. */
  async save(name: string, manifest: string): Promise<void> {
    await this.db.query(
      `INSERT INTO director.deployments (name, manifest, cloud_config_id) VALUES ($1, $2,
         (SELECT max(id) FROM director.configs WHERE type = 'cloud' AND NOT deleted))
       ON CONFLICT (name) DO UPDATE SET manifest = excluded.manifest, cloud_config_id = excluded.cloud_config_id, updated_at = now()`,
      [name, manifest],
    );
  }

  async remove(name: string): Promise<void> {
    await this.db.query('DELETE FROM director.deployments WHERE name = $1', [name]);
  }

  async instances(deployment: string): Promise<InstanceRow[]> {
    const { rows } = await this.db.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM director.instances WHERE deployment = $1 ORDER BY instance_group, index`,
      [deployment],
    );
    return rows;
  }

  /** The instances on a VM whose jobs include `job`, configured at least once (a sim master's nodes). */
  async runningInstancesOf(deployment: string, job: string): Promise<InstanceRow[]> {
    const { rows } = await this.db.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM director.instances
       WHERE deployment = $1 AND vm_cid IS NOT NULL AND config_hash IS NOT NULL AND jobs @> $2::jsonb
       ORDER BY instance_group, index`,
      [deployment, JSON.stringify([{ name: job }])],
    );
    return rows;
  }

  /** The deployments that have at least one VM. */
  async withVms(): Promise<string[]> {
    const { rows } = await this.db.query<{ deployment: string }>(
      'SELECT DISTINCT deployment FROM director.instances WHERE vm_cid IS NOT NULL',
    );
    return rows.map((row) => row.deployment);
  }

  /**
   * Records instances, several rows in one statement (a group's new instances before their VMs are made:
   * one statement instead of one per instance). Rows must be distinct instances.
   */
  async saveInstances(rows: readonly InstanceRow[]): Promise<void> {
    const columns = INSTANCE_COLUMNS.split(', ').length;
    for (let start = 0; start < rows.length; start += INSTANCES_PER_STATEMENT) {
      const chunk = rows.slice(start, start + INSTANCES_PER_STATEMENT);
      const params: unknown[] = [];
      const values = chunk.map((row, i) => {
        params.push(
          row.deployment,
          row.instance_group,
          row.index,
          row.uuid,
          row.az,
          row.lifecycle,
          row.state,
          row.vm_cid,
          row.agent_id,
          JSON.stringify(row.ips),
          row.disk_cid,
          row.stemcell,
          row.config_hash,
          row.bootstrap,
          JSON.stringify(row.jobs),
          row.vm_created_at,
          row.vm_hash,
          row.disk_hash,
        );
        return `(${Array.from({ length: columns }, (_, c) => `$${i * columns + c + 1}`).join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO director.instances (${INSTANCE_COLUMNS})
         VALUES ${values.join(', ')}
         ON CONFLICT (deployment, instance_group, index) DO UPDATE SET
           uuid = excluded.uuid, az = excluded.az, lifecycle = excluded.lifecycle, state = excluded.state,
           vm_cid = excluded.vm_cid, agent_id = excluded.agent_id, ips = excluded.ips, disk_cid = excluded.disk_cid,
           stemcell = excluded.stemcell, config_hash = excluded.config_hash, bootstrap = excluded.bootstrap,
           jobs = excluded.jobs, vm_created_at = excluded.vm_created_at, vm_hash = excluded.vm_hash,
           disk_hash = excluded.disk_hash`,
        params,
      );
    }
  }

  async saveInstance(row: InstanceRow): Promise<void> {
    await this.saveInstances([row]);
  }

  async removeInstance(row: Pick<InstanceRow, 'deployment' | 'instance_group' | 'index'>): Promise<void> {
    await this.db.query(
      'DELETE FROM director.instances WHERE deployment = $1 AND instance_group = $2 AND index = $3',
      [row.deployment, row.instance_group, row.index],
    );
  }

  /** Forgets an instance whatever its place (a forced delete that could not delete its VM). */
  async forgetInstance(uuid: string): Promise<void> {
    await this.db.query('DELETE FROM director.instances WHERE uuid = $1', [uuid]);
  }
}
