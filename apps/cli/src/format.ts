import type {
  ClusterDetailsView,
  ClusterObservationView,
  ClusterView,
  FeedEventView,
  NetworkProfileView,
  PlanView,
  TaskView,
  UsageView,
} from './operations.js';

// `--json` speaks the PKS v1 REST models (PKS-REFERENCE §2) so scripts written for PKS keep working.

export function clusterJson(c: ClusterView | ClusterDetailsView): Record<string, unknown> {
  const details = 'nsxDetails' in c ? c : undefined;
  return {
    name: c.name,
    plan_name: c.planName,
    last_action: c.lastAction,
    last_action_state: c.lastActionState,
    last_action_description: c.lastActionDescription,
    uuid: c.uuid,
    kubernetes_master_ips: c.kubernetesMasterIps.length ? c.kubernetesMasterIps : ['In Progress'],
    network_profile_name: c.networkProfileName ?? '',
    compute_profile_name: '',
    pks_version: c.pksVersion,
    k8s_version: c.k8sVersion ?? '',
    parameters: {
      kubernetes_master_host: c.kubernetesMasterHost,
      kubernetes_master_port: c.kubernetesMasterPort,
      kubernetes_worker_instances: c.workerInstances,
      ...(details?.nsxDetails ? { nsxt_network_details: snakeKeys(details.nsxDetails) } : {}),
      ...(details?.drain ? { kubernetes_setting_cluster_details: snakeKeys(details.drain) } : {}),
    },
  };
}

export function planJson(p: PlanView): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    worker_instances: p.workerInstances,
    master_instances: p.masterInstances,
    // PKS's JSON really uses hyphens for this one key.
    'allow-privileged-containers': p.allowPrivilegedContainers,
  };
}

/** GB without float noise: 0.5, 12, 31.25. */
export function gb(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** One VM of a plan's instance group, as its VM type sizes it: "2 CPU, 4 GB". */
function vmSize(cpu: number, memory: number): string {
  return `${cpu} CPU, ${gb(memory)} GB`;
}

/** `pks plans`: PKS's columns, with each plan's masters and workers and what each VM of them is given. */
export function plansTable(plans: readonly PlanView[]): string {
  return table(
    ['Name', 'ID', 'Masters', 'Workers', 'Description'],
    plans.map((p) => [
      p.name,
      p.id,
      `${p.masterInstances} × ${vmSize(p.masterCpu, p.masterMemory)}`,
      `${p.workerInstances} × ${vmSize(p.workerCpu, p.workerMemory)}`,
      p.description,
    ]),
  );
}

/** `pks plan`: one plan with its VM types. */
export function planBlock(p: PlanView): string {
  return labels([
    ['Name', p.name],
    ['ID', p.id],
    ['Description', p.description],
    ['Master Instances', String(p.masterInstances)],
    ['Master VM Type', `${p.masterVmType} (${vmSize(p.masterCpu, p.masterMemory)})`],
    ['Worker Instances', `${p.workerInstances} (at most ${p.maxWorkerInstances})`],
    ['Worker VM Type', `${p.workerVmType} (${vmSize(p.workerCpu, p.workerMemory)})`],
    ['Allow Privileged', String(p.allowPrivilegedContainers)],
  ]);
}

/** PKS's usage model (`/v1/usages/{owner}`), with the owner's limit (null when they have no quota). */
export function usageJson(u: UsageView): Record<string, unknown> {
  return {
    owner: u.owner,
    totals: { cpu: u.totals.cpu, memory: u.totals.memory, cluster: u.totals.cluster },
    clusters: u.clusters.map((c) => ({ name: c.name, cpu: c.cpu, memory: c.memory })),
    // As PKS's quota model: an unlimited field is left out, not null.
    limit: u.limit && {
      ...(u.limit.cpu !== null && { cpu: u.limit.cpu }),
      ...(u.limit.memory !== null && { memory: u.limit.memory }),
      ...(u.limit.cluster !== null && { cluster: u.limit.cluster }),
    },
  };
}

/** `pks usage`: the totals against the limits, then each cluster's share. */
export function usageBlock(u: UsageView): string {
  // Without a quota the usage alone; with one, a resource it leaves unlimited says so.
  const of = (used: string, limit: number | null | undefined, show: (n: number) => string = String) =>
    limit === undefined ? used : limit === null ? `${used} (no limit)` : `${used} of ${show(limit)}`;
  const l = u.limit ?? undefined;
  let out = labels([
    ['Owner', u.owner],
    ['Quota', u.limit ? 'set' : 'none (no limits)'],
    ['Clusters', of(String(u.totals.cluster), l?.cluster)],
    ['CPU', of(String(u.totals.cpu), l?.cpu)],
    ['Memory (GB)', of(gb(u.totals.memory), l?.memory, gb)],
  ]);
  if (u.clusters.length > 0) {
    out += `
${table(
  ['Name', 'Plan Name', 'Workers', 'CPU', 'Memory (GB)'],
  u.clusters.map((c) => [c.name, c.planName, String(c.workerInstances), String(c.cpu), gb(c.memory)]),
)}`;
  }
  return out;
}

export function networkProfileJson(n: NetworkProfileView): Record<string, unknown> {
  return { name: n.name, description: n.description, parameters: n.parameters };
}

const epoch = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

export function taskJson(t: TaskView): Record<string, unknown> {
  return {
    uuid: t.id,
    type: t.type,
    status: t.status,
    start_time: epoch(t.createdAt),
    end_time: epoch(t.finishedAt),
    clusters: t.clusters.map((c) => ({
      cluster_name: c.clusterName,
      last_action: 'UPGRADE',
      last_action_state: c.lastActionState,
      start_time: epoch(c.startedAt),
      end_time: epoch(c.finishedAt),
      is_canary: c.isCanary,
    })),
  };
}

function snakeKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), v]),
  );
}

