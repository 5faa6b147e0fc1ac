import { parse, stringify } from 'yaml';
import {
  InputError,
  InputErrors,
  collectInputErrors,
  drainSettingKeyOf,
  validateDrainSettings,
  validateHostname,
  type DrainSettingKey,
} from '@openpks/domain';
import { POST_DEPLOY_ERRAND, PRE_DELETE_ERRAND } from './plan.js';
import {
  DRAIN_SETTING_NAMES,
  type ClusterParameters,
  type DrainSettingName,
  type GenerateManifestParams,
  type GeneratedManifest,
  type OdbInstanceGroup,
  type OdbPlan,
  type PlanProperties,
  type ServiceDeployment,
} from './types.js';

/** The Kubernetes service network's first IP, the in-cluster address of the apiserver (kubo's default). */
export const SERVICE_CLUSTER_IP = '10.100.200.1';
export const SERVICE_CLUSTER_CIDR = '10.100.200.0/24';
export const DEFAULT_MASTER_PORT = 8443;
/** The bosh-dns alias of the masters inside the cluster (kubo's `kubo-dns-aliases`). */
export const MASTER_INTERNAL_NAME = 'master.cfcr.internal';

/**
 * The cluster's settings, resolved from (in ODB's order of precedence) the request's parameters, the
 * previous manifest, then the plan. The manifest is the only place they persist: ODB does not send
 * arbitrary parameters again, so every one of them is written where the next generate-manifest reads it:
 *
 * | setting                      | manifest path                                              |
 * |------------------------------|------------------------------------------------------------|
 * | kubernetes_master_host       | master / kube-apiserver `external-hostname`                |
 * | kubernetes_master_port       | master / kube-apiserver `port`                             |
 * | kubernetes_worker_instances  | instance group `worker` `instances`                        |
 * | authorization_mode           | master / kube-apiserver `authorization-mode`               |
 * | kubelet_drain_* (cluster)    | worker / kubelet `drain.cluster-overrides`                 |
 * | nsxt_network_profile/details | master / kube-apiserver `network-profile`, `network-details` |
 * | compute_profile              | master / kube-apiserver `compute-profile`; every group's `azs` |
 * | worker_haproxy_ip_addresses  | worker / kubelet `haproxy-ip-addresses`                    |
 * | k8s_customization_parameters | worker / kubelet `customization`                           |
 * | custom_ca_certs              | worker / docker `custom-ca-certs`                          |
 */
export interface ClusterSettings {
  masterHost: string;
  masterPort: number;
  workerInstances: number;
  authorizationMode: string;
  drainOverrides: Partial<Record<DrainSettingName, string>>;
  networkProfile?: string | undefined;
  networkDetails?: Record<string, unknown> | undefined;
  /** The compute profile as given (a JSON string); its AZs replace the plan's for every instance group. */
  computeProfile?: string | undefined;
  haproxyIpAddresses?: string | undefined;
  customization?: Record<string, unknown> | undefined;
  customCaCerts?: { domain_name: string; ca_cert: string }[] | undefined;
}

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const AUTHORIZATION_MODES = ['rbac', 'abac'];

/**
 * `generate-manifest`: the kubo-style BOSH manifest of a cluster. Rejects (InputError, a message for the
 * user) a worker count outside 1..plan maximum, a change of the master count and a change of plan.
 */
export function generateManifest(params: GenerateManifestParams): GeneratedManifest {
  return { manifest: generateCluster(params).manifest };
}

/** A generated manifest with what went into it, parsed once (the broker's answer needs the settings). */
export interface GeneratedCluster {
  manifest: string;
  /** The previous manifest as parsed (undefined for a new cluster). */
  previous: Obj | undefined;
  settings: ClusterSettings;
}

