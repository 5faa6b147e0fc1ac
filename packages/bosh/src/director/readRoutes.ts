import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database } from '@openpks/db';
import { InputError, NotFoundError } from '@openpks/domain';
import { parseManifest, type Manifest } from '../manifest/manifest.js';
import type { InstanceRow } from './deployer.js';
import type { EventStore } from './events.js';
import { parseRange, sendJson, type Router } from './http.js';
import {
  DEPLOYMENT_TASK_TYPES,
  OutputType,
  TaskType,
  taskJson,
  taskNotFound,
  type TaskStore,
} from './tasks.js';

/**
 * The Director's read routes, in the shapes bosh CLI v7 decodes (`director/*.go` in cloudfoundry/bosh-cli)
 * and BOSH's controllers write (`api/controllers/*.rb` in cloudfoundry/bosh): what `bosh env`,
 * `deployments`, `instances`, `vms`, `tasks`, `task`, `events`, `manifest`, `cloud-config`,
 * `runtime-config`, `cpi-config`, `configs`, `stemcells`, `releases` and `locks` read.
 */
export interface ReadRouteDeps {
  db: Database;
  tasks: TaskStore;
  events: EventStore;
  instances(deployment: string): Promise<InstanceRow[]>;
  requireDeployment(name: string): Promise<void>;
  manifestOf(name: string): Promise<string>;
  /** The certificates the Director serves with, by the job property BOSH names them with. */
  certificates(): { path: string; pem: string }[];
  /** Starts a task and answers 302 to it (the full instance listings are tasks, as in BOSH). */
  enqueue(
    req: IncomingMessage,
    res: ServerResponse,
    type: TaskType,
    description: string,
    deployment: string | undefined,
    params: Record<string, unknown>,
  ): Promise<void>;
}

