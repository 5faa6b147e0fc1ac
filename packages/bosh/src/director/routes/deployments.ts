import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDocument } from 'yaml';
import { InputError } from '@openpks/domain';
import { Lifecycle, parseManifest, type Manifest } from '../../manifest/manifest.js';
import type { DeploymentSummary, Instance } from '../../protocol/types.js';
import type { DeployParams } from '../deployer/plan.js';
import { diffManifests } from '../diff.js';
import { parseJson, readBody, sendJson, type Router } from '../http.js';
import { TaskType } from '../tasks.js';
import { requireDeployment, type RouteContext } from './context.js';

/**
 * Deployments: the list (`bosh deployments`), a manifest, instances and VMs (`?format=full` is a task,
 * as in BOSH), deploy (`POST /deployments`, text/yaml, a task), the diff the CLI asks for first, delete,
 * and errands (listed, and run as a task).
 */
export function deploymentRoutes(r: Router, context: RouteContext): void {
  const { deployments, artifacts, configs, tasks } = context.stores;

  r.on('GET', '/deployments', async (_req, res) => {
    const rows = await deployments.list();
    const latestCloud = await configs.latestCloudConfigId();
    // A manifest may name its stemcell by OS; BOSH lists the stemcell's own name.
    const uploaded = await artifacts.stemcells();
    const stemcellName = (s: { name?: string; os?: string; version: string }) =>
      uploaded.find((u) => (u.name === s.name || u.operating_system === s.os) && u.version === s.version)
        ?.name ??
      s.name ??
      `bosh-sim-${s.os}-go_agent`;
    const locked = new Set((await tasks.locks()).map((lock) => lock.deployment));
    sendJson(
      res,
      200,
      rows.map((row): DeploymentSummary => {
        const manifest = parsedOrNothing(row.manifest);
        return {
          name: row.name,
          cloud_config:
            latestCloud === null ? 'none' : row.cloud_config_id === latestCloud ? 'latest' : 'outdated',
          releases: [...(manifest?.releases ?? [])]
            .map((release) => ({ name: release.name, version: release.version }))
            .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version)),
          stemcells: (manifest?.stemcells ?? []).map((s) => ({ name: stemcellName(s), version: s.version })),
          teams: [],
          locked: locked.has(row.name),
        };
      }),
    );
  });

  r.on('GET', '/deployments/:name', async (_req, res, { name }) => {
    sendJson(res, 200, { manifest: await deployments.requireManifest(name!) });
  });

  const listInstances =
    (vmsOnly: boolean) =>
    async (
      req: IncomingMessage,
      res: ServerResponse,
      params: Record<string, string>,
      query: URLSearchParams,
    ) => {
      const name = params.name!;
      await requireDeployment(context, name);
      if (query.get('format') === 'full') {
        await context.enqueue(req, res, TaskType.VMS, 'retrieve vm-stats', name, { vmsOnly });
        return;
      }
      const rows = await deployments.instances(name);
      sendJson(
        res,
        200,
        rows
          .filter((row) => !vmsOnly || row.vm_cid !== null)
          .map((row): Instance => ({
            // An agent id without a VM is only the one its next VM will be made for.
            agent_id: row.vm_cid === null ? null : row.agent_id,
            cid: row.vm_cid,
            job: row.instance_group,
            index: row.index,
            id: row.uuid,
            az: row.az,
            ips: row.ips,
            // Ruby's Time#iso8601: to the second.
            vm_created_at: row.vm_created_at
              ? `${new Date(row.vm_created_at).toISOString().slice(0, 19)}Z`
              : null,
            ...(vmsOnly ? { active: true } : { expects_vm: row.lifecycle === 'service' }),
          })),
      );
    };
  r.on('GET', '/deployments/:name/instances', listInstances(false));
  r.on('GET', '/deployments/:name/vms', listInstances(true));

  r.on('POST', '/deployments', async (req, res, _params, query) => {
    const text = await readBody(req);
    let name: string;
    try {
      // Parsed as the task will parse it (and cached by text, so the task does not parse it again).
      name = parseManifest(text).name;
    } catch {
      // An invalid manifest still makes a task, which fails with BOSH's wording; only its name is needed.
      try {
        const parsed: unknown = parseDocument(text).toJS();
        name = String((parsed as { name?: unknown } | null)?.name ?? '');
      } catch {
        name = '';
      }
    }
    if (name === '') throw new InputError('manifest', 'Manifest should contain a deployment name');
    const flag = (key: string) => query.get(key) === 'true';
    const params: DeployParams = {
      manifest: text,
      recreate: flag('recreate'),
      fix: flag('fix'),
      dryRun: flag('dry_run'),
      skipDrain: query.has('skip_drain') && query.get('skip_drain') !== 'false',
      ...(query.get('canaries') ? { canaries: Number(query.get('canaries')) } : {}),
      ...(query.get('max_in_flight') ? { maxInFlight: String(query.get('max_in_flight')) } : {}),
    };
    await context.enqueue(
      req,
      res,
      TaskType.UPDATE_DEPLOYMENT,
      'create deployment',
      name,
      params as unknown as Record<string, unknown>,
    );
  });

  r.on('POST', '/deployments/:name/diff', async (req, res, { name }) => {
    const text = await readBody(req);
    const current = await deployments.manifest(name!);
    let diff;
    try {
      diff = diffManifests(current, text);
    } catch (error) {
      throw new InputError(
        'manifest',
        `Incorrect YAML structure of the uploaded manifest: ${(error as Error).message}`,
      );
    }
    const cloud = await configs.latestCloudConfigId();
    sendJson(res, 200, {
      context: { cloud_config_ids: cloud ? [String(cloud)] : [], runtime_config_ids: [] },
      diff,
    });
  });

  r.on('DELETE', '/deployments/:name', async (req, res, { name }, query) => {
    await requireDeployment(context, name!);
    await context.enqueue(req, res, TaskType.DELETE_DEPLOYMENT, `delete deployment ${name}`, name, {
      force: query.get('force') === 'true',
    });
  });

  r.on('GET', '/deployments/:name/errands', async (_req, res, { name }) => {
    const manifest = parseManifest(await deployments.requireManifest(name!));
    sendJson(
      res,
      200,
      manifest.instanceGroups.filter((g) => g.lifecycle === Lifecycle.ERRAND).map((g) => ({ name: g.name })),
    );
  });

  r.on('POST', '/deployments/:name/errands/:errand/runs', async (req, res, { name, errand }) => {
    const body = parseJson(await readBody(req));
    await deployments.requireManifest(name!);
    await context.enqueue(req, res, TaskType.RUN_ERRAND, `run errand ${errand}`, name, {
      errand,
      keepAlive: body['keep-alive'] === true,
    });
  });
}

/** A stored manifest was valid when deployed; one that no longer parses lists as having nothing. */
export function parsedOrNothing(manifest: string): Manifest | undefined {
  try {
    return parseManifest(manifest);
  } catch {
    return undefined;
  }
}