/** `generateManifest`, keeping the parsed previous manifest and the settings for the caller. */
export function generateCluster(params: GenerateManifestParams): GeneratedCluster {
  const { serviceDeployment, plan } = params;
  const props = plan.properties;
  const previous =
    params.previousManifest !== undefined && params.previousManifest.trim() !== ''
      ? (parse(params.previousManifest) as Obj)
      : undefined;
  const master = groupOf(plan, 'master');
  const worker = groupOf(plan, 'worker');

  rejectPlanChange(params);
  if (previous !== undefined) {
    const deployedMasters = instanceGroup(previous, 'master')?.instances;
    if (typeof deployedMasters === 'number' && deployedMasters !== master.instances) {
      throw new InputError(
        'plan.master.instances',
        `The number of master nodes cannot change on an existing cluster: it has ${deployedMasters}, the plan now says ${master.instances}`,
      );
    }
  }

  const requested = requestedSettings(params.requestParams?.parameters ?? {}, master.instances);
  const carried = previous === undefined ? {} : settingsFromManifest(previous);
  const masterHost = requested.masterHost ?? carried.masterHost;
  if (masterHost === undefined) {
    throw new InputError(
      'kubernetes_master_host',
      'is required (the external hostname of the cluster’s Kubernetes API)',
    );
  }
  const settings: ClusterSettings = {
    masterHost,
    masterPort: requested.masterPort ?? carried.masterPort ?? DEFAULT_MASTER_PORT,
    workerInstances: requested.workerInstances ?? carried.workerInstances ?? worker.instances,
    authorizationMode: requested.authorizationMode ?? carried.authorizationMode ?? 'rbac',
    drainOverrides: { ...carried.drainOverrides, ...requested.drainOverrides },
    networkProfile: requested.networkProfile ?? carried.networkProfile,
    networkDetails: requested.networkDetails ?? carried.networkDetails,
    computeProfile: requested.computeProfile ?? carried.computeProfile,
    haproxyIpAddresses: requested.haproxyIpAddresses ?? carried.haproxyIpAddresses,
    customization: requested.customization ?? carried.customization,
    customCaCerts: requested.customCaCerts ?? carried.customCaCerts,
  };
  validateWorkerCount(settings.workerInstances, props);
  return {
    manifest: stringify(renderManifest(serviceDeployment, plan, settings), { lineWidth: 0 }),
    previous,
    settings,
  };
}

function groupOf(plan: OdbPlan, name: string): OdbInstanceGroup {
  const group = plan.instance_groups.find((g) => g.name === name);
  if (group === undefined)
    throw new InputError('plan.instance_groups', `the plan has no '${name}' instance group`);
  return group;
}

function rejectPlanChange(params: GenerateManifestParams): void {
  const current = params.plan.properties.plan_id;
  const before =
    params.previousPlan?.properties?.plan_id ?? params.requestParams?.previous_values?.plan_id ?? undefined;
  if (before !== undefined && before !== current) {
    const from = params.previousPlan?.properties?.plan_name ?? before;
    throw new InputError(
      'plan_id',
      `A cluster cannot change plans: it was created with plan ${from}, the request asks for ${params.plan.properties.plan_name}`,
    );
  }
}

export function validateWorkerCount(count: number, props: PlanProperties): void {
  if (!Number.isInteger(count) || count < 1 || count > props.max_worker_instances) {
    throw new InputError(
      'kubernetes_worker_instances',
      `Invalid worker count ${count}: plan ${props.plan_name} allows 1 to ${props.max_worker_instances} workers`,
      { allowed: `1 to ${props.max_worker_instances}` },
    );
  }
}

