import { createHash, randomUUID } from 'node:crypto';
import type { Database } from '@openpks/db';
import { InputError, NotFoundError } from '@openpks/domain';
import type { Agent, AgentInstance } from '../cpi/agent.js';
import { CpiError, CpiTimeoutError, type Cpi } from '../cpi/cpi.js';
import {
  Lifecycle,
  maxInFlightOf,
  parseManifest,
  type InstanceGroup,
  type Job,
  type Manifest,
} from '../manifest/manifest.js';
import { EventStore } from './events.js';
import { Interrupted, isInterruption } from './interruptions.js';
import type { TaskContext } from './runner.js';
import { interpolate, type VariableStore, type VariableValue } from './variables.js';

export interface InstanceRow {
  deployment: string;
  instance_group: string;
  index: number;
  uuid: string;
  az: string | null;
  lifecycle: string;
  state: string;
  vm_cid: string | null;
  agent_id: string | null;
  ips: string[];
  disk_cid: string | null;
  stemcell: string | null;
  config_hash: string | null;
  bootstrap: boolean;
  jobs: Job[];
  vm_created_at: Date | null;
  /** What the VM was created with (vm_type, extensions, stemcell, networks, env); null before 0002. */
  vm_hash: string | null;
  /** The persistent disk's size and type; null without a disk (or before 0002). */
  disk_hash: string | null;
}

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

export interface DeployerOptions {
  directorName: string;
  /** Upper bound of CPI calls of one stage running at once (BOSH's max_threads). */
  maxThreads: number;
  /** A CPI call that does not answer within this ends the task `timeout`. */
  cpiTimeoutMs: number;
  /** Register releases and stemcells a manifest names but nobody uploaded (with a warning), instead of failing. */
  autoRegisterArtifacts: boolean;
}

const INSTANCE_COLUMNS =
  'deployment, instance_group, index, uuid, az, lifecycle, state, vm_cid, agent_id, ips, disk_cid, stemcell, config_hash, bootstrap, jobs, vm_created_at, vm_hash, disk_hash';

/** Runs `fn` over `items` with at most `limit` at once; every item runs, the first failure is rethrown after. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const interrupted = errors.find((e) => e instanceof Interrupted);
  if (interrupted) throw interrupted;
  if (errors.length > 0) throw errors[0];
}

function stripJobs(jobs: readonly Job[]): Job[] {
  return jobs.map((job) => ({ name: job.name, release: job.release, properties: {} }));
}

function instanceName(row: { instance_group: string; uuid: string; index: number }): string {
  return `${row.instance_group}/${row.uuid} (${row.index})`;
}

/** What a CPI call answered, when it is a short fact worth a log line (a cid, yes or no). */
function cpiAnswer(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'boolean') return `: ${String(value)}`;
  if (Array.isArray(value) && typeof value[0] === 'string') return `: ${value[0]}`;
  return '';
}

/** An event that could not be written is said in the task's debug log rather than failing the work. */
async function unrecorded(
  context: TaskContext,
  event: { action: string; objectType: string },
  failure: unknown,
): Promise<void> {
  const reason = failure instanceof Error ? failure.message : String(failure);
  await context
    .debug(`could not record the end event of ${event.action} ${event.objectType}: ${reason}`)
    .catch(() => undefined);
}

/**
 * Deploy, delete and errand semantics of the embedded Director. Every step is recorded in `instances`
 * as soon as it happens, so a task resumed after a restart converges from where it stopped: VMs that
 * exist are not created again, instances already at the new configuration are not updated again.
 */
export class Deployer {
  readonly #events: EventStore;

  constructor(
    private readonly db: Database,
    private readonly cpi: Cpi,
    private readonly agent: Agent,
    private readonly variables: VariableStore,
    private readonly options: DeployerOptions,
  ) {
    this.#events = new EventStore(db);
  }

