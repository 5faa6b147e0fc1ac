import type { Plan } from '@openpks/domain';
import { deploymentNameOf } from '../contract/deployment.js';
import type { OdbPlan, OidcSettings, ServiceDeployment } from './types.js';

/** The PKS 1.6 OIDC defaults for new installs (PKS-REFERENCE §3). */
export function defaultOidcSettings(uaaUrl: string, ca?: string): OidcSettings {
  return {
    issuer_url: `${uaaUrl.replace(/\/$/, '')}/oauth/token`,
    client_id: 'pks_cluster_client',
    username_claim: 'user_name',
    username_prefix: 'oidc:',
    groups_claim: 'roles',
    groups_prefix: 'oidc:',
    ...(ca !== undefined ? { ca } : {}),
  };
}

export const POST_DEPLOY_ERRAND = 'apply-addons';
export const PRE_DELETE_ERRAND = 'drain-cluster';

/**
 * A configured plan as the ODB plan the adapter receives: instance groups sized by the plan, the update
 * block, the lifecycle errands, and the PKS settings (plus the installation's OIDC settings and the
 * broker's client CA) in properties.
 */
export function odbPlanOf(plan: Plan, oidc: OidcSettings, clientCa?: string): OdbPlan {
  return {
    instance_groups: [
      {
        name: 'master',
        vm_type: plan.master.vmType,
        persistent_disk_type: plan.master.persistentDiskType,
        instances: plan.master.instances,
        networks: ['default'],
        azs: plan.master.azs,
      },
      {
        name: 'worker',
        vm_type: plan.worker.vmType,
        persistent_disk_type: plan.worker.persistentDiskType,
        instances: plan.worker.instances,
        networks: ['default'],
        azs: plan.worker.azs,
      },
      {
        name: POST_DEPLOY_ERRAND,
        vm_type: plan.errandVmType,
        instances: 1,
        networks: ['default'],
        azs: [plan.master.azs[0] ?? 'z1'],
        lifecycle: 'errand',
      },
      {
        name: PRE_DELETE_ERRAND,
        vm_type: plan.errandVmType,
        instances: 1,
        networks: ['default'],
        azs: [plan.master.azs[0] ?? 'z1'],
        lifecycle: 'errand',
      },
    ],
    properties: {
      plan_id: plan.id,
      plan_name: plan.name,
      max_worker_instances: plan.worker.maxInstances,
      worker_max_in_flight: plan.worker.maxInFlight,
      allow_privileged_containers: plan.allowPrivileged,
      admission_plugins: {
        pod_security_policy: plan.admissionPlugins.podSecurityPolicy,
        deny_escalating_exec: plan.admissionPlugins.denyEscalatingExec,
        security_context_deny: plan.admissionPlugins.securityContextDeny,
      },
      kubelet_system_reserved: plan.kubelet.systemReserved,
      kubelet_eviction_hard: plan.kubelet.evictionHard,
      kubelet_drain_timeout: plan.drain.kubeletDrainTimeout,
      kubelet_drain_grace_period: plan.drain.kubeletDrainGracePeriod,
      kubelet_drain_force: plan.drain.kubeletDrainForce,
      kubelet_drain_ignore_daemonsets: plan.drain.kubeletDrainIgnoreDaemonsets,
      kubelet_drain_delete_local_data: plan.drain.kubeletDrainDeleteLocalData,
      kubelet_drain_force_node: plan.drain.kubeletDrainForceNode,
      addons_spec: plan.addons,
      oidc,
      ...(clientCa !== undefined ? { client_ca: clientCa } : {}),
    },
    update: {
      canaries: 1,
      canary_watch_time: '10000-300000',
      update_watch_time: '10000-300000',
      max_in_flight: plan.worker.maxInFlight,
      serial: false,
    },
    lifecycle_errands: {
      post_deploy: [{ name: POST_DEPLOY_ERRAND }],
      pre_delete: [{ name: PRE_DELETE_ERRAND }],
    },
  };
}

/** What the broker deploys: the PKS 1.6 release set (versions pinned: ODB refuses `latest`). */
export function defaultServiceDeployment(instanceId: string): ServiceDeployment {
  return {
    deployment_name: deploymentNameOf(instanceId),
    releases: [
      {
        name: 'kubo',
        version: '0.34.0',
        jobs: [
          'flanneld',
          'kube-apiserver',
          'kube-controller-manager',
          'kube-scheduler',
          'kubernetes-roles',
          'kubernetes-dependencies',
          'kubelet',
          'kube-proxy',
          'apply-specs',
          'drain-cluster',
        ],
      },
      { name: 'cfcr-etcd', version: '1.11.1', jobs: ['etcd'] },
      { name: 'bpm', version: '1.0.4', jobs: ['bpm'] },
      { name: 'docker', version: '35.3.4', jobs: ['docker'] },
    ],
    stemcells: [{ stemcell_os: 'ubuntu-xenial', stemcell_version: '621.29' }],
  };
}
