/** What the caller's PKS scopes allow (PKS-REFERENCE §3); the console offers only these actions. */
export interface Capabilities {
  /** pks.clusters.admin: change every cluster, network profiles, the audit log. */
  admin: boolean;
  /** pks.clusters.admin or pks.clusters.admin.read: see every cluster (and its owner). */
  readsAll: boolean;
  /** pks.clusters.admin or pks.clusters.manage: create, resize, upgrade, delete (own clusters for manage). */
  changes: boolean;
}

export const PKS_SCOPES = ['pks.clusters.admin', 'pks.clusters.admin.read', 'pks.clusters.manage'] as const;

export function capabilitiesOf(scopes: readonly string[]): Capabilities {
  const admin = scopes.includes('pks.clusters.admin');
  return {
    admin,
    readsAll: admin || scopes.includes('pks.clusters.admin.read'),
    changes: admin || scopes.includes('pks.clusters.manage'),
  };
}
