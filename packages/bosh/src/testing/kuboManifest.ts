import { stringify } from 'yaml';

export interface KuboManifestOptions {
  name: string;
  masters?: number;
  workers?: number;
  canaries?: number;
  maxInFlight?: number | string;
  serial?: boolean;
  stemcellVersion?: string;
  /** Extra properties for the worker's kubelet job (a change forces an update of the workers). */
  kubeletProperties?: Record<string, unknown>;
  /** The cluster's external hostname, a SAN of `tls-kubernetes` as in PKS's manifests. */
  externalHostname?: string;
  /** The workers' vm_type (default `worker`); a change recreates their VMs. */
  workerVmType?: string;
  /** The masters' persistent_disk_type (default: `persistent_disk: 5120`); a change migrates their disks. */
  masterDiskType?: string;
}

/** A CFCR/kubo-shaped manifest (kubo-deployment cfcr.yml): masters, workers, an apply-addons errand, certificates. */
export function kuboManifest(options: KuboManifestOptions): string {
  const update = {
    canaries: options.canaries ?? 1,
    max_in_flight: options.maxInFlight ?? 1,
    canary_watch_time: '10000-300000',
    update_watch_time: '10000-300000',
    ...(options.serial !== undefined ? { serial: options.serial } : {}),
  };
  return stringify({
    name: options.name,
    releases: [
      { name: 'kubo', version: '0.34.0' },
      { name: 'cfcr-etcd', version: '1.11.1' },
      { name: 'bpm', version: '1.0.4' },
      { name: 'docker', version: '35.3.4' },
    ],
    stemcells: [{ alias: 'default', os: 'ubuntu-xenial', version: options.stemcellVersion ?? '621.29' }],
    update,
    instance_groups: [
      {
        name: 'master',
        instances: options.masters ?? 1,
        azs: ['z1', 'z2', 'z3'],
        networks: [{ name: 'default' }],
        stemcell: 'default',
        vm_type: 'medium',
        ...(options.masterDiskType !== undefined
          ? { persistent_disk_type: options.masterDiskType }
          : { persistent_disk: 5120 }),
        jobs: [
          { name: 'bpm', release: 'bpm' },
          {
            name: 'kube-apiserver',
            release: 'kubo',
            properties: {
              'admin-password': '((kubo-admin-password))',
              tls: { kubernetes: '((tls-kubernetes))' },
              'service-account-public-key': '((service-account-key.public_key))',
            },
          },
          { name: 'kube-controller-manager', release: 'kubo' },
          { name: 'kube-scheduler', release: 'kubo' },
          { name: 'etcd', release: 'cfcr-etcd', properties: { tls: { etcd: '((tls-etcd))' } } },
        ],
      },
      {
        name: 'worker',
        instances: options.workers ?? 3,
        azs: ['z1', 'z2', 'z3'],
        networks: [{ name: 'default' }],
        stemcell: 'default',
        vm_type: options.workerVmType ?? 'worker',
        jobs: [
          { name: 'docker', release: 'docker' },
          {
            name: 'kubelet',
            release: 'kubo',
            properties: { tls: { kubelet: '((tls-kubelet))' }, ...options.kubeletProperties },
          },
          { name: 'kube-proxy', release: 'kubo' },
        ],
      },
      {
        name: 'apply-addons',
        lifecycle: 'errand',
        instances: 1,
        azs: ['z1'],
        networks: [{ name: 'default' }],
        stemcell: 'default',
        vm_type: 'minimal',
        jobs: [
          { name: 'apply-specs', release: 'kubo', properties: { admin_password: '((kubo-admin-password))' } },
        ],
      },
    ],
    variables: [
      { name: 'kubo-admin-password', type: 'password' },
      { name: 'kubo_ca', type: 'certificate', options: { is_ca: true, common_name: 'ca' } },
      {
        name: 'tls-kubernetes',
        type: 'certificate',
        options: {
          ca: 'kubo_ca',
          common_name: options.externalHostname ?? 'master.cfcr.internal',
          alternative_names: [
            ...(options.externalHostname !== undefined ? [options.externalHostname] : []),
            '10.100.200.1',
            'kubernetes',
            'kubernetes.default.svc.cluster.local',
            'master.cfcr.internal',
          ],
        },
        // The masters' addresses join the SANs (kube-apiserver provides the link of that name).
        consumes: { alternative_name: { from: 'kube-apiserver' } },
      },
      {
        name: 'tls-kubelet',
        type: 'certificate',
        options: {
          ca: 'kubo_ca',
          common_name: 'kubelet.cfcr.internal',
          extended_key_usage: ['server_auth', 'client_auth'],
        },
      },
      { name: 'etcd_ca', type: 'certificate', options: { is_ca: true, common_name: 'etcd.ca' } },
      {
        name: 'tls-etcd',
        type: 'certificate',
        options: { ca: 'etcd_ca', common_name: 'master.etcd.cfcr.internal' },
      },
      { name: 'service-account-key', type: 'rsa' },
      { name: 'jumpbox-ssh', type: 'ssh' },
    ],
    features: { use_dns_addresses: true },
  });
}
