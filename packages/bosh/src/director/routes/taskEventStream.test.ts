import { afterEach, describe, expect, it } from 'vitest';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TaskState } from '../../protocol/types.js';
import type { TaskStore } from '../store/taskStore.js';
import type { TaskNotice, TaskSummary } from '../tasks.js';
import { streamTaskEvents, TaskWatchers } from './taskEventStream.js';

/**
 * A task's event rows and state in memory, counting the looks a stream makes at them: the stream is
 * tested against what it reads and how often, not against a database.
 */
class FakeTasks {
  rows: { id: number; text: string }[] = [];
  state: TaskState = TaskState.PROCESSING;
  looks = 0;

  async outputSinceWithState(_id: number, _type: string, after: number) {
    this.looks += 1;
    return { state: this.state, rows: this.rows.filter((row) => row.id > after) };
  }

  async summary(id: number): Promise<TaskSummary> {
    const now = new Date();
    return {
      id,
      state: this.state,
      description: 'test',
      deployment: null,
      context_id: null,
      username: null,
      result: null,
      created_at: now,
      started_at: now,
      finished_at: now,
    };
  }
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serves task 7's stream from `tasks`; resolves with the port once listening. */
async function serve(tasks: FakeTasks, watchers: TaskWatchers): Promise<number> {
  server = createServer((req, res) => {
    void streamTaskEvents(req, res, 7, tasks as unknown as TaskStore, watchers, () => false);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The stream's `event` lines, until it ends; `onFirst` runs once the headers came (the first look done). */
function read(port: number, onFirst: () => Promise<void>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve(body.split('\n').flatMap((line) => (line.startsWith('data: {"n"') ? [line.slice(6)] : []))),
      );
      onFirst().catch(reject);
    }).on('error', reject);
  });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a task event stream', () => {
  it('takes event lines from their notifications when each follows the last row it read', async () => {
    const tasks = new FakeTasks();
    tasks.rows.push({ id: 3, text: '{"n":1}\n' });
    const watchers = new TaskWatchers();
    const port = await serve(tasks, watchers);
    const lines = await read(port, async () => {
      await tick();
      // The task's claim says nothing the stream shows.
      watchers.notice(JSON.stringify({ id: 7, kind: 'state', state: TaskState.PROCESSING }));
      await tick();
      let after = 3;
      for (const [row, n] of [
        [10, 2],
        [11, 3],
        [15, 4],
      ] as const) {
        const text = `{"n":${n}}\n`;
        tasks.rows.push({ id: row, text });
        const notice: TaskNotice = { id: 7, kind: 'event', row, after, text };
        watchers.notice(JSON.stringify(notice));
        after = row;
        await tick();
      }
      tasks.state = TaskState.DONE;
      watchers.notice(JSON.stringify({ id: 7, kind: 'state', state: TaskState.DONE }));
    });
    expect(lines).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    // The first look and the one the end asked for: none per line.
    expect(tasks.looks).toBe(2);
  });

  it('looks at the table when a notice does not follow on, or carries no text', async () => {
    const tasks = new FakeTasks();
    const watchers = new TaskWatchers();
    const port = await serve(tasks, watchers);
    const lines = await read(port, async () => {
      await tick();
      // Row 4 was written by a writer that does not know what came before it (a resumed task).
      tasks.rows.push({ id: 4, text: '{"n":1}\n' });
      watchers.notice(JSON.stringify({ id: 7, kind: 'event', row: 4, after: null, text: '{"n":1}\n' }));
      await tick();
      // Row 6 is not yet read by the stream (its notice was lost): row 8's notice does not follow on.
      tasks.rows.push({ id: 6, text: '{"n":2}\n' }, { id: 8, text: '{"n":3}\n' });
      watchers.notice(JSON.stringify({ id: 7, kind: 'event', row: 8, after: 6, text: '{"n":3}\n' }));
      await tick();
      // Too long to ride in its notification.
      tasks.rows.push({ id: 9, text: '{"n":4}\n' });
      watchers.notice(JSON.stringify({ id: 7, kind: 'event', row: 9, after: 8, text: null }));
      await tick();
      tasks.state = TaskState.ERROR;
      watchers.notice(JSON.stringify({ id: 7, kind: 'state' }));
    });
    expect(lines).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    expect(tasks.looks).toBe(5);
  });
});
