import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACTIVE_TASK_STATES } from '../../protocol/types.js';
import type { TaskStore } from '../store/taskStore.js';
import { OutputType, taskJson, taskNotFound, type TaskNotice } from '../tasks.js';

/**
 * Who is waiting for which task's events: the streams open on this Director. The task notifications the
 * Director hears (`TASK_EVENTS_CHANNEL`) wake the streams of their task.
 */
export class TaskWatchers {
  readonly #byTask = new Map<number, Set<() => void>>();

  /** Wakes `wake` on each notice about task `id`; returns the way to stop. */
  watch(id: number, wake: () => void): () => void {
    const watchers = this.#byTask.get(id) ?? new Set();
    this.#byTask.set(id, watchers);
    watchers.add(wake);
    return () => {
      watchers.delete(wake);
      if (watchers.size === 0) this.#byTask.delete(id);
    };
  }

  /** A task notification: its task's streams look again when it is an event line or a state change. */
  notice(payload: string): void {
    try {
      const { id, kind } = JSON.parse(payload) as TaskNotice;
      // Event streams show event lines and the end state; debug and result output is not theirs.
      if (kind !== OutputType.EVENT && kind !== 'state') return;
      for (const wake of this.#byTask.get(id) ?? []) wake();
    } catch {
      // a malformed notification wakes nobody
    }
  }

  /** Wakes every stream (the Director is stopping: they end). */
  wakeAll(): void {
    for (const watchers of this.#byTask.values()) for (const wake of watchers) wake();
  }
}

/**
 * Server-sent events for one task: each event-log line, then the final task state. Resumes at
 * `Last-Event-ID` (a byte offset).
 */
export async function streamTaskEvents(
  req: IncomingMessage,
  res: ServerResponse,
  id: number,
  tasks: TaskStore,
  watchers: TaskWatchers,
  stopping: () => boolean,
): Promise<void> {
  let offset = Number(req.headers['last-event-id'] ?? 0) || 0;
  // Read position in the task's event rows: the last row read, and the bytes read but not yet sent
  // (a line's end not yet written, or what lies before `offset`) starting at byte `unreadAt`.
  let cursor = 0;
  let unread = Buffer.alloc(0);
  let unreadAt = 0;
  // Armed before each look, so a notification that arrives while the look runs still wakes the next.
  let wake: () => void = () => {};
  let pending: Promise<void> = Promise.resolve();
  const arm = () => {
    pending = new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 5_000).unref();
    });
  };
  let closed = false;
  const unwatch = watchers.watch(id, () => wake());
  req.on('close', () => {
    closed = true;
    wake();
  });
  // Each look reads the new event rows and the task's state in one statement (it was two, the second a
  // whole task row, once per event line). The first look doubles as the 404 check, before the headers.
  const look = async () => {
    arm();
    const seen = await tasks.outputSinceWithState(id, OutputType.EVENT, cursor);
    if (seen === undefined) throw taskNotFound(id);
    return seen;
  };
  let seen: Awaited<ReturnType<typeof look>> | undefined;
  try {
    seen = await look();
  } catch (error) {
    unwatch();
    throw error;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
  });
  try {
    while (!closed && !stopping()) {
      // Only the rows written since the last look: re-reading the whole event log on every line made
      // a stream cost grow with the square of the log's length.
      seen ??= await look();
      const fresh = seen.rows;
      if (fresh.length > 0) {
        cursor = fresh[fresh.length - 1]!.id;
        unread = Buffer.concat([unread, ...fresh.map((row) => Buffer.from(row.text, 'utf8'))]);
      }
      // Skip what the client already has (Last-Event-ID), as far as it has been read.
      if (offset > unreadAt) {
        const skip = Math.min(offset - unreadAt, unread.length);
        unread = unread.subarray(skip);
        unreadAt += skip;
      }
      const lastNewline = unreadAt === offset ? unread.lastIndexOf(0x0a) : -1;
      if (lastNewline >= 0) {
        let position = offset;
        for (const line of unread
          .subarray(0, lastNewline + 1)
          .toString('utf8')
          .split('\n')) {
          if (line === '') continue;
          position += Buffer.byteLength(line) + 1;
          res.write(`id: ${position}\nevent: event\ndata: ${line}\n\n`);
        }
        unread = unread.subarray(lastNewline + 1);
        unreadAt = offset + lastNewline + 1;
        offset = unreadAt;
      }
      // The look's snapshot holds every event row written before the task ended, so none is missed.
      if (!ACTIVE_TASK_STATES.includes(seen.state)) {
        // Ended: the whole row, once, for the final `task` event.
        const task = await tasks.summary(id);
        res.write(`event: task\ndata: ${JSON.stringify(taskJson(task))}\n\n`);
        break;
      }
      res.write(': keep-alive\n\n');
      await pending;
      seen = undefined;
    }
  } finally {
    unwatch();
    res.end();
  }
}