/** Reads and checks what the request sends; absent fields stay undefined so the previous values win. */
function requestedSettings(raw: Obj, planMasters: number): Partial<ClusterSettings> {
  const parameters = raw as ClusterParameters & Obj;
  const errors: InputError[] = [];
  const out: Partial<ClusterSettings> = {};
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof InputError) errors.push(error);
      else throw error;
    }
  };
  if (parameters.kubernetes_master_host !== undefined) {
    attempt(() => {
      out.masterHost = validateHostname(parameters.kubernetes_master_host, 'kubernetes_master_host');
    });
  }
  if (parameters.kubernetes_master_port !== undefined) {
    const port = Number(parameters.kubernetes_master_port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      errors.push(new InputError('kubernetes_master_port', 'must be a port number'));
    } else out.masterPort = port;
  }
  if (parameters.kubernetes_worker_instances !== undefined) {
    const count = Number(parameters.kubernetes_worker_instances);
    if (!Number.isInteger(count)) {
      errors.push(
        new InputError('kubernetes_worker_instances', 'kubernetes_worker_instances must be a whole number'),
      );
    } else out.workerInstances = count;
  }
  if (
    parameters.kubernetes_master_instances !== undefined &&
    Number(parameters.kubernetes_master_instances) !== planMasters
  ) {
    errors.push(
      new InputError(
        'kubernetes_master_instances',
        `The number of master nodes is set by the plan (${planMasters}) and cannot be changed per cluster`,
      ),
    );
  }
  if (parameters.authorization_mode !== undefined) {
    if (!AUTHORIZATION_MODES.includes(String(parameters.authorization_mode))) {
      errors.push(
        new InputError(
          'authorization_mode',
          `authorization_mode must be one of ${AUTHORIZATION_MODES.join(', ')}`,
        ),
      );
    } else out.authorizationMode = String(parameters.authorization_mode);
  }
  const drain = parameters.kubernetes_setting_cluster_details;
  if (drain !== undefined) {
    if (!isObject(drain)) {
      errors.push(
        new InputError('kubernetes_setting_cluster_details', 'must be an object of kubelet_drain_* settings'),
      );
    } else {
      // The one drain rule (@openpks/domain), with the fields named as the platform sent them.
      const byKey = new Map<DrainSettingKey, DrainSettingName>();
      const settings: Partial<Record<DrainSettingKey, unknown>> = {};
      for (const [name, value] of Object.entries(drain)) {
        if (!(DRAIN_SETTING_NAMES as readonly string[]).includes(name)) continue; // unknown fields are ignored (OSB)
        const key = drainSettingKeyOf(name)!;
        byKey.set(key, name as DrainSettingName);
        settings[key] = value;
      }
      const valid = collectInputErrors(errors, () =>
        validateDrainSettings(settings, {
          field: (key) => `kubernetes_setting_cluster_details.${byKey.get(key)!}`,
        }),
      );
      if (valid !== undefined) {
        out.drainOverrides = Object.fromEntries(
          Object.entries(valid).map(([key, text]) => [byKey.get(key as DrainSettingKey)!, text]),
        );
      }
    }
  }
  if (parameters.nsxt_network_profile !== undefined)
    out.networkProfile = String(parameters.nsxt_network_profile);
  if (isObject(parameters.nsxt_network_details)) out.networkDetails = parameters.nsxt_network_details;
  if (parameters.compute_profile !== undefined) {
    const profile = String(parameters.compute_profile);
    if (computeProfileAzs(profile) === undefined) {
      errors.push(
        new InputError('compute_profile', 'must be a JSON string of a compute profile', {
          allowed: '{"name": …, "parameters": {"azs": [{"name": "<AZ>"}, …]}}',
        }),
      );
    } else out.computeProfile = profile;
  }
  if (parameters.worker_haproxy_ip_addresses !== undefined)
    out.haproxyIpAddresses = String(parameters.worker_haproxy_ip_addresses);
  if (isObject(parameters.k8s_customization_parameters))
    out.customization = parameters.k8s_customization_parameters;
  if (Array.isArray(parameters.custom_ca_certs)) out.customCaCerts = parameters.custom_ca_certs;
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
  return out;
}

function instanceGroup(manifest: Obj, name: string): Obj | undefined {
  const groups = manifest.instance_groups;
  if (!Array.isArray(groups)) return undefined;
  return groups.find((g): g is Obj => isObject(g) && g.name === name);
}

function jobProperties(manifest: Obj, group: string, job: string): Obj {
  const jobs = instanceGroup(manifest, group)?.jobs;
  if (!Array.isArray(jobs)) return {};
  const found = jobs.find((j): j is Obj => isObject(j) && j.name === job);
  return found !== undefined && isObject(found.properties) ? found.properties : {};
}

