import { createHash, randomUUID } from 'node:crypto';
import {
  Lifecycle,
  maxInFlightOf,
  type InstanceGroup,
  type Job,
  type Manifest,
  type UpdatePolicy,
} from '../../manifest/manifest.js';
import type { InstanceRow } from '../store/deploymentStore.js';
import { interpolate, type VariableValue } from '../variables.js';

/**
 * What a deploy decides before it touches anything: which instances a manifest wants and which must go,
 * what each group's instances should run, what makes an instance change (and whether it needs a new VM
 * or disk), the order groups update in, and the update policy of this deploy. Pure: no CPI, no database.
 */

/** `POST /deployments`' options (the task's params). */
export interface DeployParams {
  manifest: string;
  recreate?: boolean;
  fix?: boolean;
  dryRun?: boolean;
  skipDrain?: boolean;
  /** Overrides of the manifest's update block for this deploy (`?canaries=`, `?max_in_flight=`). */
  canaries?: number;
  maxInFlight?: string;
}

/** Only job names are stored: interpolated properties hold secrets, which live sealed in variables. */
export function stripJobs(jobs: readonly Job[]): Job[] {
  return jobs.map((job) => ({ name: job.name, release: job.release, properties: {} }));
}

/** A group's jobs with their properties interpolated from the deployment's variables. */
export function desiredJobs(
  group: InstanceGroup,
  values: Map<string, VariableValue>,
  deployment: string,
): Job[] {
  return interpolate(group.jobs, values, deployment) as Job[];
}

/** The stemcell a group runs, as instances record it: `os/version` (or `name/version`). */
export function stemcellOf(manifest: Manifest, group: InstanceGroup): string {
  const stemcell = manifest.stemcells.find((s) => s.alias === group.stemcell)!;
  return `${stemcell.os ?? stemcell.name}/${stemcell.version}`;
}

/** What a VM is made with: a change recreates it. */
export function vmHash(group: InstanceGroup, stemcell: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        vmType: group.vmType,
        vmExtensions: group.vmExtensions,
        stemcell,
        networks: group.networks,
        env: group.env,
      }),
    )
    .digest('hex');
}

/** What a persistent disk is made with: a change migrates it to a new disk. */
export function diskHash(group: InstanceGroup): string | null {
  return group.persistentDisk > 0 ? `${group.persistentDisk}/${group.persistentDiskType ?? ''}` : null;
}

function configHash(group: InstanceGroup, jobs: Job[]): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        jobs,
        vmType: group.vmType,
        networks: group.networks,
        disk: group.persistentDisk,
        env: group.env,
      }),
    )
    .digest('hex');
}

/** A new instance's row, before it has a VM. */
export function newInstance(
  deployment: string,
  group: InstanceGroup,
  index: number,
  lifecycle: string,
  jobs: Job[] = [],
): InstanceRow {
  return {
    deployment,
    instance_group: group.name,
    index,
    uuid: randomUUID(),
    az: group.azs.length > 0 ? group.azs[index % group.azs.length]! : null,
    lifecycle,
    state: 'started',
    vm_cid: null,
    agent_id: null,
    ips: [],
    disk_cid: null,
    stemcell: null,
    config_hash: null,
    bootstrap: index === 0,
    jobs,
    vm_created_at: null,
    vm_hash: null,
    disk_hash: null,
  };
}

/**
 * The instances a manifest no longer wants, highest index first: scale-down removes the highest
 * indexes; groups gone from the manifest (or now errands) go entirely.
 */
export function obsoleteInstances(manifest: Manifest, existing: readonly InstanceRow[]): InstanceRow[] {
  const byName = new Map(
    manifest.instanceGroups.filter((g) => g.lifecycle === Lifecycle.SERVICE).map((g) => [g.name, g]),
  );
  return existing
    .filter((row) => {
      const group = byName.get(row.instance_group);
      return group === undefined || row.index >= group.instances;
    })
    .filter(
      (row) =>
        row.lifecycle === Lifecycle.SERVICE ||
        !manifest.instanceGroups.some((g) => g.name === row.instance_group),
    )
    .sort((a, b) => b.index - a.index);
}