export const json = (value: unknown) => `${JSON.stringify(value, null, 4)}\n`;

/** The width of each column of a table of `rows` under `headers`. */
export function columnWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** One line of a table with columns `widths` wide (the last one is not padded). */
export function tableLine(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** A PKS-style table: left-aligned columns two spaces apart, headers as PKS prints them. */
export function table(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  return `${[tableLine(headers, widths), ...rows.map((r) => tableLine(r, widths))].join('\n')}\n`;
}

/** `pks clusters`'s columns, as PKS 1.6 prints them. */
export const CLUSTERS_HEADERS = [
  'PKS Version',
  'Name',
  'k8s Version',
  'Plan Name',
  'UUID',
  'Status',
  'Action',
];

/** A cluster's row under CLUSTERS_HEADERS; a watch passes the status and action of the change it shows. */
export function clusterRow(
  c: ClusterView,
  status: string = c.lastActionState,
  action: string = c.lastAction,
): string[] {
  return [c.pksVersion, c.name, c.k8sVersion ?? '', c.planName, c.uuid, status, action];
}

/** `pks clusters`: PKS 1.6's banner when any cluster runs an older version than the installation, then the table. */
export function clustersTable(clusters: readonly ClusterView[], pksVersion: string): string {
  const behind = clusters.some((c) => c.pksVersion !== pksVersion);
  return `${behind ? `\nUpgrade is available to PKS Version: ${pksVersion}\n` : ''}\n${table(
    CLUSTERS_HEADERS,
    clusters.map((c) => clusterRow(c)),
  )}`;
}

/** A fleet-feed event (state change or Director progress) in `--json`'s snake_case. */
export function feedEventJson(e: FeedEventView): Record<string, unknown> {
  return snakeKeys(e);
}

/** Label/value lines aligned like `pks cluster`. */
export function labels(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([l]) => l.length)) + 2;
  return `${pairs.map(([l, v]) => `${`${l}:`.padEnd(width)}${v}`.trimEnd()).join('\n')}\n`;
}

/**
 * `pks cluster`: PKS's labels; when the cluster was read with its status and it differs from what was
 * asked, the worker line says how many run, and every condition that does not hold follows with why.
 */
