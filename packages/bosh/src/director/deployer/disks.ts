import type { TaskContext } from '../runner.js';
import type { DeploymentStore, InstanceRow } from '../store/deploymentStore.js';
import { instanceName, type Steps } from './steps.js';

/** Persistent disks: made, attached, migrated and deleted, each recorded on its instance as it happens. */
export class Disks {
  constructor(
    private readonly steps: Steps,
    private readonly deployments: DeploymentStore,
  ) {}

  /** A new disk for the instance's VM (not yet attached); its cid. */
  create(context: TaskContext, row: InstanceRow, sizeMb: number, vmCid: string): Promise<string> {
    return this.steps.recorded(
      context,
      row,
      { action: 'create', objectType: 'disk' },
      () => this.steps.cpi(context, 'create_disk', (cpi) => cpi.create_disk(sizeMb, {}, vmCid)),
      (cid) => cid,
    );
  }

  delete(context: TaskContext, row: InstanceRow, diskCid: string): Promise<void> {
    return this.steps.recorded(
      context,
      row,
      { action: 'delete', objectType: 'disk', objectName: diskCid },
      () => this.steps.cpi(context, 'delete_disk', (cpi) => cpi.delete_disk(diskCid)),
    );
  }

  /**
   * BOSH's disk migration: a new disk of the new size/type, attached beside the old one (the data would
   * be copied), then the old one detached and deleted.
   */
  async migrate(
    context: TaskContext,
    row: InstanceRow,
    sizeMb: number,
    diskHash: string | null,
  ): Promise<InstanceRow> {
    const vmCid = row.vm_cid!;
    const oldDisk = row.disk_cid!;
    const newDisk = await this.create(context, row, sizeMb, vmCid);
    await this.steps.cpi(context, 'attach_disk', (cpi) => cpi.attach_disk(vmCid, newDisk));
    const moved = { ...row, disk_cid: newDisk, disk_hash: diskHash };
    await this.deployments.saveInstance(moved);
    await this.steps.cpi(context, 'detach_disk', (cpi) => cpi.detach_disk(vmCid, oldDisk));
    await this.delete(context, moved, oldDisk);
    await context.debug(`migrated the persistent disk of ${instanceName(moved)} to ${newDisk}`);
    return moved;
  }

  /** Makes and attaches the disk of a VM that has none (recorded before it is attached). */
  async attachNew(
    context: TaskContext,
    row: InstanceRow,
    sizeMb: number,
    diskHash: string | null,
  ): Promise<InstanceRow> {
    const vmCid = row.vm_cid!;
    const diskCid = await this.create(context, row, sizeMb, vmCid);
    const attached = { ...row, disk_cid: diskCid, disk_hash: diskHash };
    await this.deployments.saveInstance(attached);
    await this.steps.cpi(context, 'attach_disk', (cpi) => cpi.attach_disk(vmCid, diskCid));
    return attached;
  }
}