  /**
   * Records a change to one instance, VM or disk as BOSH's event log does: an event when it starts and
   * one when it ends (the start its parent, the error if it failed, the name once it is known: a new
   * VM's cid). A step cut short by a stop or a cancel records no end: it did not finish or fail.
   */
  async #recorded<T>(
    context: TaskContext,
    row: InstanceRow,
    event: { action: string; objectType: string; objectName?: string | null },
    run: () => Promise<T>,
    nameOf: (value: T) => string | null = () => event.objectName ?? null,
  ): Promise<T> {
    const instance = `${row.instance_group}/${row.uuid}`;
    const base = {
      user: context.task.username,
      task: context.task.id,
      deployment: row.deployment,
      instance,
      action: event.action,
      objectType: event.objectType,
      objectName: event.objectName ?? null,
    };
    const parentId = await this.#events.record(base);
    let value: T;
    try {
      value = await run();
    } catch (error) {
      if (!isInterruption(error)) {
        await this.#events
          .record({ ...base, parentId, error: (error as Error).message })
          .catch((failure: unknown) => unrecorded(context, base, failure));
      }
      throw error;
    }
    // The work is done (a VM made is a VM to record on its instance): a lost end event must not undo it.
    await this.#events
      .record({ ...base, parentId, objectName: nameOf(value) })
      .catch((failure: unknown) => unrecorded(context, base, failure));
    return value;
  }

  /**
   * Wraps a CPI call with the CPI timeout. A stopping director does not abandon a call in flight (its
   * result, a VM, must be recorded or it leaks); it starts no new one, and stops at the next step.
   */
  async #cpi<T>(context: TaskContext, method: string, call: () => Promise<T>): Promise<T> {
    if (context.signal.aborted) throw new Interrupted();
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    try {
      const value = await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new CpiTimeoutError(method, this.options.cpiTimeoutMs)),
            this.options.cpiTimeoutMs,
          );
        }),
      ]);
      await context
        .cpi(`[sim-cpi] ${method} ok in ${Date.now() - started} ms${cpiAnswer(value)}`)
        .catch(() => undefined);
      return value;
    } catch (error) {
      const failure =
        error instanceof CpiError
          ? error
          : new CpiError(method, 'Bosh::Clouds::CloudError', (error as Error).message);
      await context
        .cpi(`[sim-cpi] ${method} failed in ${Date.now() - started} ms: ${failure.message}`)
        .catch(() => undefined);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  async instances(deployment: string): Promise<InstanceRow[]> {
    const { rows } = await this.db.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM director.instances WHERE deployment = $1 ORDER BY instance_group, index`,
      [deployment],
    );
    return rows;
  }

  /** The deployed manifest's jobs per instance group, properties interpolated (empty before a first deploy). */
  async renderedJobs(deployment: string): Promise<Map<string, Job[]>> {
    const { rows } = await this.db.query<{ manifest: string }>(
      'SELECT manifest FROM director.deployments WHERE name = $1',
      [deployment],
    );
    if (rows[0] === undefined) return new Map();
    const manifest = parseManifest(rows[0].manifest);
    const values = await this.variables.all(deployment);
    return new Map(
      manifest.instanceGroups.map((group) => [group.name, this.#desiredJobs(group, values, deployment)]),
    );
  }

  async #upsertInstance(row: InstanceRow): Promise<void> {
    await this.#upsertInstances([row]);
  }

  /**
   * Records instances, several rows in one statement (a group's new instances before their VMs are made:
   * one statement instead of one per instance). Rows must be distinct instances.
   */
  async #upsertInstances(rows: readonly InstanceRow[]): Promise<void> {
    const columns = INSTANCE_COLUMNS.split(', ').length;
    // Far below PostgreSQL's 65,535 parameters per statement, whatever the group's size.
    for (let start = 0; start < rows.length; start += 500) {
      const chunk = rows.slice(start, start + 500);
      const params: unknown[] = [];
      const values = chunk.map((row, i) => {
        params.push(
          row.deployment,
          row.instance_group,
          row.index,
          row.uuid,
          row.az,
          row.lifecycle,
          row.state,
          row.vm_cid,
          row.agent_id,
          JSON.stringify(row.ips),
          row.disk_cid,
          row.stemcell,
          row.config_hash,
          row.bootstrap,
          JSON.stringify(row.jobs),
          row.vm_created_at,
          row.vm_hash,
          row.disk_hash,
        );
        return `(${Array.from({ length: columns }, (_, c) => `$${i * columns + c + 1}`).join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO director.instances (${INSTANCE_COLUMNS})
         VALUES ${values.join(', ')}
         ON CONFLICT (deployment, instance_group, index) DO UPDATE SET
           uuid = excluded.uuid, az = excluded.az, lifecycle = excluded.lifecycle, state = excluded.state,
           vm_cid = excluded.vm_cid, agent_id = excluded.agent_id, ips = excluded.ips, disk_cid = excluded.disk_cid,
           stemcell = excluded.stemcell, config_hash = excluded.config_hash, bootstrap = excluded.bootstrap,
           jobs = excluded.jobs, vm_created_at = excluded.vm_created_at, vm_hash = excluded.vm_hash,
           disk_hash = excluded.disk_hash`,
        params,
      );
    }
  }

  #agentInstance(row: InstanceRow): AgentInstance {
    return {
      deployment: row.deployment,
      instanceGroup: row.instance_group,
      index: row.index,
      uuid: row.uuid,
      vmCid: row.vm_cid ?? '',
      ip: row.ips[0] ?? '',
      jobs: row.jobs,
    };
  }

  /** Validates and interpolates a manifest; used by deploy and by diff (which must not generate). */
  async prepare(
    text: string,
    expectedName?: string,
  ): Promise<{ manifest: Manifest; values: Map<string, VariableValue> }> {
    const manifest = parseManifest(text);
    if (expectedName !== undefined && manifest.name !== expectedName) {
      throw new InputError('name', `Deployment name '${manifest.name}' does not match '${expectedName}'`);
    }
    const values = await this.variables.ensure(manifest.name, manifest.variables);
    return { manifest, values };
  }

  async #registerArtifacts(context: TaskContext, manifest: Manifest): Promise<void> {
    for (const release of manifest.releases) {
      const { rowCount } = await this.db.query(
        'SELECT 1 FROM director.releases WHERE name = $1 AND version = $2',
        [release.name, release.version],
      );
      if (rowCount > 0) continue;
      if (!this.options.autoRegisterArtifacts) {
        throw new InputError('releases', `Release '${release.name}/${release.version}' doesn't exist`);
      }
      const jobs = [
        ...new Set(
          manifest.instanceGroups.flatMap((g) =>
            g.jobs.filter((j) => j.release === release.name).map((j) => j.name),
          ),
        ),
      ];
      await this.db.query(
        `INSERT INTO director.releases (name, version, job_names) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [release.name, release.version, JSON.stringify(jobs)],
      );
      await context.events.warning(
        `Release '${release.name}/${release.version}' was not uploaded; the sim registered its metadata`,
      );
    }
    for (const stemcell of manifest.stemcells) {
      const name = stemcell.name ?? `bosh-sim-${stemcell.os}-go_agent`;
      const os = stemcell.os ?? stemcell.name ?? 'unknown';
      const { rowCount } = await this.db.query(
        `SELECT 1 FROM director.stemcells WHERE (name = $1 OR operating_system = $2) AND version = $3`,
        [name, os, stemcell.version],
      );
      if (rowCount > 0) continue;
      if (!this.options.autoRegisterArtifacts) {
        throw new InputError('stemcells', `Stemcell '${os}/${stemcell.version}' doesn't exist`);
      }
      const cid = await this.#cpi(context, 'create_stemcell', () => this.cpi.create_stemcell('', {}));
      await this.db.query(
        `INSERT INTO director.stemcells (name, version, operating_system, cid) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [name, stemcell.version, os, cid],
      );
      await context.events.warning(
        `Stemcell '${os}/${stemcell.version}' was not uploaded; the sim registered its metadata`,
      );
    }
  }

  #desiredJobs(group: InstanceGroup, values: Map<string, VariableValue>, deployment: string): Job[] {
    return interpolate(group.jobs, values, deployment) as Job[];
  }

  #configHash(group: InstanceGroup, jobs: Job[]): string {
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

  /** What a VM is made with: a change recreates it. */
  #vmHash(group: InstanceGroup, stemcell: string): string {
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
  #diskHash(group: InstanceGroup): string | null {
    return group.persistentDisk > 0 ? `${group.persistentDisk}/${group.persistentDiskType ?? ''}` : null;
  }

  /**
   * The addresses of the deployment's links, for variables that consume them: each job provides a link
   * named after itself (kubo's jobs name their links so) and any it lists under `provides` (or their `as`).
   */
  #linkAddresses(manifest: Manifest, rows: readonly InstanceRow[]): Map<string, string[]> {
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

  #stemcellOf(manifest: Manifest, group: InstanceGroup): string {
    const stemcell = manifest.stemcells.find((s) => s.alias === group.stemcell)!;
    return `${stemcell.os ?? stemcell.name}/${stemcell.version}`;
  }

  async #createVm(
    context: TaskContext,
    row: InstanceRow,
    group: InstanceGroup,
    stemcell: string,
    /** The instance's reserved IP (kept across recreates, as BOSH's manual networks do). */
    reservedIp?: string,
  ): Promise<InstanceRow> {
    const agentId = randomUUID();
    const networks = Object.fromEntries(
      group.networks.map((n, i) => [
        n.name,
        { type: 'manual' as const, ...(i === 0 && reservedIp !== undefined ? { ip: reservedIp } : {}) },
      ]),
    );
    const env = {
      ...group.env,
      bosh: {
        group: `${this.options.directorName}-${row.deployment}-${row.instance_group}`,
        groups: [this.options.directorName, row.deployment, row.instance_group],
      },
    };
    const [vmCid, assigned] = await this.#recorded(
      context,
      row,
      { action: 'create', objectType: 'vm' },
      () =>
        this.#cpi(context, 'create_vm', () =>
          this.cpi.create_vm(
            agentId,
            stemcell,
            { vm_type: group.vmType },
            networks,
            row.disk_cid ? [row.disk_cid] : [],
            env,
          ),
        ),
      ([cid]) => cid,
    );
    const ips = Object.values(assigned)
      .map((n) => n.ip)
      .filter((ip): ip is string => typeof ip === 'string');
    // Record the VM before anything else can fail, so a retry or a resume never leaks it.
    let updated: InstanceRow = {
      ...row,
      vm_cid: vmCid,
      agent_id: agentId,
      ips,
      vm_created_at: new Date(),
      state: 'started',
      vm_hash: this.#vmHash(group, stemcell),
    };
    await this.#upsertInstance(updated);
    await context.debug(`created VM ${vmCid} (${ips.join(', ')}) for ${instanceName(row)}`);
    if (group.persistentDisk > 0) {
      const diskCid = row.disk_cid ?? (await this.#createDisk(context, row, group.persistentDisk, vmCid));
      updated = {
        ...updated,
        disk_cid: diskCid,
        disk_hash: row.disk_cid ? row.disk_hash : this.#diskHash(group),
      };
      await this.#upsertInstance(updated);
      await this.#cpi(context, 'attach_disk', () => this.cpi.attach_disk(vmCid, diskCid));
    }
    await this.#cpi(context, 'set_vm_metadata', () =>
      this.cpi.set_vm_metadata(vmCid, {
        director: this.options.directorName,
        deployment: row.deployment,
        instance_group: row.instance_group,
        job: row.instance_group,
        id: row.uuid,
        index: String(row.index),
        name: `${row.instance_group}/${row.uuid}`,
      }),
    );
    return updated;
  }

  async #deleteVm(context: TaskContext, row: InstanceRow, drain: boolean): Promise<InstanceRow> {
    if (row.vm_cid === null) return row;
    await this.agent.stop(this.#agentInstance(row), { drain });
    const vmCid = row.vm_cid;
    if (row.disk_cid) {
      await this.#cpi(context, 'detach_disk', () => this.cpi.detach_disk(vmCid, row.disk_cid!));
    }
    await this.#recorded(context, row, { action: 'delete', objectType: 'vm', objectName: vmCid }, () =>
      this.#cpi(context, 'delete_vm', () => this.cpi.delete_vm(vmCid)),
    );
    const updated = { ...row, vm_cid: null, agent_id: null, ips: [], vm_created_at: null, vm_hash: null };
    await this.#upsertInstance(updated);
    await context.debug(`deleted VM ${vmCid} of ${instanceName(row)}`);
    return updated;
  }

  async #deleteInstance(context: TaskContext, row: InstanceRow, drain: boolean): Promise<void> {
    const name = `${row.instance_group}/${row.uuid}`;
    await this.#recorded(
      context,
      row,
      { action: 'delete', objectType: 'instance', objectName: name },
      async () => {
        const gone = await this.#deleteVm(context, row, drain);
        if (gone.disk_cid) await this.#deleteDisk(context, gone, gone.disk_cid);
        await this.db.query(
          'DELETE FROM director.instances WHERE deployment = $1 AND instance_group = $2 AND index = $3',
          [row.deployment, row.instance_group, row.index],
        );
      },
    );
  }

  #createDisk(context: TaskContext, row: InstanceRow, sizeMb: number, vmCid: string): Promise<string> {
    return this.#recorded(
      context,
      row,
      { action: 'create', objectType: 'disk' },
      () => this.#cpi(context, 'create_disk', () => this.cpi.create_disk(sizeMb, {}, vmCid)),
      (cid) => cid,
    );
  }

  #deleteDisk(context: TaskContext, row: InstanceRow, diskCid: string): Promise<void> {
    return this.#recorded(context, row, { action: 'delete', objectType: 'disk', objectName: diskCid }, () =>
      this.#cpi(context, 'delete_disk', () => this.cpi.delete_disk(diskCid)),
    );
  }

  /** `POST /deployments`: converge the deployment's VMs and instances on the manifest. */
  async deploy(context: TaskContext, params: DeployParams): Promise<string> {
    const manifest = parseManifest(params.manifest);
    const name = manifest.name;
    const drain = params.skipDrain !== true;
    let values = new Map<string, VariableValue>();
    await context.events.stage('Preparing deployment', 1).track('Preparing deployment', async () => {
      await this.#registerArtifacts(context, manifest);
      // Link addresses are known for instances that exist; a first deploy learns them after creating VMs.
      const known = (await this.instances(name)).filter((row) => row.vm_cid !== null);
      values = await this.variables.ensure(
        name,
        manifest.variables,
        known.length > 0 ? this.#linkAddresses(manifest, known) : undefined,
      );
      // Interpolate everything once up front: an unknown ((variable)) fails before any VM changes.
      interpolate(manifest.raw, values, name);
    });
    await context.checkpoint({ phase: 'prepared' });
    if (params.dryRun) return `/deployments/${name}`;

    const serviceGroups = manifest.instanceGroups.filter((g) => g.lifecycle === Lifecycle.SERVICE);
    const byName = new Map(serviceGroups.map((g) => [g.name, g]));
    const existing = await this.instances(name);

    // Scale-down removes the highest indexes; groups gone from the manifest (or now errands) go entirely.
    const obsolete = existing
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
    if (obsolete.length > 0) {
      const stage = context.events.stage('Deleting unneeded instances', obsolete.length);
      await inParallel(obsolete, this.options.maxThreads, (row) =>
        stage.track(instanceName(row), () => this.#deleteInstance(context, row, drain)),
      );
      await context.checkpoint();
    }

    // Instances to have: existing rows kept, new rows for missing indexes.
    const current = new Map(
      (await this.instances(name)).map((row) => [`${row.instance_group}/${row.index}`, row]),
    );
    const planned: { row: InstanceRow; group: InstanceGroup }[] = [];
    for (const group of serviceGroups) {
      for (let index = 0; index < group.instances; index++) {
        const row: InstanceRow = current.get(`${group.name}/${index}`) ?? {
          deployment: name,
          instance_group: group.name,
          index,
          uuid: randomUUID(),
          az: group.azs.length > 0 ? group.azs[index % group.azs.length]! : null,
          lifecycle: Lifecycle.SERVICE,
          state: 'started',
          vm_cid: null,
          agent_id: null,
          ips: [],
          disk_cid: null,
          stemcell: null,
          config_hash: null,
          bootstrap: index === 0,
          jobs: [],
          vm_created_at: null,
          vm_hash: null,
          disk_hash: null,
        };
        planned.push({ row, group });
      }
    }

    // `fix`: VMs the CPI no longer has are treated as missing.
    if (params.fix) {
      for (const entry of planned) {
        const vmCid = entry.row.vm_cid;
        if (vmCid && !(await this.#cpi(context, 'has_vm', () => this.cpi.has_vm(vmCid)))) {
          await context.debug(`fix: VM ${vmCid} of ${instanceName(entry.row)} is missing`);
          entry.row = { ...entry.row, vm_cid: null, agent_id: null, ips: [], config_hash: null };
          await this.#upsertInstance(entry.row);
        }
      }
    }

    const missing = planned.filter((entry) => entry.row.vm_cid === null);
    if (missing.length > 0) {
      // Every missing instance is recorded (its uuid kept for a resume) before any VM is made, in one
      // statement rather than one per instance as each VM started.
      await this.#upsertInstances(missing.map((entry) => entry.row));
      const stage = context.events.stage('Creating missing vms', missing.length);
      await inParallel(missing, this.options.maxThreads, async (entry) => {
        entry.row = await stage.track(instanceName(entry.row), () =>
          this.#createVm(context, entry.row, entry.group, this.#stemcellOf(manifest, entry.group)),
        );
      });
      await context.checkpoint();
    }

    // Variables that consume links (the masters' IPs in tls-kubernetes) now that every instance has a VM.
    if (manifest.variables.some((v) => v.consumes !== undefined)) {
      values = await this.variables.ensure(
        name,
        manifest.variables,
        this.#linkAddresses(
          manifest,
          planned.map((entry) => entry.row),
        ),
      );
    }

    // Update groups in manifest order; consecutive `serial: false` groups go together.
    const batches: InstanceGroup[][] = [];
    for (const group of serviceGroups) {
      const last = batches.at(-1);
      if (!group.update.serial && last && last.every((g) => !g.update.serial)) last.push(group);
      else batches.push([group]);
    }
    for (const batch of batches) {
      await Promise.all(
        batch.map((group) =>
          this.#updateGroup(
            context,
            manifest,
            group,
            planned.filter((entry) => entry.group === group),
            values,
            params,
            drain,
          ),
        ),
      );
      await context.checkpoint();
    }

    await this.db.query(
      `INSERT INTO director.deployments (name, manifest, cloud_config_id) VALUES ($1, $2,
         (SELECT max(id) FROM director.configs WHERE type = 'cloud' AND NOT deleted))
       ON CONFLICT (name) DO UPDATE SET manifest = excluded.manifest, cloud_config_id = excluded.cloud_config_id, updated_at = now()`,
      [name, params.manifest],
    );
    return `/deployments/${name}`;
  }

  async #updateGroup(
    context: TaskContext,
    manifest: Manifest,
    group: InstanceGroup,
    entries: { row: InstanceRow; group: InstanceGroup }[],
    values: Map<string, VariableValue>,
    params: DeployParams,
    drain: boolean,
  ): Promise<void> {
    const jobs = this.#desiredJobs(group, values, manifest.name);
    const hash = this.#configHash(group, jobs);
    const stemcell = this.#stemcellOf(manifest, group);
    const vmHash = this.#vmHash(group, stemcell);
    const diskHash = this.#diskHash(group);
    // A VM made with another vm_type, stemcell, network or env is recreated (rows from before vm_hash was
    // recorded compare the stemcell only).
    const needsNewVm = (row: InstanceRow) =>
      row.vm_cid !== null &&
      (params.recreate === true ||
        (row.vm_hash !== null
          ? row.vm_hash !== vmHash
          : row.stemcell !== null && row.stemcell !== stemcell && row.config_hash !== null));
    const needsNewDisk = (row: InstanceRow) =>
      row.disk_cid !== null && diskHash !== null && row.disk_hash !== null && row.disk_hash !== diskHash;
    const changed = entries.filter(
      ({ row }) =>
        params.recreate === true ||
        row.config_hash !== hash ||
        row.stemcell !== stemcell ||
        row.state !== 'started' ||
        needsNewVm(row) ||
        needsNewDisk(row),
    );
    if (changed.length === 0) return;
    const policy = {
      ...group.update,
      ...(params.canaries !== undefined ? { canaries: params.canaries } : {}),
      ...(params.maxInFlight !== undefined ? { maxInFlight: params.maxInFlight } : {}),
    };
    const maxInFlight = maxInFlightOf(policy, group.instances);
    const canaries = Math.min(policy.canaries, changed.length);
    const stage = context.events.stage('Updating instance', changed.length, [group.name]);
    const update = async (entry: { row: InstanceRow }, canary: boolean) => {
      const action =
        entry.row.config_hash === null ? 'create' : needsNewVm(entry.row) ? 'recreate' : 'update';
      const name = `${entry.row.instance_group}/${entry.row.uuid}`;
      await stage.track(`${instanceName(entry.row)}${canary ? ' (canary)' : ''}`, () =>
        this.#recorded(context, entry.row, { action, objectType: 'instance', objectName: name }, () =>
          updateOne(entry),
        ),
      );
    };
    const updateOne = async (entry: { row: InstanceRow }) => {
      let row = entry.row;
      if (needsNewVm(row)) {
        const reservedIp = row.ips[0];
        row = await this.#deleteVm(context, row, drain);
        row = await this.#createVm(context, row, group, stemcell, reservedIp);
      } else if (row.config_hash !== null) {
        await this.agent.stop(this.#agentInstance(row), { drain });
      }
      if (needsNewDisk(row) && row.vm_cid !== null) {
        // BOSH's disk migration: a new disk of the new size/type, attached beside the old one (the data
        // would be copied), then the old one detached and deleted.
        const vmCid = row.vm_cid;
        const oldDisk = row.disk_cid!;
        const newDisk = await this.#createDisk(context, row, group.persistentDisk, vmCid);
        await this.#cpi(context, 'attach_disk', () => this.cpi.attach_disk(vmCid, newDisk));
        row = { ...row, disk_cid: newDisk, disk_hash: diskHash };
        await this.#upsertInstance(row);
        await this.#cpi(context, 'detach_disk', () => this.cpi.detach_disk(vmCid, oldDisk));
        await this.#deleteDisk(context, row, oldDisk);
        await context.debug(`migrated the persistent disk of ${instanceName(row)} to ${newDisk}`);
      }
      if (group.persistentDisk > 0 && row.disk_cid === null && row.vm_cid !== null) {
        // A resumed task may find a VM whose disk was never made (the director stopped in between).
        const vmCid = row.vm_cid;
        const diskCid = await this.#createDisk(context, row, group.persistentDisk, vmCid);
        row = { ...row, disk_cid: diskCid, disk_hash: diskHash };
        await this.#upsertInstance(row);
        await this.#cpi(context, 'attach_disk', () => this.cpi.attach_disk(vmCid, diskCid));
      }
      await this.agent.start({ ...this.#agentInstance(row), jobs });
      // Only job names are stored: interpolated properties hold secrets, which live sealed in variables.
      row = { ...row, jobs: stripJobs(jobs), state: 'started' };
      row = {
        ...row,
        config_hash: hash,
        stemcell,
        vm_hash: row.vm_hash ?? vmHash,
        disk_hash: row.disk_cid !== null ? (row.disk_hash ?? diskHash) : null,
      };
      await this.#upsertInstance(row);
      entry.row = row;
    };
    const canaryEntries = changed.slice(0, canaries);
    const rest = changed.slice(canaries);
    // Canaries first (up to max_in_flight at once); a failing canary stops the group before the rest.
    await inParallel(canaryEntries, maxInFlight, (entry) => update(entry, true));
    if (canaryEntries.length > 0) await context.checkpoint();
    for (let i = 0; i < rest.length; i += maxInFlight) {
      await inParallel(rest.slice(i, i + maxInFlight), maxInFlight, (entry) => update(entry, false));
      await context.checkpoint();
    }
  }

  /** `DELETE /deployments/:name`: every instance (drained), its disks and variables, then the record. */
  async delete(context: TaskContext, name: string, force: boolean): Promise<string> {
    const rows = await this.instances(name);
    if (rows.length > 0) {
      const stage = context.events.stage('Deleting instances', rows.length);
      await inParallel(rows, this.options.maxThreads, (row) =>
        stage.track(instanceName(row), async () => {
          try {
            await this.#deleteInstance(context, row, !force);
          } catch (error) {
            if (!force || error instanceof Interrupted) throw error;
            await context.debug(
              `force: ignoring failure deleting ${instanceName(row)}: ${(error as Error).message}`,
            );
            await this.db.query('DELETE FROM director.instances WHERE uuid = $1', [row.uuid]);
          }
        }),
      );
      await context.checkpoint();
    }
    await context.events
      .stage('Removing deployment artifacts', 1)
      .track('Detaching stemcells', async () => undefined);
    await context.events.stage('Deleting properties', 1).track('Destroying deployment', async () => {
      await this.variables.deleteAll(name);
      await this.db.query('DELETE FROM director.deployments WHERE name = $1', [name]);
    });
    return `/deployments/${name}`;
  }

  /** `POST /deployments/:name/errands/:errand/runs`: bring up the errand's instances, run it, record the outcome. */
  async runErrand(
    context: TaskContext,
    deployment: string,
    errand: string,
    keepAlive: boolean,
  ): Promise<string> {
    const { rows } = await this.db.query<{ manifest: string }>(
      'SELECT manifest FROM director.deployments WHERE name = $1',
      [deployment],
    );
    if (rows[0] === undefined) throw new NotFoundError(`Deployment '${deployment}' doesn't exist`);
    const manifest = parseManifest(rows[0].manifest);
    const values = await this.variables.all(deployment);
    const group = manifest.instanceGroups.find((g) => g.name === errand && g.lifecycle === Lifecycle.ERRAND);
    let targets: InstanceRow[];
    let created: InstanceRow[] = [];
    if (group !== undefined) {
      await context.events
        .stage('Preparing deployment', 1)
        .track('Preparing deployment', async () => undefined);
      const jobs = this.#desiredJobs(group, values, deployment);
      const existing = new Map(
        (await this.instances(deployment))
          .filter((r) => r.instance_group === group.name)
          .map((r) => [r.index, r]),
      );
      const fresh: InstanceRow[] = [];
      for (let index = 0; index < Math.max(group.instances, 1); index++) {
        const row = existing.get(index);
        if (row?.vm_cid) continue;
        fresh.push(
          row ?? {
            deployment,
            instance_group: group.name,
            index,
            uuid: randomUUID(),
            az: group.azs[index % Math.max(group.azs.length, 1)] ?? null,
            lifecycle: Lifecycle.ERRAND,
            state: 'started',
            vm_cid: null,
            agent_id: null,
            ips: [],
            disk_cid: null,
            stemcell: null,
            config_hash: null,
            bootstrap: index === 0,
            jobs: stripJobs(jobs),
            vm_created_at: null,
            vm_hash: null,
            disk_hash: null,
          },
        );
      }
      if (fresh.length > 0) {
        // Recorded before any VM is made, in one statement (as for a deploy's missing instances).
        await this.#upsertInstances(fresh);
        const stage = context.events.stage('Creating missing vms', fresh.length);
        await inParallel(fresh, this.options.maxThreads, async (row) => {
          created.push(
            await stage.track(instanceName(row), () =>
              this.#createVm(context, row, group, this.#stemcellOf(manifest, group)),
            ),
          );
        });
      }
      targets = (await this.instances(deployment)).filter(
        (r) => r.instance_group === group.name && r.vm_cid !== null,
      );
      targets = targets.map((r) => ({ ...r, jobs }));
    } else {
      // A job of a service instance group that runs as an errand (e.g. smoke-tests on the masters).
      const hosts = manifest.instanceGroups.filter(
        (g) => g.lifecycle === Lifecycle.SERVICE && g.jobs.some((j) => j.name === errand),
      );
      if (hosts.length === 0) throw new NotFoundError(`Errand '${errand}' doesn't exist`);
      targets = (await this.instances(deployment))
        .filter((r) => hosts.some((g) => g.name === r.instance_group) && r.vm_cid !== null)
        .slice(0, 1);
    }
    await context.checkpoint();
    let succeeded = 0;
    let errored = 0;
    const stage = context.events.stage('Running errand', targets.length);
    for (const row of targets) {
      await stage.track(instanceName(row), async () => {
        const outcome = await this.agent.runErrand(this.#agentInstance(row), errand);
        if (outcome.exitCode === 0) succeeded += 1;
        else errored += 1;
        await context.result({
          instance: { group: row.instance_group, id: row.uuid },
          errand_name: errand,
          exit_code: outcome.exitCode,
          stdout: outcome.stdout,
          stderr: outcome.stderr,
          logs: { blobstore_id: '', sha1: '' },
        });
      });
    }
    if (group !== undefined && !keepAlive) {
      created = (await this.instances(deployment)).filter((r) => r.instance_group === group.name);
      if (created.length > 0) {
        const cleanup = context.events.stage('Deleting errand instances', created.length);
        await inParallel(created, this.options.maxThreads, (row) =>
          cleanup.track(instanceName(row), () => this.#deleteInstance(context, row, false)),
        );
      }
    }
    return `${succeeded} succeeded, ${errored} errored, 0 canceled`;
  }
}
