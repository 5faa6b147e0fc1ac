import type { Manifest } from '../../manifest/manifest.js';
import type { Release, Stemcell } from '../../protocol/types.js';
import { parseJson, readBody, sendJson, type Router } from '../http.js';
import type { DeploymentStore } from '../store/deploymentStore.js';
import { TaskType } from '../tasks.js';
import type { RouteContext } from './context.js';
import { parsedOrNothing } from './deployments.js';

/**
 * Stemcells and releases: uploads (`upload-stemcell`, `upload-release`: tasks) and the lists, each
 * version with the deployments that use it.
 */
export function artifactRoutes(r: Router, context: RouteContext): void {
  const { artifacts, deployments } = context.stores;

  r.on('POST', '/stemcells', async (req, res) => {
    const body = parseJson(await readBody(req));
    await context.enqueue(req, res, TaskType.UPLOAD_STEMCELL, 'create stemcell', undefined, body);
  });

  r.on('POST', '/releases', async (req, res) => {
    const body = parseJson(await readBody(req));
    await context.enqueue(req, res, TaskType.UPLOAD_RELEASE, 'create release', undefined, body);
  });

  r.on('GET', '/stemcells', async (_req, res) => {
    const rows = await artifacts.stemcells();
    const deployed = await deployedManifests(deployments);
    sendJson(
      res,
      200,
      rows.map((row): Stemcell & { cpi: string; api_version: number } => ({
        ...row,
        // The CPI config's name for this stemcell's CPI; the sim is the only CPI, unnamed.
        cpi: '',
        api_version: 2,
        deployments: deployed
          .filter((d) =>
            d.manifest.stemcells.some(
              (s) => (s.name === row.name || s.os === row.operating_system) && s.version === row.version,
            ),
          )
          .map((d) => ({ name: d.name })),
      })),
    );
  });

  r.on('GET', '/releases', async (_req, res) => {
    const rows = await artifacts.releases();
    const deployed = await deployedManifests(deployments);
    const byName = new Map<string, Release['release_versions']>();
    for (const row of rows) {
      const versions = byName.get(row.name) ?? [];
      versions.push({
        version: row.version,
        commit_hash: row.commit_hash,
        uncommitted_changes: false,
        currently_deployed: deployed.some((d) =>
          d.manifest.releases.some((release) => release.name === row.name && release.version === row.version),
        ),
        job_names: row.job_names,
      });
      byName.set(row.name, versions);
    }
    sendJson(
      res,
      200,
      [...byName].map(([name, release_versions]): Release => ({ name, release_versions })),
    );
  });
}

async function deployedManifests(
  deployments: DeploymentStore,
): Promise<{ name: string; manifest: Manifest }[]> {
  return (await deployments.list()).flatMap((row) => {
    const manifest = parsedOrNothing(row.manifest);
    return manifest === undefined ? [] : [{ name: row.name, manifest }];
  });
}
