/** Master/etcd instances a plan may have (PKS 1.6: 1, 3 or 5; an odd number keeps etcd's quorum). */
export const MASTER_INSTANCE_COUNTS = [1, 3, 5] as const;
export type MasterInstances = (typeof MASTER_INSTANCE_COUNTS)[number];

/** Node drain settings applied when BOSH stops a worker (PKS plan fields, overridable per cluster). */
export interface DrainSettings {
  /** Minutes, 0–1440; 0 waits forever. */
  kubeletDrainTimeout: number;
  /** Seconds, -1–86400; -1 uses each pod's own grace period. */
  kubeletDrainGracePeriod: number;
  kubeletDrainForce: boolean;
  kubeletDrainIgnoreDaemonsets: boolean;
  kubeletDrainDeleteLocalData: boolean;
  kubeletDrainForceNode: boolean;
}

/**
 * A VM type of the cloud config (BOSH's `vm_types`): what each VM of an instance group is given. On
 * vSphere these are the `cloud_properties` `cpus`, `ram` (MB) and `disk` (ephemeral, MB).
 */
export interface VmType {
  name: string;
  cpu: number;
  ramMb: number;
  ephemeralDiskMb: number;
}

export interface InstanceGroupSizing {
  vmType: string;
  /** CPUs of each VM (from the VM type). */
  cpu: number;
  /** RAM of each VM in MB (from the VM type). */
  ramMb: number;
  persistentDiskType: string;
  azs: string[];
}

/** A cluster plan as the operator configures it (PKS-REFERENCE §5). Plans are read-only through the API. */
export interface Plan {
  /** Stable id; plans are referred to by name in the API and CLI. */
  id: string;
  name: string;
  description: string;
  active: boolean;
  master: InstanceGroupSizing & { instances: MasterInstances };
  worker: InstanceGroupSizing & { instances: number; maxInstances: number; maxInFlight: number };
  errandVmType: string;
  allowPrivileged: boolean;
  admissionPlugins: { podSecurityPolicy: boolean; denyEscalatingExec: boolean; securityContextDeny: boolean };
  kubelet: { systemReserved: string; evictionHard: string };
  drain: DrainSettings;
  addons: string;
}
