/**
 * What the user asked a cluster to be. Every change of it bumps the cluster's `generation`; the status
 * says which generation the last successful operation applied (`observedGeneration`) and what the Director
 * runs, and the conditions say why the two differ.
 */
export interface ClusterSpec {
  planName: string;
  masterHost: string;
  masterPort: number;
  workerInstances: number;
  networkProfileName: string | null;
  drain: Record<string, string> | null;
  /** The PKS version the cluster is to run (this installation's, as of its create or last upgrade). */
  pksVersion: string;
  /** The Kubernetes version that PKS version ships. */
  kubernetesVersion: string | null;
}

/** The fields a change may set. */
export type ClusterSpecChange = Partial<
  Pick<ClusterSpec, 'workerInstances' | 'networkProfileName' | 'drain' | 'pksVersion' | 'kubernetesVersion'>
>;

/** The spec after `change`, and whether anything in it differs from `spec`. */
export function applySpecChange(
  spec: ClusterSpec,
  change: ClusterSpecChange,
): { spec: ClusterSpec; changed: boolean } {
  const next = { ...spec, ...change };
  const changed = (Object.keys(change) as (keyof ClusterSpecChange)[]).some(
    (key) => JSON.stringify(spec[key]) !== JSON.stringify(next[key]),
  );
  return { spec: next, changed };
}