/** The settings a previous generate-manifest wrote (see the table on ClusterSettings). */
export function settingsFromManifest(manifest: Obj): Partial<ClusterSettings> {
  const apiserver = jobProperties(manifest, 'master', 'kube-apiserver');
  const kubelet = jobProperties(manifest, 'worker', 'kubelet');
  const docker = jobProperties(manifest, 'worker', 'docker');
  const drain =
    isObject(kubelet.drain) && isObject(kubelet.drain['cluster-overrides'])
      ? kubelet.drain['cluster-overrides']
      : {};
  const out: Partial<ClusterSettings> = {
    drainOverrides: Object.fromEntries(
      Object.entries(drain).filter(([key]) => (DRAIN_SETTING_NAMES as readonly string[]).includes(key)),
    ) as Partial<Record<DrainSettingName, string>>,
  };
  if (typeof apiserver['external-hostname'] === 'string') out.masterHost = apiserver['external-hostname'];
  if (typeof apiserver.port === 'number') out.masterPort = apiserver.port;
  if (typeof apiserver['authorization-mode'] === 'string')
    out.authorizationMode = apiserver['authorization-mode'];
  if (typeof apiserver['network-profile'] === 'string') out.networkProfile = apiserver['network-profile'];
  if (isObject(apiserver['network-details'])) out.networkDetails = apiserver['network-details'];
  if (typeof apiserver['compute-profile'] === 'string') out.computeProfile = apiserver['compute-profile'];
  const workers = instanceGroup(manifest, 'worker')?.instances;
  if (typeof workers === 'number') out.workerInstances = workers;
  if (typeof kubelet['haproxy-ip-addresses'] === 'string')
    out.haproxyIpAddresses = kubelet['haproxy-ip-addresses'];
  if (isObject(kubelet.customization)) out.customization = kubelet.customization;
  if (Array.isArray(docker['custom-ca-certs']))
    out.customCaCerts = docker['custom-ca-certs'] as ClusterSettings['customCaCerts'];
  return out;
}

/** The AZ names of a compute profile given as a JSON string; undefined when it is not one. */
export function computeProfileAzs(profile: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(profile);
  } catch {
    return undefined;
  }
  const azs = isObject(parsed) && isObject(parsed.parameters) ? parsed.parameters.azs : undefined;
  if (!Array.isArray(azs) || azs.length === 0) return undefined;
  const names = azs.map((az: unknown) => (isObject(az) && typeof az.name === 'string' ? az.name : undefined));
  return names.every((n): n is string => n !== undefined && n !== '') ? names : undefined;
}

/** The plan's drain settings with the cluster's overrides applied, typed. */
function effectiveDrain(props: PlanProperties, overrides: ClusterSettings['drainOverrides']) {
  const num = (name: DrainSettingName, fallback: number) =>
    overrides[name] !== undefined ? Number(overrides[name]) : fallback;
  const bool = (name: DrainSettingName, fallback: boolean) =>
    overrides[name] !== undefined ? overrides[name] === 'true' : fallback;
  return {
    timeout: num('kubelet_drain_timeout', props.kubelet_drain_timeout),
    'grace-period': num('kubelet_drain_grace_period', props.kubelet_drain_grace_period),
    force: bool('kubelet_drain_force', props.kubelet_drain_force),
    'ignore-daemonsets': bool('kubelet_drain_ignore_daemonsets', props.kubelet_drain_ignore_daemonsets),
    'delete-local-data': bool('kubelet_drain_delete_local_data', props.kubelet_drain_delete_local_data),
    'force-node': bool('kubelet_drain_force_node', props.kubelet_drain_force_node),
  };
}

function releaseOf(deployment: ServiceDeployment, job: string): string {
  const release = deployment.releases.find((r) => r.jobs.includes(job));
  if (release === undefined) {
    throw new InputError(
      'service_deployment.releases',
      `no release in the service deployment provides job '${job}'`,
    );
  }
  return release.name;
}

