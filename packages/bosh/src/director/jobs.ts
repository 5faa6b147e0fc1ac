import type { Cpi } from '../cpi/cpi.js';
import { parseManifest, type Manifest } from '../manifest/manifest.js';
import type { Deployer } from './deployer/deployer.js';
import type { DeployParams } from './deployer/plan.js';
import { withEvents } from './events.js';
import { instanceDetails } from './instanceDetails.js';
import type { HandlerEntry, TaskContext } from './runner.js';
import type { DirectorStores } from './store/index.js';
import { TaskType } from './tasks.js';
import { recordUpload, uploadRelease, uploadStemcell } from './uploads.js';

/**
 * What each task type runs (BOSH's `Jobs::*`), and whether a restarted Director may resume it: deploys,
 * deletes, the full instance listing and uploads converge on recorded state and resume; an errand run
 * does not (its outcome would be run twice). Changes are recorded as BOSH's events, a start and an end.
 */
export function directorJobs(deps: {
  stores: DirectorStores;
  deployer: Deployer;
  cpi: Cpi;
  kubePort: number;
}): Record<string, HandlerEntry> {
  const { stores, deployer, cpi, kubePort } = deps;
  const { events, deployments, artifacts } = stores;
  // The deployed manifest, undefined before a first deploy succeeded (a failed one has instances only).
  const currentManifest = (name: string) =>
    deployments.manifest(name).then(
      (text) => (text === undefined ? undefined : parseManifest(text)),
      () => undefined,
    );
  const deploymentEvent = (context: TaskContext, action: string) => {
    const deployment = context.task.deployment!;
    return { action, objectType: 'deployment', objectName: deployment, deployment };
  };
  return {
    [TaskType.UPDATE_DEPLOYMENT]: {
      resumable: true,
      run: async (context) => {
        const params = context.task.params as unknown as DeployParams;
        const deploy = () => deployer.deploy(context, params);
        // A dry run changes nothing, so it records no change.
        if (params.dryRun === true) return deploy();
        const before = await currentManifest(context.task.deployment!);
        return withEvents(
          context,
          deploymentEvent(context, before === undefined ? 'create' : 'update'),
          deploy,
          { before: artifactsOf(before), after: artifactsOf(parseManifest(params.manifest)) },
        );
      },
    },
    [TaskType.DELETE_DEPLOYMENT]: {
      resumable: true,
      run: (context) =>
        withEvents(context, deploymentEvent(context, 'delete'), () =>
          deployer.delete(context, context.task.deployment!, context.task.params.force === true),
        ),
    },
    [TaskType.RUN_ERRAND]: {
      resumable: false,
      run: (context) =>
        withEvents(
          context,
          {
            action: 'run',
            objectType: 'errand',
            objectName: String(context.task.params.errand),
            deployment: context.task.deployment,
          },
          () =>
            deployer.runErrand(
              context,
              context.task.deployment!,
              String(context.task.params.errand),
              context.task.params.keepAlive === true,
            ),
        ),
    },
    [TaskType.VMS]: {
      resumable: true,
      run: async (context) => {
        const deployment = context.task.deployment!;
        const manifest = await currentManifest(deployment);
        const rows = (await deployments.instances(deployment)).filter(
          (row) => context.task.params.vmsOnly !== true || row.vm_cid !== null,
        );
        const stemcells = await artifacts.stemcells();
        for (const line of await instanceDetails(rows, manifest, { kubePort, stemcells }))
          await context.result(line);
        return 'retrieved vm-state';
      },
    },
    [TaskType.UPLOAD_STEMCELL]: {
      resumable: true,
      run: (context) =>
        recordUpload(context, events, 'stemcell', () => uploadStemcell(context.task.params, cpi, artifacts)),
    },
    [TaskType.UPLOAD_RELEASE]: {
      resumable: true,
      run: (context) =>
        recordUpload(context, events, 'release', () => uploadRelease(context.task.params, artifacts)),
    },
  };
}

/** A deployment's releases and stemcells as `name/version`, as BOSH's deploy events carry them. */
function artifactsOf(manifest: Manifest | undefined): { releases: string[]; stemcells: string[] } {
  return {
    releases: (manifest?.releases ?? []).map((r) => `${r.name}/${r.version}`),
    stemcells: (manifest?.stemcells ?? []).map((s) => `${s.name ?? s.os}/${s.version}`),
  };
}
