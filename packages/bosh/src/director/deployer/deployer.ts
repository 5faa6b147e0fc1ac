import { randomUUID } from 'node:crypto';
import type { Agent } from '../../cpi/agent.js';
import type { Cpi } from '../../cpi/cpi.js';
import { Lifecycle, parseManifest, type Job } from '../../manifest/manifest.js';
import { Interrupted } from '../interruptions.js';
import type { TaskContext } from '../runner.js';
import type { DirectorStores } from '../store/index.js';
import { ensureVariables, interpolate, type VariableValue } from '../variables.js';
import { registerArtifacts } from './artifacts.js';
import { Disks } from './disks.js';
import { Errands } from './errands.js';
import { InstanceUpdates } from './instanceUpdates.js';
import {
  desiredJobs,
  linkAddresses,
  obsoleteInstances,
  plannedInstances,
  stemcellOf,
  updateBatches,
  type DeployParams,
} from './plan.js';
import { inParallel, instanceName, Steps } from './steps.js';
import { Vms } from './vms.js';

export interface DeployerOptions {
  directorName: string;
  /** Upper bound of CPI calls of one stage running at once (BOSH's max_threads). */
  maxThreads: number;
  /** A CPI call that does not answer within this ends the task `timeout`. */
  cpiTimeoutMs: number;
  /** Register releases and stemcells a manifest names but nobody uploaded (with a warning), instead of failing. */
  autoRegisterArtifacts: boolean;
}

/**
 * Deploy, delete and errand semantics of the embedded Director, in the order BOSH runs them. Every step
 * is recorded in `instances` as soon as it happens, so a task resumed after a restart converges from
 * where it stopped: VMs that exist are not created again, instances already at the new configuration are
 * not updated again. The parts: `plan` (what to do), `vms` and `disks` (the CPI's side),
 * `instanceUpdates` (canaries and max_in_flight), `errands`, `artifacts`.
 */
export class Deployer {
  readonly #stores: DirectorStores;
  readonly #steps: Steps;
  readonly #vms: Vms;
  readonly #updates: InstanceUpdates;
  readonly #errands: Errands;

