import { NotFoundError } from '@openpks/domain';
import type { Agent } from '../../cpi/agent.js';
import { Lifecycle, parseManifest } from '../../manifest/manifest.js';
import type { TaskContext } from '../runner.js';
import type { DeploymentStore, InstanceRow } from '../store/deploymentStore.js';
import { deploymentNotFound } from '../store/deploymentStore.js';
import type { VariableStore } from '../store/variableStore.js';
import { desiredJobs, newInstance, stemcellOf, stripJobs } from './plan.js';
import { inParallel, instanceName } from './steps.js';
import { agentInstanceOf, type Vms } from './vms.js';

/**
 * `POST /deployments/:name/errands/:errand/runs`: bring up the errand's instances (an errand instance
 * group), or pick the first instance of a service group that has the job (smoke-tests on the masters);
 * run it on each and record every outcome as a result line; then delete the errand's VMs unless
 * `keep-alive`. The task's result says how many succeeded and errored.
 */
export class Errands {
  constructor(
    private readonly deployments: DeploymentStore,
    private readonly variables: VariableStore,
    private readonly vms: Vms,
    private readonly agent: Agent,
    private readonly maxThreads: number,
  ) {}

  async run(context: TaskContext, deployment: string, errand: string, keepAlive: boolean): Promise<string> {
    const text = await this.deployments.manifest(deployment);
    if (text === undefined) throw deploymentNotFound(deployment);
    const manifest = parseManifest(text);
    const values = await this.variables.all(deployment);
    const group = manifest.instanceGroups.find((g) => g.name === errand && g.lifecycle === Lifecycle.ERRAND);
    let targets: InstanceRow[];
    if (group !== undefined) {
      await context.events
        .stage('Preparing deployment', 1)
        .track('Preparing deployment', async () => undefined);
      const jobs = desiredJobs(group, values, deployment);
      const existing = new Map(
        (await this.deployments.instances(deployment))
          .filter((r) => r.instance_group === group.name)
          .map((r) => [r.index, r]),
      );
      const fresh: InstanceRow[] = [];
      for (let index = 0; index < Math.max(group.instances, 1); index++) {
        const row = existing.get(index);
        if (row?.vm_cid) continue;
        fresh.push(row ?? newInstance(deployment, group, index, Lifecycle.ERRAND, stripJobs(jobs)));
      }
      if (fresh.length > 0) {
        // Recorded before any VM is made, in one statement (as for a deploy's missing instances).
        await this.deployments.saveInstances(fresh);
        const stage = context.events.stage('Creating missing vms', fresh.length);
        await inParallel(fresh, this.maxThreads, async (row) => {
          await stage.track(instanceName(row), () =>
            this.vms.create(context, row, group, stemcellOf(manifest, group)),
          );
        });
      }
      targets = (await this.deployments.instances(deployment))
        .filter((r) => r.instance_group === group.name && r.vm_cid !== null)
        .map((r) => ({ ...r, jobs }));
    } else {
      const hosts = manifest.instanceGroups.filter(
        (g) => g.lifecycle === Lifecycle.SERVICE && g.jobs.some((j) => j.name === errand),
      );
      if (hosts.length === 0) throw new NotFoundError(`Errand '${errand}' doesn't exist`);
      targets = (await this.deployments.instances(deployment))
        .filter((r) => hosts.some((g) => g.name === r.instance_group) && r.vm_cid !== null)
        .slice(0, 1);
    }
    await context.checkpoint();
    let succeeded = 0;
    let errored = 0;
    const stage = context.events.stage('Running errand', targets.length);
    for (const row of targets) {
      await stage.track(instanceName(row), async () => {
        const outcome = await this.agent.runErrand(agentInstanceOf(row), errand);
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
      const created = (await this.deployments.instances(deployment)).filter(
        (r) => r.instance_group === group.name,
      );
      if (created.length > 0) {
        const cleanup = context.events.stage('Deleting errand instances', created.length);
        await inParallel(created, this.maxThreads, (row) =>
          cleanup.track(instanceName(row), () => this.vms.deleteInstance(context, row, false)),
        );
      }
    }
    return `${succeeded} succeeded, ${errored} errored, 0 canceled`;
  }
}
