import { parseDocument } from 'yaml';
import { InputError, NotFoundError } from '@openpks/domain';
import type { DirectorConfig } from '../../protocol/types.js';
import { parseJson, readBody, sendJson, type Router } from '../http.js';
import type { ConfigRow } from '../store/configStore.js';
import { sendText, userOf, type RouteContext } from './context.js';

/**
 * Configs (`bosh configs`, `update-config`, `delete-config`, `config`) and the legacy per-type reads
 * `bosh cloud-config`, `runtime-config` and `cpi-config` use. A config posted again unchanged makes no
 * new version and records nothing, as in BOSH.
 */
export function configRoutes(r: Router, context: RouteContext): void {
  const { configs, events } = context.stores;

  r.on('POST', '/configs', async (req, res) => {
    const body = parseJson(await readBody(req));
    const type = typeof body.type === 'string' ? body.type : '';
    const name = typeof body.name === 'string' && body.name !== '' ? body.name : 'default';
    const content = typeof body.content === 'string' ? body.content : '';
    if (type === '') throw new InputError('type', "Required property 'type' was not specified");
    try {
      parseDocument(content, { uniqueKeys: true }).toJS();
    } catch (error) {
      throw new InputError('content', `Config must be valid YAML: ${(error as Error).message}`);
    }
    // As BOSH: the same content as the latest config of that type and name makes no new version.
    const latest = await configs.latest(type, name);
    let config = latest?.content === content ? latest : undefined;
    if (config === undefined) {
      config = await configs.add(type, name, content);
      await events.record({
        user: userOf(req) ?? null,
        action: 'create',
        objectType: `config/${type}`,
        objectName: name,
      });
    }
    sendJson(res, 201, configJson(config));
  });

  r.on('DELETE', '/configs', async (_req, res, _params, query) => {
    const deleted = await configs.delete(query.get('type'), query.get('name') ?? 'default');
    res.writeHead(deleted ? 204 : 404);
    res.end();
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
    const rows = await configs.list({
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
    const row = await configs.get(number);
    if (row === undefined) throw new NotFoundError(`Config ${id} not found`);
    sendJson(res, 200, configJson(row));
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
      const rows = await configs.list({
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
}

/** bosh-cli `director/configs.go` `Config`: the id is a string (opaque to clients, BOSH says). */
function configJson(row: ConfigRow): DirectorConfig & { team: null } {
  return {
    id: String(row.id),
    name: row.name,
    type: row.type,
    content: row.content,
    created_at: new Date(row.created_at).toISOString(),
    team: null,
  };
}