function renderManifest(deployment: ServiceDeployment, plan: OdbPlan, settings: ClusterSettings): Obj {
  const props = plan.properties;
  const master = groupOf(plan, 'master');
  const worker = groupOf(plan, 'worker');
  const job = (name: string, properties?: Obj) => ({
    name,
    release: releaseOf(deployment, name),
    ...(properties !== undefined ? { properties } : {}),
  });
  const drain = effectiveDrain(props, settings.drainOverrides);
  // A compute profile places every instance group, errands included, in its AZs instead of the plan's.
  const profileAzs =
    settings.computeProfile === undefined ? undefined : computeProfileAzs(settings.computeProfile);
  const stemcell = deployment.stemcells[0];
  if (stemcell === undefined)
    throw new InputError('service_deployment.stemcells', 'the service deployment names no stemcell');

  // A worker drains before BOSH stops it: the watch window must outlast the drain timeout (0 = no limit,
  // in which case BOSH's own ceiling applies), or BOSH would call a slow drain a failure.
  const drainMs = drain.timeout > 0 ? drain.timeout * 60_000 : 0;
  const watch = `10000-${300_000 + drainMs}`;
  const admissionPlugins = [
    ...(props.admission_plugins.pod_security_policy ? ['PodSecurityPolicy'] : []),
    ...(props.admission_plugins.deny_escalating_exec ? ['DenyEscalatingExec'] : []),
    ...(props.admission_plugins.security_context_deny ? ['SecurityContextDeny'] : []),
  ];
  const oidc = props.oidc;
  const usedJobs = [
    'bpm',
    'flanneld',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kubernetes-roles',
    'etcd',
    'docker',
    'kubernetes-dependencies',
    'kubelet',
    'kube-proxy',
    'apply-specs',
    'drain-cluster',
  ];
  const usedReleases = new Set(usedJobs.map((name) => releaseOf(deployment, name)));
  const errandGroup = (name: string, jobs: Obj[]) => {
    const group = plan.instance_groups.find((g) => g.name === name);
    return {
      name,
      lifecycle: 'errand',
      instances: 1,
      azs: profileAzs !== undefined ? [profileAzs[0]!] : (group?.azs ?? [master.azs[0] ?? 'z1']),
      networks: (group?.networks ?? master.networks).map((n) => ({ name: n })),
      stemcell: 'default',
      vm_type: group?.vm_type ?? master.vm_type,
      jobs,
    };
  };

  return {
    name: deployment.deployment_name,
    releases: deployment.releases
      .filter((r) => usedReleases.has(r.name))
      .map((r) => ({ name: r.name, version: r.version })),
    stemcells: [
      {
        alias: 'default',
        os: stemcell.stemcell_os,
        version: stemcell.stemcell_version,
      },
    ],
    update: {
      canaries: plan.update?.canaries ?? 1,
      max_in_flight: plan.update?.max_in_flight ?? 1,
      canary_watch_time: watch,
      update_watch_time: watch,
      serial: true,
    },
    instance_groups: [
      {
        name: 'master',
        instances: master.instances,
        azs: profileAzs ?? master.azs,
        networks: master.networks.map((n) => ({ name: n })),
        stemcell: 'default',
        vm_type: master.vm_type,
        ...(master.persistent_disk_type ? { persistent_disk_type: master.persistent_disk_type } : {}),
        // Masters one at a time: etcd keeps its quorum while a member restarts.
        update: { max_in_flight: 1, serial: true },
        jobs: [
          job('bpm'),
          job('flanneld'),
          job('kube-apiserver', {
            'external-hostname': settings.masterHost,
            port: settings.masterPort,
            'authorization-mode': settings.authorizationMode,
            'allow-privileged': props.allow_privileged_containers,
            'admission-plugins': admissionPlugins,
            'service-cluster-cidr': SERVICE_CLUSTER_CIDR,
            'admin-password': '((kubo-admin-password))',
            'service-account-public-key': '((service-account-key.public_key))',
            tls: { kubernetes: '((tls-kubernetes))', 'kubelet-client': '((tls-kubelet-client))' },
            ...(props.client_ca !== undefined ? { 'client-ca': props.client_ca } : {}),
            oidc: {
              'issuer-url': oidc.issuer_url,
              'client-id': oidc.client_id,
              'username-claim': oidc.username_claim,
              'username-prefix': oidc.username_prefix,
              'groups-claim': oidc.groups_claim,
              'groups-prefix': oidc.groups_prefix,
              ...(oidc.ca !== undefined ? { ca: oidc.ca } : {}),
            },
            ...(settings.networkProfile !== undefined ? { 'network-profile': settings.networkProfile } : {}),
            ...(settings.networkDetails !== undefined ? { 'network-details': settings.networkDetails } : {}),
            ...(settings.computeProfile !== undefined ? { 'compute-profile': settings.computeProfile } : {}),
          }),
          job('kube-controller-manager', {
            'service-account-private-key': '((service-account-key.private_key))',
            'cluster-signing': '((kubo_ca))',
          }),
          job('kube-scheduler'),
          job('kubernetes-roles', { 'admin-password': '((kubo-admin-password))' }),
          job('etcd', {
            tls: { etcd: '((tls-etcd-server))', etcdctl: '((tls-etcd-client))' },
          }),
        ],
      },
      {
        name: 'worker',
        instances: settings.workerInstances,
        azs: profileAzs ?? worker.azs,
        networks: worker.networks.map((n) => ({ name: n })),
        stemcell: 'default',
        vm_type: worker.vm_type,
        ...(worker.persistent_disk_type ? { persistent_disk_type: worker.persistent_disk_type } : {}),
        update: { max_in_flight: props.worker_max_in_flight, serial: true },
        jobs: [
          job('flanneld'),
          job(
            'docker',
            settings.customCaCerts !== undefined ? { 'custom-ca-certs': settings.customCaCerts } : {},
          ),
          job('kubernetes-dependencies'),
          job('kubelet', {
            tls: { kubelet: '((tls-kubelet))', kubernetes: '((tls-kubernetes))' },
            'allow-privileged': props.allow_privileged_containers,
            'system-reserved': props.kubelet_system_reserved,
            'eviction-hard': props.kubelet_eviction_hard,
            drain: { ...drain, 'cluster-overrides': settings.drainOverrides },
            ...(settings.haproxyIpAddresses !== undefined
              ? { 'haproxy-ip-addresses': settings.haproxyIpAddresses }
              : {}),
            ...(settings.customization !== undefined ? { customization: settings.customization } : {}),
          }),
          job('kube-proxy', { 'api-server': `https://${MASTER_INTERNAL_NAME}:${settings.masterPort}` }),
        ],
      },
      errandGroup(POST_DEPLOY_ERRAND, [
        job('apply-specs', {
          'addons-spec': props.addons_spec,
          'admin-password': '((kubo-admin-password))',
          'api-server': `https://${MASTER_INTERNAL_NAME}:${settings.masterPort}`,
        }),
      ]),
      errandGroup(PRE_DELETE_ERRAND, [
        job('drain-cluster', {
          'admin-password': '((kubo-admin-password))',
          'api-server': `https://${MASTER_INTERNAL_NAME}:${settings.masterPort}`,
        }),
      ]),
    ],
    variables: [
      { name: 'kubo-admin-password', type: 'password' },
      { name: 'kubo_ca', type: 'certificate', options: { is_ca: true, common_name: 'ca' } },
      {
        name: 'tls-kubernetes',
        type: 'certificate',
        options: {
          ca: 'kubo_ca',
          common_name: settings.masterHost,
          alternative_names: [
            settings.masterHost,
            SERVICE_CLUSTER_IP,
            'kubernetes',
            'kubernetes.default',
            'kubernetes.default.svc',
            'kubernetes.default.svc.cluster.local',
            MASTER_INTERNAL_NAME,
          ],
          extended_key_usage: ['server_auth'],
        },
        // The masters' IPs are known only once BOSH places them: BOSH adds each instance's address
        // from the link to the certificate's SANs.
        consumes: { alternative_name: { from: 'kube-apiserver' } },
      },
      {
        name: 'tls-kubelet',
        type: 'certificate',
        options: {
          ca: 'kubo_ca',
          common_name: 'kubelet.cfcr.internal',
          organization: 'system:nodes',
          extended_key_usage: ['server_auth', 'client_auth'],
        },
        consumes: { alternative_name: { from: 'kubelet' } },
      },
      {
        name: 'tls-kubelet-client',
        type: 'certificate',
        options: {
          ca: 'kubo_ca',
          common_name: 'kube-apiserver.cfcr.internal',
          organization: 'system:masters',
          extended_key_usage: ['client_auth'],
        },
      },
      { name: 'etcd_ca', type: 'certificate', options: { is_ca: true, common_name: 'etcd.ca' } },
      {
        name: 'tls-etcd-server',
        type: 'certificate',
        options: {
          ca: 'etcd_ca',
          common_name: 'master.etcd.cfcr.internal',
          alternative_names: ['master.etcd.cfcr.internal', '*.etcd.cfcr.internal'],
          extended_key_usage: ['server_auth', 'client_auth'],
        },
      },
      {
        name: 'tls-etcd-client',
        type: 'certificate',
        options: { ca: 'etcd_ca', common_name: 'etcdClient', extended_key_usage: ['client_auth'] },
      },
      { name: 'service-account-key', type: 'rsa' },
    ],
    features: { use_dns_addresses: true },
    tags: { 'pks-plan': props.plan_name },
  };
}
