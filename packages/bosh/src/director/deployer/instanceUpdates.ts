import type { Agent } from '../../cpi/agent.js';
import type { InstanceGroup, Manifest } from '../../manifest/manifest.js';
import type { TaskContext } from '../runner.js';
import type { DeploymentStore, InstanceRow } from '../store/deploymentStore.js';
import type { VariableValue } from '../variables.js';
import type { Disks } from './disks.js';
import { groupTarget, stripJobs, type DeployParams, type GroupTarget } from './plan.js';
import { inParallel, instanceName, type Steps } from './steps.js';
import { agentInstanceOf, type Vms } from './vms.js';

/** An instance of the group being updated; `row` follows it as each step is recorded. */
export interface PlannedInstance {
  row: InstanceRow;
  group: InstanceGroup;
}

/**
 * The update of one instance group as BOSH rolls it: the instances that must change, canaries first (up
 * to max_in_flight at once; a failing canary stops the group before the rest), then the others in
 * batches of max_in_flight. Each instance is stopped (drained), given a new VM or disk when its
 * configuration needs one, and started on its new jobs.
 */
export class InstanceUpdates {
  constructor(
    private readonly steps: Steps,
    private readonly deployments: DeploymentStore,
    private readonly vms: Vms,
    private readonly disks: Disks,
    private readonly agent: Agent,
  ) {}

  async updateGroup(
    context: TaskContext,
    manifest: Manifest,
    group: InstanceGroup,
    entries: PlannedInstance[],
    values: Map<string, VariableValue>,
    params: DeployParams,
    drain: boolean,
  ): Promise<void> {
    const target = groupTarget(manifest, group, values, params);
    const changed = entries.filter(({ row }) => target.changes(row));
    if (changed.length === 0) return;
    const canaries = Math.min(target.policy.canaries, changed.length);
    const stage = context.events.stage('Updating instance', changed.length, [group.name]);
    const update = async (entry: PlannedInstance, canary: boolean) => {
      const action =
        entry.row.config_hash === null ? 'create' : target.needsNewVm(entry.row) ? 'recreate' : 'update';
      const name = `${entry.row.instance_group}/${entry.row.uuid}`;
      await stage.track(`${instanceName(entry.row)}${canary ? ' (canary)' : ''}`, () =>
        this.steps.recorded(context, entry.row, { action, objectType: 'instance', objectName: name }, () =>
          this.#updateOne(context, entry, target, drain),
        ),
      );
    };
    const canaryEntries = changed.slice(0, canaries);
    const rest = changed.slice(canaries);
    await inParallel(canaryEntries, target.maxInFlight, (entry) => update(entry, true));
    if (canaryEntries.length > 0) await context.checkpoint();
    for (let i = 0; i < rest.length; i += target.maxInFlight) {
      await inParallel(rest.slice(i, i + target.maxInFlight), target.maxInFlight, (entry) =>
        update(entry, false),
      );
      await context.checkpoint();
    }
  }

  async #updateOne(
    context: TaskContext,
    entry: PlannedInstance,
    target: GroupTarget,
    drain: boolean,
  ): Promise<void> {
    const { group } = entry;
    let row = entry.row;
    if (target.needsNewVm(row)) {
      const reservedIp = row.ips[0];
      row = await this.vms.delete(context, row, drain);
      row = await this.vms.create(context, row, group, target.stemcell, reservedIp);
    } else if (row.config_hash !== null) {
      await this.agent.stop(agentInstanceOf(row), { drain });
    }
    if (target.needsNewDisk(row) && row.vm_cid !== null) {
      row = await this.disks.migrate(context, row, group.persistentDisk, target.diskHash);
    }
    if (group.persistentDisk > 0 && row.disk_cid === null && row.vm_cid !== null) {
      // A resumed task may find a VM whose disk was never made (the director stopped in between).
      row = await this.disks.attachNew(context, row, group.persistentDisk, target.diskHash);
    }
    await this.agent.start({ ...agentInstanceOf(row), jobs: target.jobs });
    row = {
      ...row,
      jobs: stripJobs(target.jobs),
      state: 'started',
      config_hash: target.configHash,
      stemcell: target.stemcell,
      vm_hash: row.vm_hash ?? target.vmHash,
      disk_hash: row.disk_cid !== null ? (row.disk_hash ?? target.diskHash) : null,
    };
    await this.deployments.saveInstance(row);
    entry.row = row;
  }
}
