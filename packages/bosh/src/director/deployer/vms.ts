import { randomUUID } from 'node:crypto';
import type { Agent, AgentInstance } from '../../cpi/agent.js';
import type { InstanceGroup } from '../../manifest/manifest.js';
import type { TaskContext } from '../runner.js';
import type { DeploymentStore, InstanceRow } from '../store/deploymentStore.js';
import type { Disks } from './disks.js';
import { diskHash, vmHash } from './plan.js';
import { instanceName, type Steps } from './steps.js';

/** The agent's view of an instance: where it runs and what. */
export function agentInstanceOf(row: InstanceRow): AgentInstance {
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

/**
 * VMs: created (with their disk), deleted (drained first), and instances deleted with them. Every VM is
 * recorded on its instance the moment the CPI made it, so a retry or a resume never leaks one.
 */
export class Vms {
  constructor(
    private readonly steps: Steps,
    private readonly deployments: DeploymentStore,
    private readonly disks: Disks,
    private readonly agent: Agent,
    private readonly directorName: string,
  ) {}

  async create(
    context: TaskContext,
    row: InstanceRow,
    group: InstanceGroup,
    stemcell: string,
    /** The instance's reserved IP (kept across recreates, as BOSH's manual networks do). */
    reservedIp?: string,
  ): Promise<InstanceRow> {
    // An agent id already on the row was recorded before an earlier create_vm of a task that was then
    // interrupted: asked again with it, the CPI answers with the VM it made then (see the deploy's resume).
    const agentId = row.agent_id ?? randomUUID();
    const networks = Object.fromEntries(
      group.networks.map((n, i) => [
        n.name,
        { type: 'manual' as const, ...(i === 0 && reservedIp !== undefined ? { ip: reservedIp } : {}) },
      ]),
    );
    const env = {
      ...group.env,
      bosh: {
        group: `${this.directorName}-${row.deployment}-${row.instance_group}`,
        groups: [this.directorName, row.deployment, row.instance_group],
      },
    };
    const [vmCid, assigned] = await this.steps.recorded(
      context,
      row,
      { action: 'create', objectType: 'vm' },
      () =>
        this.steps.cpi(context, 'create_vm', (cpi) =>
          cpi.create_vm(
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
      vm_hash: vmHash(group, stemcell),
    };
    await this.deployments.saveInstance(updated);
    // Not waited for: it goes with the task's next write.
    context
      .debug(`created VM ${vmCid} (${ips.join(', ')}) for ${instanceName(row)}`, false)
      .catch(() => undefined);
    if (group.persistentDisk > 0) {
      const diskCid = row.disk_cid ?? (await this.disks.create(context, row, group.persistentDisk, vmCid));
      updated = {
        ...updated,
        disk_cid: diskCid,
        disk_hash: row.disk_cid ? row.disk_hash : diskHash(group),
      };
      await this.deployments.saveInstance(updated);
      await this.steps.cpi(context, 'attach_disk', (cpi) => cpi.attach_disk(vmCid, diskCid));
    }
    await this.steps.cpi(context, 'set_vm_metadata', (cpi) =>
      cpi.set_vm_metadata(vmCid, {
        director: this.directorName,
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

  /** Stops the instance's jobs (drained unless told not to), detaches its disk and deletes its VM. */
  async delete(context: TaskContext, row: InstanceRow, drain: boolean): Promise<InstanceRow> {
    if (row.vm_cid === null) return row;
    await this.agent.stop(agentInstanceOf(row), { drain });
    const vmCid = row.vm_cid;
    if (row.disk_cid) {
      const diskCid = row.disk_cid;
      await this.steps.cpi(context, 'detach_disk', (cpi) => cpi.detach_disk(vmCid, diskCid));
    }
    await this.steps.recorded(context, row, { action: 'delete', objectType: 'vm', objectName: vmCid }, () =>
      this.steps.cpi(context, 'delete_vm', (cpi) => cpi.delete_vm(vmCid)),
    );
    const updated = { ...row, vm_cid: null, agent_id: null, ips: [], vm_created_at: null, vm_hash: null };
    await this.deployments.saveInstance(updated);
    context.debug(`deleted VM ${vmCid} of ${instanceName(row)}`, false).catch(() => undefined);
    return updated;
  }

  /** Deletes an instance: its VM, its disk, then its record. */
  async deleteInstance(context: TaskContext, row: InstanceRow, drain: boolean): Promise<void> {
    const name = `${row.instance_group}/${row.uuid}`;
    await this.steps.recorded(
      context,
      row,
      { action: 'delete', objectType: 'instance', objectName: name },
      async () => {
        const gone = await this.delete(context, row, drain);
        if (gone.disk_cid) await this.disks.delete(context, gone, gone.disk_cid);
        await this.deployments.removeInstance(row);
      },
    );
  }
}