/** The instances the service groups should have: existing rows kept, new rows for missing indexes. */
export function plannedInstances(
  deployment: string,
  serviceGroups: readonly InstanceGroup[],
  existing: readonly InstanceRow[],
): { row: InstanceRow; group: InstanceGroup }[] {
  const current = new Map(existing.map((row) => [`${row.instance_group}/${row.index}`, row]));
  return serviceGroups.flatMap((group) =>
    Array.from({ length: group.instances }, (_, index) => ({
      row: current.get(`${group.name}/${index}`) ?? newInstance(deployment, group, index, Lifecycle.SERVICE),
      group,
    })),
  );
}

/** Groups update in manifest order; consecutive `serial: false` groups go together. */
export function updateBatches(serviceGroups: readonly InstanceGroup[]): InstanceGroup[][] {
  const batches: InstanceGroup[][] = [];
  for (const group of serviceGroups) {
    const last = batches.at(-1);
    if (!group.update.serial && last && last.every((g) => !g.update.serial)) last.push(group);
    else batches.push([group]);
  }
  return batches;
}

/**
 * The addresses of the deployment's links, for variables that consume them: each job provides a link
 * named after itself (kubo's jobs name their links so) and any it lists under `provides` (or their `as`).
 */
export function linkAddresses(manifest: Manifest, rows: readonly InstanceRow[]): Map<string, string[]> {
  const links = new Map<string, string[]>();
  for (const group of manifest.instanceGroups) {
    if (group.lifecycle !== Lifecycle.SERVICE) continue;
    const ips = rows
      .filter((row) => row.instance_group === group.name && row.index < group.instances)
      .sort((a, b) => a.index - b.index)
      .flatMap((row) => row.ips);
    for (const job of group.jobs) {
      const names = new Set([job.name]);
      for (const [name, link] of Object.entries(job.provides ?? {})) {
        const as = typeof link === 'object' && link !== null ? (link as { as?: unknown }).as : undefined;
        names.add(typeof as === 'string' ? as : name);
      }
      for (const name of names) links.set(name, [...(links.get(name) ?? []), ...ips]);
    }
  }
  return links;
}

/** What one group's instances should be, and how to tell which of them must change and how. */
export interface GroupTarget {
  jobs: Job[];
  configHash: string;
  stemcell: string;
  vmHash: string;
  diskHash: string | null;
  /** A VM made with another vm_type, stemcell, network or env (or `recreate`): a new VM. */
  needsNewVm(row: InstanceRow): boolean;
  /** A persistent disk of another size or type: migrated to a new disk. */
  needsNewDisk(row: InstanceRow): boolean;
  /** Anything to do for this instance at all. */
  changes(row: InstanceRow): boolean;
  /** The update policy of this deploy: the group's, with the deploy's overrides. */
  policy: UpdatePolicy;
  maxInFlight: number;
}

export function groupTarget(
  manifest: Manifest,
  group: InstanceGroup,
  values: Map<string, VariableValue>,
  params: DeployParams,
): GroupTarget {
  const jobs = desiredJobs(group, values, manifest.name);
  const hash = configHash(group, jobs);
  const stemcell = stemcellOf(manifest, group);
  const vm = vmHash(group, stemcell);
  const disk = diskHash(group);
  // Rows from before vm_hash was recorded compare the stemcell only.
  const needsNewVm = (row: InstanceRow) =>
    row.vm_cid !== null &&
    (params.recreate === true ||
      (row.vm_hash !== null
        ? row.vm_hash !== vm
        : row.stemcell !== null && row.stemcell !== stemcell && row.config_hash !== null));
  const needsNewDisk = (row: InstanceRow) =>
    row.disk_cid !== null && disk !== null && row.disk_hash !== null && row.disk_hash !== disk;
  const policy = {
    ...group.update,
    ...(params.canaries !== undefined ? { canaries: params.canaries } : {}),
    ...(params.maxInFlight !== undefined ? { maxInFlight: params.maxInFlight } : {}),
  };
  return {
    jobs,
    configHash: hash,
    stemcell,
    vmHash: vm,
    diskHash: disk,
    needsNewVm,
    needsNewDisk,
    changes: (row) =>
      params.recreate === true ||
      row.config_hash !== hash ||
      row.stemcell !== stemcell ||
      row.state !== 'started' ||
      needsNewVm(row) ||
      needsNewDisk(row),
    policy,
    maxInFlight: maxInFlightOf(policy, group.instances),
  };
}
