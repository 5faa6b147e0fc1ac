import { InputError } from '@openpks/domain';
import { TaskState } from '../../protocol/types.js';
import { parseJson, parseRange, readBody, sendJson, type Router } from '../http.js';
import { DEPLOYMENT_TASK_TYPES, OutputType, taskJson } from '../tasks.js';
import { taskId, type RouteContext } from './context.js';
import { streamTaskEvents, type TaskWatchers } from './taskEventStream.js';

/**
 * Tasks: the list (`bosh tasks`, BOSH's filters), one task, its outputs (event, result, debug, cpi; Range
 * reads for the event log a client tails), cancels (one, many, and `bosh cancel-task`'s `DELETE /task`),
 * the push stream of its events, and the deployment locks running tasks hold.
 */
export function taskRoutes(r: Router, context: RouteContext, watchers: TaskWatchers): void {
  const { tasks } = context.stores;

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

  r.on('GET', '/tasks/:id/event_stream', async (req, res, { id }) =>
    streamTaskEvents(req, res, taskId(id!), tasks, watchers, context.stopping),
  );

  r.on('POST', '/tasks/cancel', async (req, res) => {
    const body = parseJson(await readBody(req));
    const rows = await tasks.list({
      states: Array.isArray(body.states) ? body.states.map(String) : ['queued', 'processing'],
      ...(typeof body.deployment === 'string' ? { deployment: body.deployment } : {}),
      ...(Array.isArray(body.types) ? { types: body.types.map(String) } : {}),
      limit: 1000,
    });
    for (const row of rows) await tasks.cancel(row.id);
    res.writeHead(204);
    res.end();
  });

  r.on('DELETE', '/tasks/:id', async (_req, res, { id }) => {
    await tasks.cancel(taskId(id!));
    res.writeHead(204);
    res.end();
  });

  // `bosh cancel-task N` sends DELETE /task/N (BOSH's TaskController): a task already ended is a 400.
  r.on('DELETE', '/task/:id', async (_req, res, { id }) => {
    const task = await tasks.summary(taskId(id!));
    if (task.state !== TaskState.QUEUED && task.state !== TaskState.PROCESSING) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Cannot cancel task ${task.id}: invalid state (${task.state})`);
      return;
    }
    await tasks.cancel(task.id);
    res.writeHead(204);
    res.end();
  });

  r.on('GET', '/locks', async (_req, res) => {
    sendJson(
      res,
      200,
      (await tasks.locks()).map((lock) => ({
        type: 'deployment',
        resource: [lock.deployment],
        // BOSH's `expired_at.strftime('%s.%6N')`: the CLI parses it as a float of seconds.
        timeout: (lock.expiresAt.getTime() / 1000).toFixed(6),
        task_id: String(lock.taskId),
      })),
    );
  });
}
