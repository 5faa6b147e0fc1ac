import type { Queryable } from '@openpks/db';
import type { LastAction, LastActionState } from '@openpks/domain';
import type { Condition } from '../clusters/conditions.js';
import type { ClusterSpec } from '../clusters/spec.js';
import type { ClusterStatus } from '../clusters/status.js';

/**
 * A cluster as the API records it: the spec (what the user asked: plan, host, workers, profile, drain, the
 * versions wanted; `generation`), the status (what was observed on the Director, `observedGeneration`), the
 * conditions derived from both, and PKS's last action (derived from the latest operation). `masterIps`,
 * `pksVersion` and `k8sVersion` are the status as PKS's fields show it (until the first observation: the
 * versions being deployed).
 */
export interface ClusterRecord {
  uuid: string;
  name: string;
  owner: string;
  planName: string;
  masterHost: string;
  masterPort: number;
  masterIps: string[];
  workerInstances: number;
  networkProfileName: string | null;
  /** The compute profile the cluster was created with (its VMs are in its AZs); fixed, not part of the spec. */
  computeProfileName: string | null;
  drain: Record<string, string> | null;
  k8sVersion: string | null;
  pksVersion: string;
  wantedPksVersion: string;
  wantedK8sVersion: string | null;
  generation: number;
  observedGeneration: number;
  status: ClusterStatus | null;
  conditions: Condition[];
  lastAction: LastAction;
  lastActionState: LastActionState;
  lastActionDescription: string;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

interface ClusterRow {
  uuid: string;
  name: string;
  owner: string;
  plan_name: string;
  master_host: string;
  master_port: number;
  master_ips: string[];
  worker_instances: number;
  network_profile_name: string | null;
  compute_profile_name: string | null;
  drain: Record<string, string> | null;
  k8s_version: string | null;
  pks_version: string;
  wanted_pks_version: string | null;
  wanted_k8s_version: string | null;
  generation: number;
  observed_generation: number;
  status: ClusterStatus | null;
  conditions: Condition[] | null;
  last_action: LastAction;
  last_action_state: LastActionState;
  last_action_description: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

function clusterOf(row: ClusterRow): ClusterRecord {
  return {
    uuid: row.uuid,
    name: row.name,
    owner: row.owner,
    planName: row.plan_name,
    masterHost: row.master_host,
    masterPort: row.master_port,
    masterIps: row.master_ips,
    workerInstances: row.worker_instances,
    networkProfileName: row.network_profile_name,
    computeProfileName: row.compute_profile_name ?? null,
    drain: row.drain,
    k8sVersion: row.k8s_version,
    pksVersion: row.pks_version,
    // A cluster recorded without wanted versions (before they were kept) wants what it was recorded with.
    wantedPksVersion: row.wanted_pks_version ?? row.pks_version,
    wantedK8sVersion: row.wanted_pks_version === null ? row.k8s_version : row.wanted_k8s_version,
    generation: Number(row.generation),
    observedGeneration: Number(row.observed_generation),
    status: row.status,
    conditions: row.conditions ?? [],
    lastAction: row.last_action,
    lastActionState: row.last_action_state,
    lastActionDescription: row.last_action_description,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at),
  };
}

/** The spec part of a cluster record. */
export function specOf(c: ClusterRecord): ClusterSpec {
  return {
    planName: c.planName,
    masterHost: c.masterHost,
    masterPort: c.masterPort,
    workerInstances: c.workerInstances,
    networkProfileName: c.networkProfileName,
    drain: c.drain,
    pksVersion: c.wantedPksVersion,
    kubernetesVersion: c.wantedK8sVersion,
  };
}

export type NewCluster = Pick<
  ClusterRecord,
  'uuid' | 'name' | 'owner' | 'lastAction' | 'lastActionState' | 'lastActionDescription' | 'conditions'
> & { spec: ClusterSpec };

/** The columns a write may set, by record field. */
type ClusterPatch = Partial<
  Pick<
    ClusterRecord,
    | 'lastAction'
    | 'lastActionState'
    | 'lastActionDescription'
    | 'masterIps'
    | 'workerInstances'
    | 'networkProfileName'
    | 'drain'
    | 'k8sVersion'
    | 'pksVersion'
    | 'wantedPksVersion'
    | 'wantedK8sVersion'
    | 'generation'
    | 'status'
    | 'conditions'
    | 'deletedAt'
  >
>;

const COLUMNS: Record<keyof ClusterPatch, { column: string; json?: boolean }> = {
  lastAction: { column: 'last_action' },
  lastActionState: { column: 'last_action_state' },
  lastActionDescription: { column: 'last_action_description' },
  masterIps: { column: 'master_ips', json: true },
  workerInstances: { column: 'worker_instances' },
  networkProfileName: { column: 'network_profile_name' },
  drain: { column: 'drain', json: true },
  k8sVersion: { column: 'k8s_version' },
  pksVersion: { column: 'pks_version' },
  wantedPksVersion: { column: 'wanted_pks_version' },
  wantedK8sVersion: { column: 'wanted_k8s_version' },
  generation: { column: 'generation' },
  status: { column: 'status', json: true },
  conditions: { column: 'conditions', json: true },
  deletedAt: { column: 'deleted_at' },
};

export const clusterStore = {
  async live(db: Queryable, owner?: string): Promise<ClusterRecord[]> {
    const result = await db.query<ClusterRow>(
      `SELECT * FROM api.clusters WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1) ORDER BY name`,
      [owner ?? null],
    );
    return result.rows.map(clusterOf);
  },
  /**
   * One page of live clusters in name order, after the cluster named `after` (keyset paging: a page costs
   * the same however deep it is, and a cluster created meanwhile never shifts the pages).
   */
  async page(
    db: Queryable,
    options: { owner?: string | undefined; after?: string | undefined; limit: number },
  ): Promise<ClusterRecord[]> {
    const result = await db.query<ClusterRow>(
      `SELECT * FROM api.clusters WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)
         AND ($2::text IS NULL OR name > $2) ORDER BY name LIMIT $3`,
      [options.owner ?? null, options.after ?? null, options.limit],
    );
    return result.rows.map(clusterOf);
  },
  async count(db: Queryable, owner?: string): Promise<number> {
    const result = await db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM api.clusters WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)`,
      [owner ?? null],
    );
    return Number(result.rows[0]?.n ?? 0);
  },
  /** Live clusters by name, in one query (the batch behind a request's DataLoader). */
  async byNames(db: Queryable, names: readonly string[]): Promise<ClusterRecord[]> {
    const result = await db.query<ClusterRow>(
      `SELECT * FROM api.clusters WHERE name = ANY($1::text[]) AND deleted_at IS NULL`,
      [names],
    );
    return result.rows.map(clusterOf);
  },
  async byName(db: Queryable, name: string, forUpdate = false): Promise<ClusterRecord | undefined> {
    const result = await db.query<ClusterRow>(
      `SELECT * FROM api.clusters WHERE name = $1 AND deleted_at IS NULL${forUpdate ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return result.rows[0] && clusterOf(result.rows[0]);
  },
  async byUuid(db: Queryable, uuid: string, forUpdate = false): Promise<ClusterRecord | undefined> {
    const result = await db.query<ClusterRow>(
      `SELECT * FROM api.clusters WHERE uuid = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [uuid],
    );
    return result.rows[0] && clusterOf(result.rows[0]);
  },
  /** The live clusters that use a network profile, by name. */
  async namesUsingProfile(db: Queryable, profileName: string): Promise<string[]> {
    const result = await db.query<{ name: string }>(
      `SELECT name FROM api.clusters WHERE network_profile_name = $1 AND deleted_at IS NULL ORDER BY name`,
      [profileName],
    );
    return result.rows.map((r) => r.name);
  },
  /** The live clusters created with a compute profile, by name. */
  async namesUsingComputeProfile(db: Queryable, profileName: string): Promise<string[]> {
    const result = await db.query<{ name: string }>(
      `SELECT name FROM api.clusters WHERE compute_profile_name = $1 AND deleted_at IS NULL ORDER BY name`,
      [profileName],
    );
    return result.rows.map((r) => r.name);
  },
  /** Records the compute profile of a cluster being created (in the transaction that records it). */
  async setComputeProfile(db: Queryable, uuid: string, profileName: string): Promise<void> {
    await db.query(`UPDATE api.clusters SET compute_profile_name = $2 WHERE uuid = $1`, [uuid, profileName]);
  },
  /** Names of clusters by uuid, deleted ones included (a name stays known after its cluster is gone). */
  async namesOf(db: Queryable, uuids: readonly string[]): Promise<Map<string, string>> {
    const result = await db.query<{ uuid: string; name: string }>(
      `SELECT uuid, name FROM api.clusters WHERE uuid = ANY($1::uuid[])`,
      [uuids],
    );
    return new Map(result.rows.map((r) => [r.uuid, r.name]));
  },
  /**
   * A new cluster at generation 1; until the Director is first read, its PKS fields show the versions
   * being deployed.
   */
  async insert(db: Queryable, c: NewCluster): Promise<void> {
    await db.query(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, master_port, master_ips,
         worker_instances, network_profile_name, drain, k8s_version, pks_version, wanted_k8s_version,
         wanted_pks_version, generation, observed_generation, conditions, last_action, last_action_state,
         last_action_description)
       VALUES ($1,$2,$3,$4,$5,$6,'[]'::jsonb,$7,$8,$9::jsonb,$10,$11,$10,$11,1,0,$12::jsonb,$13,$14,$15)`,
      [
        c.uuid,
        c.name,
        c.owner,
        c.spec.planName,
        c.spec.masterHost,
        c.spec.masterPort,
        c.spec.workerInstances,
        c.spec.networkProfileName,
        c.spec.drain === null ? null : JSON.stringify(c.spec.drain),
        c.spec.kubernetesVersion,
        c.spec.pksVersion,
        JSON.stringify(c.conditions),
        c.lastAction,
        c.lastActionState,
        c.lastActionDescription,
      ],
    );
  },
  async update(db: Queryable, uuid: string, patch: ClusterPatch): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [uuid];
    for (const [key, { column, json }] of Object.entries(COLUMNS) as [
      keyof ClusterPatch,
      { column: string; json?: boolean },
    ][]) {
      if (!(key in patch)) continue;
      const value = patch[key];
      params.push(json && value !== null && value !== undefined ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}${json ? '::jsonb' : ''}`);
    }
    if (sets.length === 0) return;
    await db.query(`UPDATE api.clusters SET ${sets.join(', ')}, updated_at = now() WHERE uuid = $1`, params);
  },
  /** The generation the last successful operation applied (never goes back). */
  async applied(db: Queryable, uuid: string, generation: number): Promise<void> {
    await db.query(
      `UPDATE api.clusters SET observed_generation = greatest(observed_generation, $2), updated_at = now()
       WHERE uuid = $1`,
      [uuid, generation],
    );
  },
};
