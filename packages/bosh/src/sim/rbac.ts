import type { Database } from '@openpks/db';

/** Who a request authenticated as: Kubernetes reads a client certificate's CN as the user, its O as groups. */
export interface SimUser {
  name: string;
  groups: string[];
}

/** The group whose members Kubernetes authorises for everything, before RBAC is consulted. */
export const SYSTEM_MASTERS = 'system:masters';
export const CLUSTER_ADMIN_ROLE = 'cluster-admin';

interface Subject {
  kind: string;
  name: string;
  apiGroup?: string;
  namespace?: string;
}

export interface ClusterRoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  metadata: {
    name: string;
    uid: string;
    creationTimestamp: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: Subject[];
}

const stringMap = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((v) => typeof v === 'string');

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** A binding from a create request's body, or the reason it is invalid (as kube-apiserver words it). */
function bindingOf(body: unknown, resourceVersion: string): ClusterRoleBinding | string {
  const value = body as Partial<ClusterRoleBinding> | null;
  const name = value?.metadata?.name;
  if (typeof name !== 'string' || !NAME.test(name)) return 'metadata.name: Invalid value';
  const roleRef = value?.roleRef;
  if (roleRef?.kind !== 'ClusterRole' || typeof roleRef.name !== 'string') {
    return 'roleRef: Required value: a ClusterRole';
  }
  const subjects = Array.isArray(value?.subjects) ? value.subjects : [];
  if (!subjects.every((s) => typeof s?.kind === 'string' && typeof s.name === 'string')) {
    return 'subjects: Invalid value';
  }
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      uid: crypto.randomUUID(),
      creationTimestamp: new Date().toISOString(),
      resourceVersion,
      ...(stringMap(value?.metadata?.labels) ? { labels: { ...value.metadata.labels } } : {}),
      ...(stringMap(value?.metadata?.annotations) ? { annotations: { ...value.metadata.annotations } } : {}),
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleRef.name },
    subjects: subjects.map((s) => ({ ...s })),
  };
}

/** Whether the user may do anything at all: a system:masters member, or a subject of a cluster-admin binding. */
export function isClusterAdmin(bindings: readonly ClusterRoleBinding[], user: SimUser): boolean {
  if (user.groups.includes(SYSTEM_MASTERS)) return true;
  return bindings.some(
    (binding) =>
      binding.roleRef.name === CLUSTER_ADMIN_ROLE &&
      binding.subjects.some(
        (s) =>
          (s.kind === 'User' && s.name === user.name) || (s.kind === 'Group' && user.groups.includes(s.name)),
      ),
  );
}

/**
 * A cluster's ClusterRoleBindings, the sim's stand-in for what etcd holds: shared by its masters and kept
 * across a master's VM being recreated, as etcd keeps them. Only the `cluster-admin` role grants
 * anything: the sim has no other roles.
 */
export interface ClusterRoleBindings {
  list(): Promise<ClusterRoleBinding[]>;
  get(name: string): Promise<ClusterRoleBinding | undefined>;
  /** Creates a binding from a request body; a string result is the reason it is invalid. */
  create(body: unknown): Promise<ClusterRoleBinding | 'exists' | string>;
  delete(name: string): Promise<ClusterRoleBinding | undefined>;
}

/** Bindings held in memory: a sim master started on its own (tests of the Kubernetes API alone). */
export class MemoryClusterRoleBindings implements ClusterRoleBindings {
  readonly #items = new Map<string, ClusterRoleBinding>();
  #version = 1;

  async list(): Promise<ClusterRoleBinding[]> {
    return [...this.#items.values()];
  }

  async get(name: string): Promise<ClusterRoleBinding | undefined> {
    return this.#items.get(name);
  }

  async create(body: unknown): Promise<ClusterRoleBinding | 'exists' | string> {
    const created = bindingOf(body, String(this.#version + 1));
    if (typeof created === 'string') return created;
    if (this.#items.has(created.metadata.name)) return 'exists';
    this.#version++;
    this.#items.set(created.metadata.name, created);
    return created;
  }

  async delete(name: string): Promise<ClusterRoleBinding | undefined> {
    const found = this.#items.get(name);
    this.#items.delete(name);
    return found;
  }
}

/**
 * Bindings of one deployment in the Director's database (`director.sim_cluster_role_bindings`), so a
 * credential a binding granted keeps working across a restart of pks-server and on every Director replica,
 * and goes with the deployment when it is deleted.
 */
export class StoredClusterRoleBindings implements ClusterRoleBindings {
  constructor(
    private readonly db: Database,
    private readonly deployment: string,
  ) {}

  async list(): Promise<ClusterRoleBinding[]> {
    const { rows } = await this.db.query<{ binding: ClusterRoleBinding; version: string | number }>(
      `SELECT binding, version FROM director.sim_cluster_role_bindings WHERE deployment = $1 ORDER BY name`,
      [this.deployment],
    );
    return rows.map((row) => withVersion(row.binding, row.version));
  }

  async get(name: string): Promise<ClusterRoleBinding | undefined> {
    const { rows } = await this.db.query<{ binding: ClusterRoleBinding; version: string | number }>(
      `SELECT binding, version FROM director.sim_cluster_role_bindings WHERE deployment = $1 AND name = $2`,
      [this.deployment, name],
    );
    return rows[0] === undefined ? undefined : withVersion(rows[0].binding, rows[0].version);
  }

  async create(body: unknown): Promise<ClusterRoleBinding | 'exists' | string> {
    const created = bindingOf(body, '');
    if (typeof created === 'string') return created;
    const { rows } = await this.db.query<{ version: string | number }>(
      `INSERT INTO director.sim_cluster_role_bindings (deployment, name, binding) VALUES ($1, $2, $3)
       ON CONFLICT (deployment, name) DO NOTHING RETURNING version`,
      [this.deployment, created.metadata.name, JSON.stringify(created)],
    );
    return rows[0] === undefined ? 'exists' : withVersion(created, rows[0].version);
  }

  async delete(name: string): Promise<ClusterRoleBinding | undefined> {
    const { rows } = await this.db.query<{ binding: ClusterRoleBinding; version: string | number }>(
      `DELETE FROM director.sim_cluster_role_bindings WHERE deployment = $1 AND name = $2 RETURNING binding, version`,
      [this.deployment, name],
    );
    return rows[0] === undefined ? undefined : withVersion(rows[0].binding, rows[0].version);
  }
}

function withVersion(binding: ClusterRoleBinding, version: string | number): ClusterRoleBinding {
  return { ...binding, metadata: { ...binding.metadata, resourceVersion: String(version) } };
}
