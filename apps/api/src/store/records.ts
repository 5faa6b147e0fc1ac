import type { Queryable } from '@openpks/db';
import type { LastAction, LastActionState } from '@openpks/domain';

/** A cluster as the API records it (spec the user asked for + the status operations report). */
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
  drain: Record<string, string> | null;
  k8sVersion: string | null;
  pksVersion: string;
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
  drain: Record<string, string> | null;
  k8s_version: string | null;
  pks_version: string;
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
    drain: row.drain,
    k8sVersion: row.k8s_version,
    pksVersion: row.pks_version,
    lastAction: row.last_action,
    lastActionState: row.last_action_state,
    lastActionDescription: row.last_action_description,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at),
  };
}

export const clusters = {
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
  async byUuid(db: Queryable, uuid: string): Promise<ClusterRecord | undefined> {
    const result = await db.query<ClusterRow>(`SELECT * FROM api.clusters WHERE uuid = $1`, [uuid]);
    return result.rows[0] && clusterOf(result.rows[0]);
  },
  async insert(
    db: Queryable,
    c: Omit<ClusterRecord, 'createdAt' | 'updatedAt' | 'deletedAt'>,
  ): Promise<void> {
    await db.query(
      `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, master_port, master_ips,
         worker_instances, network_profile_name, drain, k8s_version, pks_version, last_action, last_action_state,
         last_action_description)
       VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8,$9,$10::jsonb,$11,$12,$13,$14,$15)`,
      [
        c.uuid,
        c.name,
        c.owner,
        c.planName,
        c.masterHost,
        c.masterPort,
        JSON.stringify(c.masterIps),
        c.workerInstances,
        c.networkProfileName,
        c.drain === null ? null : JSON.stringify(c.drain),
        c.k8sVersion,
        c.pksVersion,
        c.lastAction,
        c.lastActionState,
        c.lastActionDescription,
      ],
    );
  },
  async update(
    db: Queryable,
    uuid: string,
    patch: Partial<
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
        | 'deletedAt'
      >
    >,
  ): Promise<void> {
    const columns: Record<string, [string, unknown]> = {
      lastAction: ['last_action', patch.lastAction],
      lastActionState: ['last_action_state', patch.lastActionState],
      lastActionDescription: ['last_action_description', patch.lastActionDescription],
      masterIps: ['master_ips', patch.masterIps && JSON.stringify(patch.masterIps)],
      workerInstances: ['worker_instances', patch.workerInstances],
      networkProfileName: ['network_profile_name', patch.networkProfileName],
      drain: ['drain', patch.drain && JSON.stringify(patch.drain)],
      k8sVersion: ['k8s_version', patch.k8sVersion],
      pksVersion: ['pks_version', patch.pksVersion],
      deletedAt: ['deleted_at', patch.deletedAt],
    };
    const sets: string[] = [];
    const params: unknown[] = [uuid];
    for (const [key, [column, value]] of Object.entries(columns)) {
      if (!(key in patch)) continue;
      params.push(value);
      sets.push(
        `${column} = $${params.length}${column === 'master_ips' || column === 'drain' ? '::jsonb' : ''}`,
      );
    }
    if (sets.length === 0) return;
    await db.query(`UPDATE api.clusters SET ${sets.join(', ')}, updated_at = now() WHERE uuid = $1`, params);
  },
};

export const OperationKind = {
  CREATE: 'create',
  UPDATE: 'update',
  UPGRADE: 'upgrade',
  DELETE: 'delete',
} as const;
export type OperationKind = (typeof OperationKind)[keyof typeof OperationKind];

export const OperationPhase = { REQUESTED: 'requested', POLLING: 'polling', DONE: 'done' } as const;
export type OperationPhase = (typeof OperationPhase)[keyof typeof OperationPhase];

export interface OperationRecord {
  id: string;
  clusterUuid: string;
  kind: OperationKind;
  phase: OperationPhase;
  state: LastActionState;
  /** The OSB request as sent (body and ids), so it can be re-sent after a crash. */
  request: { serviceId: string; planId: string; body: Record<string, unknown> };
  originatingUser: string;
  brokerOperation: string | null;
  directorTaskId: number | null;
  taskId: string | null;
  createdAt: Date;
}

interface OperationRow {
  id: string;
  cluster_uuid: string;
  kind: OperationKind;
  phase: OperationPhase;
  state: LastActionState;
  request: OperationRecord['request'];
  originating_user: string;
  broker_operation: string | null;
  director_task_id: number | null;
  task_id: string | null;
  created_at: Date;
}