export function clusterBlock(c: ClusterView & Partial<ClusterObservationView>): string {
  const running = c.status?.observedAt ? c.status.workerInstances : undefined;
  const workers =
    running !== undefined && running !== c.workerInstances
      ? `${c.workerInstances} (${running} running)`
      : String(c.workerInstances);
  const unmet = (c.conditions ?? []).filter((condition) => condition.status === 'False');
  const block = labels([
    ['PKS Version', c.pksVersion],
    ['Name', c.name],
    ['K8s Version', c.k8sVersion ?? ''],
    ['Plan Name', c.planName],
    ['UUID', c.uuid],
    ['Last Action', c.lastAction],
    ['Last Action State', c.lastActionState],
    ['Last Action Description', c.lastActionDescription],
    ['Kubernetes Master Host', c.kubernetesMasterHost],
    ['Kubernetes Master Port', String(c.kubernetesMasterPort)],
    ['Worker Nodes', workers],
    [
      'Kubernetes Master IP(s)',
      c.kubernetesMasterIps.length ? c.kubernetesMasterIps.join(', ') : 'In Progress',
    ],
    ['Network Profile Name', c.networkProfileName ?? ''],
  ]);
  if (unmet.length === 0) return block;
  return `${block}Conditions Not Met:\n${unmet.map((u) => `  ${u.type} (${u.reason}): ${u.message}`).join('\n')}\n`;
}

export function clusterDetailsBlock(c: ClusterDetailsView, plan: PlanView | undefined): string {
  const n = c.nsxDetails;
  const v = (x: unknown) => (x === null || x === undefined ? '' : Array.isArray(x) ? x.join(',') : String(x));
  const nsx = [
    ['lb_size', n?.lbSize],
    ['nodes_dns', n?.nodesDns],
    ['node_routable', n?.nodeRoutable],
    ['node_subnet_prefix', n?.nodeSubnetPrefix],
    ['pod_routable', n?.podRoutable],
    ['pod_subnet_prefix', n?.podSubnetPrefix],
    ['master_vms_nsgroup_id', undefined],
    ['t0_router_id', n?.t0RouterId],
    ['fip_pool_ids', n?.fipPoolIds],
    ['node_ip_block_ids', n?.nodeIpBlockIds],
    ['pod_ip_block_ids', n?.podIpBlockIds],
  ] as const;
  const d = plan?.drain;
  const cluster = (c.drain ?? {}) as Record<string, unknown>;
  const drain = [
    ['kubelet-drain-timeout', d?.kubeletDrainTimeout, cluster.kubeletDrainTimeout],
    ['kubelet-drain-grace-period', d?.kubeletDrainGracePeriod, cluster.kubeletDrainGracePeriod],
    ['kubelet-drain-force', d?.kubeletDrainForce, cluster.kubeletDrainForce],
    [
      'kubelet-drain-ignore-daemonsets',
      d?.kubeletDrainIgnoreDaemonsets,
      cluster.kubeletDrainIgnoreDaemonsets,
    ],
    ['kubelet-drain-delete-local-data', d?.kubeletDrainDeleteLocalData, cluster.kubeletDrainDeleteLocalData],
    ['kubelet-drain-force-node', d?.kubeletDrainForceNode, cluster.kubeletDrainForceNode],
  ] as const;
  const setByCluster = drain.filter(([, , x]) => x !== undefined && x !== null);
  let out = clusterBlock(c);
  out += '\nNSXT Network Details:\n';
  out += nsx.map(([k, x]) => `  ${k}: ${v(x)}`.trimEnd()).join('\n');
  out += '\n\nKubernetes Settings Details:\n  Set by Plan:\n';
  out += drain.map(([k, x]) => `    ${k}: ${v(x)}`).join('\n');
  if (setByCluster.length) {
    out += '\n  Set by Cluster:\n';
    out += setByCluster.map(([k, , x]) => `    ${k}: ${v(x)}`).join('\n');
  }
  return `${out}\n`;
}
