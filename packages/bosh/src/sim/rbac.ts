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

/**
 * The cluster's ClusterRoleBindings, the sim's stand-in for what etcd holds. One store per deployment,
 * shared by its masters and kept across a master's VM being recreated, as etcd keeps them. Only the
 * `cluster-admin` role grants anything: the sim has no other roles.
 */
export class ClusterRoleBindings {
  readonly #items = new Map<string, ClusterRoleBinding>();
  #version = 1;

  list(): ClusterRoleBinding[] {
    return [...this.#items.values()];
  }

  get(name: string): ClusterRoleBinding | undefined {
    return this.#items.get(name);
  }

  /** Creates a binding from a request body; a string result is the reason it is invalid. */
  create(body: unknown): ClusterRoleBinding | 'exists' | string {
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
    if (this.#items.has(name)) return 'exists';
    const created: ClusterRoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {
        name,
        uid: crypto.randomUUID(),
        creationTimestamp: new Date().toISOString(),
        resourceVersion: String(++this.#version),
        ...(stringMap(value?.metadata?.labels) ? { labels: { ...value.metadata.labels } } : {}),
        ...(stringMap(value?.metadata?.annotations)
          ? { annotations: { ...value.metadata.annotations } }
          : {}),
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleRef.name },
      subjects: subjects.map((s) => ({ ...s })),
    };
    this.#items.set(name, created);
    return created;
  }

  delete(name: string): ClusterRoleBinding | undefined {
    const found = this.#items.get(name);
    this.#items.delete(name);
    return found;
  }

  /** Whether the user may do anything at all: a system:masters member, or a subject of a cluster-admin binding. */
  isClusterAdmin(user: SimUser): boolean {
    if (user.groups.includes(SYSTEM_MASTERS)) return true;
    return this.list().some(
      (binding) =>
        binding.roleRef.name === CLUSTER_ADMIN_ROLE &&
        binding.subjects.some(
          (s) =>
            (s.kind === 'User' && s.name === user.name) ||
            (s.kind === 'Group' && user.groups.includes(s.name)),
        ),
    );
  }
}