  constructor(
    stores: DirectorStores,
    cpi: Cpi,
    agent: Agent,
    private readonly options: DeployerOptions,
  ) {
    this.#stores = stores;
    this.#steps = new Steps(cpi, options.cpiTimeoutMs);
    const disks = new Disks(this.#steps, stores.deployments);
    this.#vms = new Vms(this.#steps, stores.deployments, disks, agent, options.directorName);
    this.#updates = new InstanceUpdates(this.#steps, stores.deployments, this.#vms, disks, agent);
    this.#errands = new Errands(stores.deployments, stores.variables, this.#vms, agent, options.maxThreads);
  }

  /** The deployed manifest's jobs per instance group, properties interpolated (empty before a first deploy). */
  async renderedJobs(deployment: string): Promise<Map<string, Job[]>> {
    const text = await this.#stores.deployments.manifest(deployment);
    if (text === undefined) return new Map();
    const manifest = parseManifest(text);
    const values = await this.#stores.variables.all(deployment);
    return new Map(
      manifest.instanceGroups.map((group) => [group.name, desiredJobs(group, values, deployment)]),
    );
  }

  /** `POST /deployments`: converge the deployment's VMs and instances on the manifest. */
  async deploy(context: TaskContext, params: DeployParams): Promise<string> {
    const { deployments, variables } = this.#stores;
    const manifest = parseManifest(params.manifest);
    const name = manifest.name;
    const drain = params.skipDrain !== true;
    let values = new Map<string, VariableValue>();
    await context.events.stage('Preparing deployment', 1).track('Preparing deployment', async () => {
      await registerArtifacts(context, manifest, {
        artifacts: this.#stores.artifacts,
        steps: this.#steps,
        autoRegister: this.options.autoRegisterArtifacts,
      });
      // Link addresses are known for instances that exist; a first deploy learns them after creating VMs.
      const known = (await deployments.instances(name)).filter((row) => row.vm_cid !== null);
      values = await ensureVariables(
        variables,
        name,
        manifest.variables,
        known.length > 0 ? linkAddresses(manifest, known) : undefined,
      );
      // Interpolate everything once up front: an unknown ((variable)) fails before any VM changes.
      interpolate(manifest.raw, values, name);
    });
    await context.checkpoint({ phase: 'prepared' });
    if (params.dryRun) return `/deployments/${name}`;

    const serviceGroups = manifest.instanceGroups.filter((g) => g.lifecycle === Lifecycle.SERVICE);
    const obsolete = obsoleteInstances(manifest, await deployments.instances(name));
    if (obsolete.length > 0) {
      const stage = context.events.stage('Deleting unneeded instances', obsolete.length);
      await inParallel(obsolete, this.options.maxThreads, (row) =>
        stage.track(instanceName(row), () => this.#vms.deleteInstance(context, row, drain)),
      );
      await context.checkpoint();
    }

    const planned = plannedInstances(name, serviceGroups, await deployments.instances(name));

    // `fix`: VMs the CPI no longer has are treated as missing.
    if (params.fix) {
      for (const entry of planned) {
        const vmCid = entry.row.vm_cid;
        if (vmCid && !(await this.#steps.cpi(context, 'has_vm', (cpi) => cpi.has_vm(vmCid)))) {
          await context.debug(`fix: VM ${vmCid} of ${instanceName(entry.row)} is missing`);
          entry.row = { ...entry.row, vm_cid: null, agent_id: null, ips: [], config_hash: null };
          await deployments.saveInstance(entry.row);
        }
      }
    }

    const missing = planned.filter((entry) => entry.row.vm_cid === null);
    if (missing.length > 0) {
      // Every missing instance is recorded (its uuid kept for a resume) before any VM is made, in one
      // statement rather than one per instance as each VM started. So is the agent id its VM will be made
      // for: a Director that dies after the CPI made a VM and before recording its cid leaves that id, and
      // the task resumed elsewhere asks the CPI again with it and gets that VM, instead of making a second.
      for (const entry of missing) entry.row = { ...entry.row, agent_id: entry.row.agent_id ?? randomUUID() };
      await deployments.saveInstances(missing.map((entry) => entry.row));
      const stage = context.events.stage('Creating missing vms', missing.length);
      await inParallel(missing, this.options.maxThreads, async (entry) => {
        entry.row = await stage.track(instanceName(entry.row), () =>
          this.#vms.create(context, entry.row, entry.group, stemcellOf(manifest, entry.group)),
        );
      });
      await context.checkpoint();
    }

    // Variables that consume links (the masters' IPs in tls-kubernetes) now that every instance has a VM.
    if (manifest.variables.some((v) => v.consumes !== undefined)) {
      values = await ensureVariables(
        variables,
        name,
        manifest.variables,
        linkAddresses(
          manifest,
          planned.map((entry) => entry.row),
        ),
      );
    }

    for (const batch of updateBatches(serviceGroups)) {
      await Promise.all(
        batch.map((group) =>
          this.#updates.updateGroup(
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

    await deployments.save(name, params.manifest);
    return `/deployments/${name}`;
  }

  /** `DELETE /deployments/:name`: every instance (drained), its disks and variables, then the record. */
  async delete(context: TaskContext, name: string, force: boolean): Promise<string> {
    const { deployments, variables } = this.#stores;
    const rows = await deployments.instances(name);
    if (rows.length > 0) {
      const stage = context.events.stage('Deleting instances', rows.length);
      await inParallel(rows, this.options.maxThreads, (row) =>
        stage.track(instanceName(row), async () => {
          try {
            await this.#vms.deleteInstance(context, row, !force);
          } catch (error) {
            if (!force || error instanceof Interrupted) throw error;
            await context.debug(
              `force: ignoring failure deleting ${instanceName(row)}: ${(error as Error).message}`,
            );
            await deployments.forgetInstance(row.uuid);
          }
        }),
      );
      await context.checkpoint();
    }
    await context.events
      .stage('Removing deployment artifacts', 1)
      .track('Detaching stemcells', async () => undefined);
    await context.events.stage('Deleting properties', 1).track('Destroying deployment', async () => {
      await variables.deleteAll(name);
      await deployments.remove(name);
    });
    return `/deployments/${name}`;
  }

  /** `POST /deployments/:name/errands/:errand/runs`. */
  runErrand(context: TaskContext, deployment: string, errand: string, keepAlive: boolean): Promise<string> {
    return this.#errands.run(context, deployment, errand, keepAlive);
  }
}
