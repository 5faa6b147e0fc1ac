import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACTIVE_TASK_STATES, TaskState } from '../../protocol/types.js';
import type { TaskStore } from '../store/taskStore.js';
import { OutputType, taskJson, taskNotFound, type TaskNotice } from '../tasks.js';

/**
 * Who is waiting for which task's events: the streams open on this Director. The task notifications the
 * Director hears (`TASK_EVENTS_CHANNEL`) wake the streams of their task.
 */
export class TaskWatchers {
  readonly #byTask = new Map<number, Set<(notice: TaskNotice | undefined) => void>>();

  /** Calls `wake` with each notice about task `id` (undefined: the Director is stopping); returns the way to stop. */
  watch(id: number, wake: (notice: TaskNotice | undefined) => void): () => void {
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
    let notice: TaskNotice;
    try {
      notice = JSON.parse(payload) as TaskNotice;
    } catch {
      return; // a malformed notification wakes nobody
    }
    // Event streams show event lines and the end state; debug and result output is not theirs.
    if (notice.kind !== OutputType.EVENT && notice.kind !== 'state') return;
    for (const wake of this.#byTask.get(notice.id) ?? []) wake(notice);
  }

  /** Wakes every stream (the Director is stopping: they end). */
  wakeAll(): void {
    for (const watchers of this.#byTask.values()) for (const wake of watchers) wake(undefined);
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
  // The notices heard since the last look, in the order they came; undefined once one of them needs a look
  // (a state change, a row whose predecessor this stream has not read, a text too long to carry, the
  // Director stopping, the 5 s timer).
  let heard: TaskNotice[] | undefined = [];
  let closed = false;
  const unwatch = watchers.watch(id, (notice) => {
    // A task claimed, or asked to cancel, is still running: the stream shows event rows and the end only.
    if (notice?.kind === 'state' && notice.state !== undefined && ACTIVE_TASK_STATES.includes(notice.state))
      return;
    if (notice === undefined || notice.kind === 'state' || typeof notice.row !== 'number') heard = undefined;
    else heard?.push(notice);
    wake();
  });
  req.on('close', () => {
    closed = true;
    wake();
  });
  // Each look reads the new event rows and the task's state in one statement (it was two, the second a
  // whole task row, once per event line). The first look doubles as the 404 check, before the headers.
  const look = async () => {
    arm();
    heard = [];
    const seen = await tasks.outputSinceWithState(id, OutputType.EVENT, cursor);
    if (seen === undefined) throw taskNotFound(id);
    return seen;
  };
  /**
   * The event rows the notices heard since the last look carry, when they follow on from the last row read
   * with nothing between: what a look would read then, without the statement (one per event line before).
   * The task is still running: its end is a state notice, which asks for a look.
   */
  const fromNotices = (): Awaited<ReturnType<typeof look>> | undefined => {
    if (heard === undefined || heard.length === 0) return undefined;
    const rows: { id: number; text: string }[] = [];
    let last = cursor;
    for (const notice of heard) {
      const row = notice.row!;
      if (row <= last) continue; // a look already read it
      if (notice.after !== last || typeof notice.text !== 'string') return undefined;
      rows.push({ id: row, text: notice.text });
      last = row;
    }
    arm();
    heard = [];
    return { state: TaskState.PROCESSING, rows };
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
      seen = fromNotices();
    }
  } finally {
    unwatch();
    res.end();
  }
}
