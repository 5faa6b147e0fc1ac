import { InputError } from '@openpks/domain';
import type { Cpi } from '../cpi/cpi.js';
import type { TaskContext } from './runner.js';
import type { ArtifactStore } from './store/artifactStore.js';
import type { EventStore } from './store/eventStore.js';

/**
 * `upload-stemcell <url>`: the sim has no bits to fetch, so it registers the stemcell from its metadata
 * (name and version, given or read from a bosh.io URL's `?v=`). Returns the path BOSH's task result names.
 */
export async function uploadStemcell(
  params: Record<string, unknown>,
  cpi: Cpi,
  artifacts: ArtifactStore,
): Promise<string> {
  const location = typeof params.location === 'string' ? params.location : '';
  const fromUrl = /stemcells\/([^?]+)\?v=([\w.]+)/.exec(location);
  const name = typeof params.name === 'string' ? params.name : fromUrl?.[1];
  const version = typeof params.version === 'string' ? params.version : fromUrl?.[2];
  if (!name || !version) {
    throw new InputError(
      'location',
      'the sim registers stemcells from metadata: give name and version (or a bosh.io URL with ?v=)',
    );
  }
  const os =
    typeof params.operating_system === 'string'
      ? params.operating_system
      : (/(ubuntu-\w+|windows\w*)/.exec(name)?.[1] ?? 'ubuntu-xenial');
  const cid = await cpi.create_stemcell(location, {});
  await artifacts.addStemcell({ name, version, operating_system: os, cid });
  return `/stemcells/${name}/${version}`;
}

/** `upload-release <url>`: registered from its metadata, as stemcells are. */
export async function uploadRelease(
  params: Record<string, unknown>,
  artifacts: ArtifactStore,
): Promise<string> {
  const location = typeof params.location === 'string' ? params.location : '';
  const fromUrl = /releases\/[^/]+\/([^?/]+)\?v=([\w.]+)/.exec(location);
  const name = typeof params.name === 'string' ? params.name : fromUrl?.[1];
  const version = typeof params.version === 'string' ? params.version : fromUrl?.[2];
  if (!name || !version) {
    throw new InputError(
      'location',
      'the sim registers releases from metadata: give name and version (or a bosh.io URL with ?v=)',
    );
  }
  await artifacts.addRelease({
    name,
    version,
    commit_hash: typeof params.commit_hash === 'string' ? params.commit_hash : 'unknown',
    job_names: Array.isArray(params.job_names) ? params.job_names.map(String) : [],
  });
  return `/releases/${name}/${version}`;
}

/** An upload records one event when it ends: what it registered (`/stemcells/name/version`), or why not. */
export async function recordUpload(
  context: TaskContext,
  events: EventStore,
  objectType: string,
  upload: () => Promise<string>,
): Promise<string> {
  const base = { user: context.task.username, action: 'create', objectType, task: context.task.id };
  // A lost event is said in the debug log; it must not turn a registered upload into a failure.
  const unrecorded = (failure: unknown) =>
    context.debug(`could not record the ${objectType} event: ${String(failure)}`).catch(() => undefined);
  let result: string;
  try {
    result = await upload();
  } catch (error) {
    await events.record({ ...base, error: (error as Error).message }).catch(unrecorded);
    throw error;
  }
  await events.record({ ...base, objectName: result.split('/').slice(2).join('/') }).catch(unrecorded);
  return result;
}