export function operationOf(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    clusterUuid: row.cluster_uuid,
    kind: row.kind,
    phase: row.phase,
    state: row.state,
    request: row.request,
    originatingUser: row.originating_user,
    brokerOperation: row.broker_operation,
    directorTaskId: row.director_task_id,
    taskId: row.task_id,
    createdAt: new Date(row.created_at),
  };
}

export const operations = {
  async insert(
    db: Queryable,
    op: Pick<OperationRecord, 'id' | 'clusterUuid' | 'kind' | 'request' | 'originatingUser' | 'taskId'>,
    holder: string,
    leaseMs: number,
  ): Promise<void> {
    await db.query(
      `INSERT INTO api.operations (id, cluster_uuid, kind, phase, state, request, originating_user, task_id,
         holder, lease_expires_at)
       VALUES ($1,$2,$3,'requested','in progress',$4::jsonb,$5,$6,$7, clock_timestamp() + $8::float8 * interval '1 millisecond')`,
      [
        op.id,
        op.clusterUuid,
        op.kind,
        JSON.stringify(op.request),
        op.originatingUser,
        op.taskId,
        holder,
        leaseMs,
      ],
    );
  },
  /**
   * Extends `holder`'s lease on an operation still in progress by `leaseMs` from now; false when the
   * lease is no longer theirs (taken over, ended, abandoned).
   */
  async renewLease(db: Queryable, id: string, holder: string, leaseMs: number): Promise<boolean> {
    const result = await db.query(
      `UPDATE api.operations SET lease_expires_at = clock_timestamp() + $3::float8 * interval '1 millisecond'
       WHERE id = $1 AND holder = $2 AND state = 'in progress'`,
      [id, holder, leaseMs],
    );
    return result.rowCount === 1;
  },
  async activeFor(db: Queryable, clusterUuid: string): Promise<OperationRecord | undefined> {
    const result = await db.query<OperationRow>(
      `SELECT * FROM api.operations WHERE cluster_uuid = $1 AND state = 'in progress'`,
      [clusterUuid],
    );
    return result.rows[0] && operationOf(result.rows[0]);
  },
  async byId(db: Queryable, id: string): Promise<OperationRecord | undefined> {
    const result = await db.query<OperationRow>(`SELECT * FROM api.operations WHERE id = $1`, [id]);
    return result.rows[0] && operationOf(result.rows[0]);
  },
};

export interface NetworkProfileRecord {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  createdAt: Date;
}

export const networkProfiles = {
  async all(db: Queryable): Promise<NetworkProfileRecord[]> {
    const result = await db.query<{
      name: string;
      description: string;
      parameters: Record<string, unknown>;
      created_at: Date;
    }>(`SELECT * FROM api.network_profiles ORDER BY name`);
    return result.rows.map((r) => ({
      name: r.name,
      description: r.description,
      parameters: r.parameters,
      createdAt: new Date(r.created_at),
    }));
  },
  async byName(db: Queryable, name: string): Promise<NetworkProfileRecord | undefined> {
    return (await this.all(db)).find((p) => p.name === name);
  },
};

export interface AuditRecord {
  id: string;
  at: Date;
  actor: string;
  clientId: string;
  action: string;
  target: string | null;
  parameters: Record<string, unknown>;
  outcome: 'succeeded' | 'failed';
  errorCode: string | null;
  message: string | null;
}

export const audit = {
  async write(db: Queryable, event: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    await db.query(
      `INSERT INTO api.audit_events (actor, client_id, action, target, parameters, outcome, error_code, message)
       VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7,$8)`,
      [
        event.actor,
        event.clientId,
        event.action,
        event.target,
        JSON.stringify(event.parameters),
        event.outcome,
        event.errorCode,
        event.message,
      ],
    );
  },
  async list(db: Queryable, filter: { actor?: string; limit: number }): Promise<AuditRecord[]> {
    const result = await db.query<{
      id: string;
      at: Date;
      actor: string;
      client_id: string;
      action: string;
      target: string | null;
      parameters: Record<string, unknown>;
      outcome: 'succeeded' | 'failed';
      error_code: string | null;
      message: string | null;
    }>(`SELECT * FROM api.audit_events WHERE ($1::text IS NULL OR actor = $1) ORDER BY id DESC LIMIT $2`, [
      filter.actor ?? null,
      filter.limit,
    ]);
    return result.rows.map((r) => ({
      id: String(r.id),
      at: new Date(r.at),
      actor: r.actor,
      clientId: r.client_id,
      action: r.action,
      target: r.target,
      parameters: r.parameters,
      outcome: r.outcome,
      errorCode: r.error_code,
      message: r.message,
    }));
  },
};