export function addReadRoutes(r: Router, deps: ReadRouteDeps): void {
  const { db, tasks } = deps;

  r.on('GET', '/deployments', async (_req, res) => {
    const { rows } = await db.query<{ name: string; manifest: string; cloud_config_id: number | null }>(
      'SELECT name, manifest, cloud_config_id FROM director.deployments ORDER BY name',
    );
    const latestCloud = await latestCloudConfigId(db);
    // A manifest may name its stemcell by OS; BOSH lists the stemcell's own name.
    const { rows: uploaded } = await db.query<{ name: string; operating_system: string; version: string }>(
      'SELECT name, operating_system, version FROM director.stemcells',
    );
    const stemcellName = (s: { name?: string; os?: string; version: string }) =>
      uploaded.find((u) => (u.name === s.name || u.operating_system === s.os) && u.version === s.version)
        ?.name ??
      s.name ??
      `bosh-sim-${s.os}-go_agent`;
    const locked = new Set((await deploymentLocks(db)).map((lock) => lock.deployment));
    sendJson(
      res,
      200,
      rows.map((row) => {
        const manifest = parsed(row.manifest);
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
    sendJson(res, 200, { manifest: await deps.manifestOf(name!) });
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
      await deps.requireDeployment(name);
      if (query.get('format') === 'full') {
        await deps.enqueue(req, res, TaskType.VMS, 'retrieve vm-stats', name, { vmsOnly });
        return;
      }
      const rows = await deps.instances(name);
      sendJson(
        res,
        200,
        rows
          .filter((row) => !vmsOnly || row.vm_cid !== null)
          .map((row) => ({
            agent_id: row.agent_id,
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

  r.on('GET', '/tasks', async (_req, res, _params, query) => {
    // BOSH: `verbose` other than "1" (the default) shows every task type; a `limit` below 1 is 1; no
    // limit lists them all (`bosh tasks` lists every running task that way).
    const verbose = query.get('verbose') ?? '1';
    const limit = query.get('limit');
    const states = (query.get('state') ?? '').split(',').filter((s) => s !== '');
    const rows = await tasks.list({
      ...(states.length > 0 ? { states } : {}),
      ...(query.get('deployment') ? { deployment: query.get('deployment')! } : {}),
      ...(query.get('context_id') ? { contextId: query.get('context_id')! } : {}),
      limit: limit === null ? null : Math.max(Number.parseInt(limit, 10) || 0, 1),
      ...(verbose === '1' ? { types: DEPLOYMENT_TASK_TYPES } : {}),
    });
    sendJson(res, 200, rows.map(taskJson));
  });

  r.on('GET', '/tasks/:id', async (_req, res, { id }) => {
    sendJson(res, 200, taskJson(await tasks.summary(taskId(id!))));
  });

  r.on('GET', '/tasks/:id/output', async (req, res, { id }, query) => {
    // BOSH shows the debug log when no type is named.
    const type = query.get('type') ?? OutputType.DEBUG;
    const task = taskId(id!);
    if (type === 'none') {
      await tasks.summary(task);
      res.writeHead(204);
      res.end();
      return;
    }
    if (!(Object.values(OutputType) as string[]).includes(type)) {
      throw new InputError('type', `unknown output type '${type}'`, {
        allowed: 'event, result, debug, cpi, none',
      });
    }
    const output = Buffer.from(await tasks.output(task, type as OutputType), 'utf8');
    const range = parseRange(req.headers.range);
    if (range === undefined) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(output.length) });
      res.end(output);
      return;
    }
    if (range.start >= output.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${output.length}` });
      res.end();
      return;
    }
    const end = Math.min(range.end ?? output.length - 1, output.length - 1);
    const slice = output.subarray(range.start, end + 1);
    res.writeHead(206, {
      'Content-Type': 'text/plain',
      'Content-Range': `bytes ${range.start}-${end}/${output.length}`,
      'Content-Length': String(slice.length),
    });
    res.end(slice);
  });

  r.on('GET', '/events', async (_req, res, _params, query) => {
    sendJson(
      res,
      200,
      await deps.events.list({
        beforeId: query.get('before_id'),
        beforeTime: query.get('before_time'),
        afterTime: query.get('after_time'),
        task: query.get('task'),
        deployment: query.get('deployment'),
        instance: query.get('instance'),
        user: query.get('user'),
        action: query.get('action'),
        objectType: query.get('object_type'),
        // BOSH's controller reads `object_id`; the CLI's flag is --object-name.
        objectName: query.get('object_name') ?? query.get('object_id'),
      }),
    );
  });

  r.on('GET', '/locks', async (_req, res) => {
    sendJson(
      res,
      200,
      (await deploymentLocks(db)).map((lock) => ({
        type: 'deployment',
        resource: [lock.deployment],
        // BOSH's `expired_at.strftime('%s.%6N')`: the CLI parses it as a float of seconds.
        timeout: (lock.expiresAt.getTime() / 1000).toFixed(6),
        task_id: String(lock.taskId),
      })),
    );
  });

  r.on('GET', '/configs', async (_req, res, _params, query) => {
    const latest = query.get('latest');
    const limit = query.get('limit');
    if (latest === null && limit === null) {
      throw new InputError('latest', "'latest' is required");
    }
    if (latest !== null && latest !== 'true' && latest !== 'false') {
      throw new InputError('latest', "'latest' must be 'true' or 'false'");
    }
    const perName =
      limit !== null ? Math.max(Number.parseInt(limit, 10) || 0, 1) : latest === 'true' ? 1 : null;
    const rows = await configs(db, {
      type: query.get('type') || undefined,
      name: query.get('name') || undefined,
      perName,
    });
    sendJson(res, 200, rows.map(configJson));
  });

  r.on('GET', '/configs/:id', async (_req, res, { id }) => {
    const number = Number(id);
    if (!Number.isInteger(number) || String(number) !== id)
      throw new InputError('id', `'${id}' is not a config id`);
    const { rows } = await db.query<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM director.configs WHERE id = $1`,
      [number],
    );
    if (rows[0] === undefined) throw new NotFoundError(`Config ${id} not found`);
    sendJson(res, 200, configJson(rows[0]));
  });

  // The legacy per-type endpoints `bosh cloud-config`, `runtime-config` and `cpi-config` read:
  // `{properties, created_at}`, newest first, `limit` required.
  for (const [path, type] of [
    ['/cloud_configs', 'cloud'],
    ['/runtime_configs', 'runtime'],
    ['/cpi_configs', 'cpi'],
  ] as const) {
    r.on('GET', path, async (_req, res, _params, query) => {
      const limit = query.get('limit');
      if (limit === null || limit === '') {
        sendText(res, 400, 'limit is required');
        return;
      }
      if (!/^[-+]?\d+$/.test(limit)) {
        sendText(res, 400, `limit is invalid: '${limit}' is not an integer`);
        return;
      }
      const rows = await configs(db, {
        type,
        name: query.get('name') || 'default',
        perName: Math.max(Number(limit), 1),
      });
      sendJson(
        res,
        200,
        rows.map((row) => ({ properties: row.content, created_at: new Date(row.created_at).toISOString() })),
      );
    });
  }

  // `bosh env --details`: when each certificate the Director serves with expires.
  r.on('GET', '/director/certificate_expiry', async (_req, res) => {
    const now = Date.now();
    sendJson(
      res,
      200,
      deps.certificates().map(({ path, pem }) => {
        const notAfter = new Date(new X509Certificate(pem).validTo);
        return {
          certificate_path: path,
          expiry: `${notAfter.toISOString().slice(0, 19)}Z`,
          days_left: Math.floor((notAfter.getTime() - now) / 86_400_000),
        };
      }),
    );
  });

  r.on('GET', '/stemcells', async (_req, res) => {
    const { rows } = await db.query<{
      name: string;
      version: string;
      operating_system: string;
      cid: string;
    }>('SELECT name, version, operating_system, cid FROM director.stemcells ORDER BY name, version');
    const deployments = await deploymentManifests(db);
    sendJson(
      res,
      200,
      rows.map((row) => ({
        ...row,
        // The CPI config's name for this stemcell's CPI; the sim is the only CPI, unnamed.
        cpi: '',
        api_version: 2,
        deployments: deployments
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
    const { rows } = await db.query<{
      name: string;
      version: string;
      commit_hash: string;
      job_names: string[];
    }>('SELECT name, version, commit_hash, job_names FROM director.releases ORDER BY name, version');
    const deployments = await deploymentManifests(db);
    const byName = new Map<string, unknown[]>();
    for (const row of rows) {
      const versions = byName.get(row.name) ?? [];
      versions.push({
        version: row.version,
        commit_hash: row.commit_hash,
        uncommitted_changes: false,
        currently_deployed: deployments.some((d) =>
          d.manifest.releases.some((release) => release.name === row.name && release.version === row.version),
        ),
        job_names: row.job_names,
      });
      byName.set(row.name, versions);
    }
    sendJson(
      res,
      200,
      [...byName].map(([name, release_versions]) => ({ name, release_versions })),
    );
  });
}

interface ConfigRow {
  id: number;
  name: string;
  type: string;
  content: string;
  created_at: Date;
}

const CONFIG_COLUMNS = 'id, name, type, content, created_at';

/** Configs not deleted, newest first; `perName` keeps that many of each (type, name). */
async function configs(
  db: Database,
  filter: { type?: string | undefined; name?: string | undefined; perName: number | null },
): Promise<ConfigRow[]> {
  const where = ['NOT deleted'];
  const params: unknown[] = [];
  if (filter.type !== undefined) {
    params.push(filter.type);
    where.push(`type = $${params.length}`);
  }
  if (filter.name !== undefined) {
    params.push(filter.name);
    where.push(`name = $${params.length}`);
  }
  const ranked = `SELECT ${CONFIG_COLUMNS}, row_number() OVER (PARTITION BY type, name ORDER BY id DESC) AS rank
                  FROM director.configs WHERE ${where.join(' AND ')}`;
  if (filter.perName !== null) params.push(filter.perName);
  const { rows } = await db.query<ConfigRow>(
    `SELECT ${CONFIG_COLUMNS} FROM (${ranked}) c
     ${filter.perName !== null ? `WHERE rank <= $${params.length}` : ''}
     ORDER BY type, name, id DESC`,
    params,
  );
  return rows;
}

/** bosh-cli `director/configs.go` `Config`: the id is a string (opaque to clients, BOSH says). */
function configJson(row: ConfigRow): Record<string, unknown> {
  return {
    id: String(row.id),
    name: row.name,
    type: row.type,
    content: row.content,
    created_at: new Date(row.created_at).toISOString(),
    team: null,
  };
}

/** A deployment's lock is held by the task that runs on it: its lease says until when. */
async function deploymentLocks(
  db: Database,
): Promise<{ deployment: string; taskId: number; expiresAt: Date }[]> {
  const { rows } = await db.query<{ deployment: string; id: number; expires_at: Date }>(
    `SELECT DISTINCT ON (deployment) deployment, id, COALESCE(lease_expires_at, now()) AS expires_at
     FROM director.tasks WHERE state IN ('processing', 'cancelling') AND deployment IS NOT NULL
     ORDER BY deployment, id`,
  );
  return rows.map((row) => ({
    deployment: row.deployment,
    taskId: row.id,
    expiresAt: new Date(row.expires_at),
  }));
}

async function latestCloudConfigId(db: Database): Promise<number | null> {
  const { rows } = await db.query<{ id: number | null }>(
    "SELECT max(id) AS id FROM director.configs WHERE type = 'cloud' AND NOT deleted",
  );
  return rows[0]?.id ?? null;
}

function parsed(manifest: string): Manifest | undefined {
  try {
    return parseManifest(manifest);
  } catch {
    // a stored manifest was valid when deployed
    return undefined;
  }
}

async function deploymentManifests(db: Database): Promise<{ name: string; manifest: Manifest }[]> {
  const { rows } = await db.query<{ name: string; manifest: string }>(
    'SELECT name, manifest FROM director.deployments',
  );
  return rows.flatMap((row) => {
    const manifest = parsed(row.manifest);
    return manifest === undefined ? [] : [{ name: row.name, manifest }];
  });
}

/** BOSH answers some parameter errors with a bare text body (Sinatra `body(...)`). */
function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

export function taskId(text: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw taskNotFound(text);
  return id;
}
