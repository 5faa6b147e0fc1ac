import { InputError } from '@openpks/domain';
import type { Manifest } from '../../manifest/manifest.js';
import type { TaskContext } from '../runner.js';
import type { ArtifactStore } from '../store/artifactStore.js';
import type { Steps } from './steps.js';

/**
 * The releases and stemcells a manifest names must have been uploaded. With `autoRegister` (PKS's tile
 * uploaded them; the sim has no bits to check) one that is missing is registered from its metadata, with
 * a warning in the event log; without it, it is BOSH's error.
 */
export async function registerArtifacts(
  context: TaskContext,
  manifest: Manifest,
  deps: { artifacts: ArtifactStore; steps: Steps; autoRegister: boolean },
): Promise<void> {
  const { artifacts, steps, autoRegister } = deps;
  for (const release of manifest.releases) {
    if (await artifacts.hasRelease(release.name, release.version)) continue;
    if (!autoRegister) {
      throw new InputError('releases', `Release '${release.name}/${release.version}' doesn't exist`);
    }
    const jobs = [
      ...new Set(
        manifest.instanceGroups.flatMap((g) =>
          g.jobs.filter((j) => j.release === release.name).map((j) => j.name),
        ),
      ),
    ];
    await artifacts.addRelease({ name: release.name, version: release.version, job_names: jobs });
    await context.events.warning(
      `Release '${release.name}/${release.version}' was not uploaded; the sim registered its metadata`,
    );
  }
  for (const stemcell of manifest.stemcells) {
    const name = stemcell.name ?? `bosh-sim-${stemcell.os}-go_agent`;
    const os = stemcell.os ?? stemcell.name ?? 'unknown';
    if (await artifacts.hasStemcell(name, os, stemcell.version)) continue;
    if (!autoRegister) {
      throw new InputError('stemcells', `Stemcell '${os}/${stemcell.version}' doesn't exist`);
    }
    const cid = await steps.cpi(context, 'create_stemcell', (cpi) => cpi.create_stemcell('', {}));
    await artifacts.addStemcell({ name, version: stemcell.version, operating_system: os, cid });
    await context.events.warning(
      `Stemcell '${os}/${stemcell.version}' was not uploaded; the sim registered its metadata`,
    );
  }
}
