/**
 * The ODB service-adapter contract (pivotal-cf/on-demand-services-sdk `serviceadapter`), in the JSON shapes
 * ODB writes on stdin. Field names are ODB's, so the same objects serve the library and the executable.
 */

export interface ServiceRelease {
  name: string;
  version: string;
  jobs: string[];
}

export interface Stemcell {
  stemcell_os: string;
  stemcell_version: string;
  stemcell_name?: string;
}

export interface ServiceDeployment {
  /** `service-instance_<instance id>`; the generated manifest's `name` must equal it. */
  deployment_name: string;
  releases: ServiceRelease[];
  stemcells: Stemcell[];
}

export interface OdbInstanceGroup {
  name: string;
  vm_type: string;
  vm_extensions?: string[];
  persistent_disk_type?: string;
  instances: number;
  networks: string[];
  azs: string[];
  lifecycle?: string;
  migrated_from?: { name: string; az?: string }[];
}

export interface OdbUpdate {
  canaries: number;
  canary_watch_time: string;
  update_watch_time: string;
  max_in_flight: number | string;
  serial?: boolean;
}

export interface LifecycleErrand {
  name: string;
  instances?: string[];
}

/**
 * An ODB plan. `properties` carries what the PKS tile puts into every plan: the plan's own settings and the
 * installation-wide ones (UAA as OIDC issuer), because ODB hands the adapter nothing else.
 */
export interface OdbPlan {
  instance_groups: OdbInstanceGroup[];
  properties: PlanProperties;
  update?: OdbUpdate;
  lifecycle_errands?: { post_deploy?: LifecycleErrand[]; pre_delete?: LifecycleErrand[] };
}

/** PKS settings of a plan as they travel in `plan.properties` (snake_case, as pks.yaml and the tile). */
export interface PlanProperties {
  plan_id: string;
  plan_name: string;
  max_worker_instances: number;
  worker_max_in_flight: number;
  allow_privileged_containers: boolean;
  admission_plugins: {
    pod_security_policy: boolean;
    deny_escalating_exec: boolean;
    security_context_deny: boolean;
  };
  kubelet_system_reserved: string;
  kubelet_eviction_hard: string;
  kubelet_drain_timeout: number;
  kubelet_drain_grace_period: number;
  kubelet_drain_force: boolean;
  kubelet_drain_ignore_daemonsets: boolean;
  kubelet_drain_delete_local_data: boolean;
  kubelet_drain_force_node: boolean;
  addons_spec: string;
  oidc: OidcSettings;
  /**
   * PEM of the broker's client CA, which clusters trust beside kubo_ca for client certificates (the
   * apiserver's --client-ca-file): the broker's own admin access and bindings made without OIDC.
   */
  client_ca?: string;
}

/** How created clusters trust UAA (PKS-REFERENCE §3, "Configure created clusters to use UAA as the OIDC provider"). */
export interface OidcSettings {
  /** `https://<PKS-API>:8443/oauth/token`, the `iss` of UAA's tokens. */
  issuer_url: string;
  client_id: string;
  username_claim: string;
  username_prefix: string;
  groups_claim: string;
  groups_prefix: string;
  /** PEM of the CA that signed UAA's certificate, so the apiserver can fetch UAA's keys. */
  ca?: string;
}

/**
 * The cluster parameters the PKS API sends in an OSB request's `parameters` (PKS-REFERENCE §2
 * ClusterParameters, plus the drain settings of UpdateClusterParameters). All optional on update.
 */
export interface ClusterParameters {
  kubernetes_master_host?: string;
  kubernetes_master_port?: number;
  kubernetes_worker_instances?: number;
  /** Masters are fixed by the plan; sent only to be rejected when it differs. */
  kubernetes_master_instances?: number;
  authorization_mode?: string;
  worker_haproxy_ip_addresses?: string;
  nsxt_network_profile?: string;
  nsxt_network_details?: Record<string, unknown>;
  /** The compute profile as a JSON string (`{name, parameters: {azs: [{name, …}]}}`): the AZs to place VMs in. */
  compute_profile?: string;
  kubernetes_setting_cluster_details?: Partial<Record<DrainSettingName, string>>;
  k8s_customization_parameters?: Record<string, unknown>;
  custom_ca_certs?: { domain_name: string; ca_cert: string }[];
}

export const DRAIN_SETTING_NAMES = [
  'kubelet_drain_timeout',
  'kubelet_drain_grace_period',
  'kubelet_drain_force',
  'kubelet_drain_ignore_daemonsets',
  'kubelet_drain_delete_local_data',
  'kubelet_drain_force_node',
] as const;
export type DrainSettingName = (typeof DRAIN_SETTING_NAMES)[number];

/** The OSB request body as ODB forwards it (`request_parameters`); null for upgrades. */
export interface RequestParameters {
  plan_id?: string;
  service_id?: string;
  parameters?: Record<string, unknown>;
  context?: Record<string, unknown>;
  organization_guid?: string;
  space_guid?: string;
  bind_resource?: { app_guid?: string; route?: string };
  previous_values?: { plan_id?: string };
}

export interface GenerateManifestParams {
  serviceDeployment: ServiceDeployment;
  plan: OdbPlan;
  requestParams: RequestParameters | null;
  /** YAML of the deployed manifest; undefined (or empty) on create. */
  previousManifest?: string | undefined;
  previousPlan?: OdbPlan | null | undefined;
}

export interface GeneratedManifest {
  manifest: string;
  secrets?: Record<string, string>;
  configs?: Record<string, string>;
  labels?: Record<string, string>;
}

/** The result of an errand-free BOSH VM listing: instance group → IPs (ODB's `bosh_vms`). */
export type BoshVms = Record<string, string[]>;

export interface CreateBindingParams {
  bindingId: string;
  boshVms: BoshVms;
  manifest: string;
  requestParams: RequestParameters;
  /**
   * Values of the manifest's config-server variables, keyed `((name))` as ODB's `resolve_secrets_at_bind`
   * passes them; the cluster CA comes from `((kubo_ca))`.
   */
  secrets: Record<string, string>;
  dnsAddresses?: Record<string, string>;
}

export interface Binding {
  credentials: Record<string, unknown>;
  syslog_drain_url?: string;
  route_service_url?: string;
  backup_agent_url?: string;
}

export interface PlanSchemas {
  service_instance: {
    create: { parameters: Record<string, unknown> };
    update: { parameters: Record<string, unknown> };
  };
  service_binding: { create: { parameters: Record<string, unknown> } };
}
