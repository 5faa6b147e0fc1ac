import type { ApiClient } from './client.js';
import { CliError } from './errors.js';
import type { Io } from './io.js';
import {
  Cluster,
  ClusterEvents,
  Task,
  TaskEvents,
  type ClusterEventView,
  type ClusterView,
  type TaskView,
} from './operations.js';

const BAR = 30;
/** A slow look at the state beside the live stream: catches an end that happened before we subscribed. */
const SAFETY_POLL_MS = 2_000;

function bar(progress: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, progress)) / 100) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(progress).padStart(3)}%`;
}

function eventLine(e: ClusterEventView): string {
  if (e.kind === 'STATE') return `${e.lastAction} ${e.lastActionState}: ${e.description}`;
  const count = e.index !== null && e.total !== null ? ` (${e.index}/${e.total})` : '';
  const pct = e.progress !== null ? ` ${e.progress}%` : '';
  return `${e.stage ?? 'Director'}${count}${pct}: ${e.task ?? e.description}`;
}

const busy = (state: string) => state === 'in progress' || state === 'queued';

/**
 * Follows `live` (a subscription) while `look` polls slowly; ends when `over` says so for either. The poll
 * exists because an operation can end between the mutation and the subscription, leaving the stream silent.
 */
async function follow<TEvent, TState>(
  live: (signal: AbortSignal) => AsyncGenerator<TEvent>,
  onEvent: (event: TEvent) => boolean,
  look: () => Promise<TState>,
  over: (state: TState) => boolean,
): Promise<void> {
  const abort = new AbortController();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, SAFETY_POLL_MS));
      if (polling && over(await look())) abort.abort();
    }
  })();
  try {
    for await (const event of live(abort.signal)) {
      if (onEvent(event)) break;
    }
  } finally {
    polling = false;
    abort.abort();
    await poll.catch(() => undefined);
  }
}

/**
 * Follows a cluster over `clusterEvents` until its action ends. On a TTY one line is redrawn with the stage
 * and a bar; otherwise every event is a timestamped line. Fails (exit 1) with the reason if the action
 * fails. With `deleting`, the cluster's disappearance is the success.
 */
export async function waitForCluster(
  client: ApiClient,
  io: Io,
  name: string,
  options: { deleting?: boolean } = {},
): Promise<ClusterView | undefined> {
  const tty = io.stderrIsTty;
  const look = async () => {
    try {
      return (await client.run(Cluster, { name })).cluster;
    } catch (error) {
      if (options.deleting && error instanceof CliError && / not found$/.test(error.message))
        return undefined;
      throw error;
    }
  };
  const finish = (c: ClusterView | undefined) => {
    if (c?.lastActionState === 'failed') {
      throw new CliError(`${c.lastAction} of cluster ${c.name} failed: ${c.lastActionDescription}`);
    }
    return c;
  };
  const now = await look();
  if (now === undefined || !busy(now.lastActionState)) return finish(now);
  const show = (line: string, progress: number) =>
    tty
      ? io.err(`\r\x1b[2K${bar(progress)} ${line.slice(0, 80)}`)
      : io.err(`${new Date().toISOString()} ${line}\n`);
  show(`${now.lastAction} ${now.lastActionState}: ${now.lastActionDescription}`, 0);
  try {
    await follow(
      (signal) => client.subscribe(ClusterEvents, { name }, signal),
      ({ clusterEvents: e }) => {
        const done = e.kind === 'STATE' && !busy(e.lastActionState);
        show(eventLine(e), e.progress ?? (done ? 100 : 0));
        return done;
      },
      look,
      (c) => c === undefined || !busy(c.lastActionState),
    );
  } catch (error) {
    if (!(options.deleting && error instanceof CliError && / not found$/.test(error.message))) throw error;
  } finally {
    if (tty) io.err('\n');
  }
  return finish(await look());
}

/** Follows an upgrade run over `taskEvents`, printing PKS's per-cluster lines, until it is done. */
export async function waitForTask(client: ApiClient, io: Io, id: string): Promise<TaskView> {
  const said = new Map<string, string>();
  const report = (t: TaskView) => {
    for (const c of t.clusters) {
      if (said.get(c.clusterName) === c.lastActionState) continue;
      said.set(c.clusterName, c.lastActionState);
      if (c.lastActionState === 'in progress') io.out(`Started upgrading cluster: ${c.clusterName}\n`);
      if (c.lastActionState === 'succeeded') io.out(`Upgrading cluster succeeded: ${c.clusterName}\n`);
      if (c.lastActionState === 'failed') io.out(`Upgrading cluster failed: ${c.clusterName}\n`);
    }
  };
  const over = (t: TaskView) => t.status === 'done' || t.status === 'canceled';
  const look = async () => (await client.run(Task, { id })).task;
  let task = await look();
  report(task);
  if (!over(task)) {
    await follow(
      (signal) => client.subscribe(TaskEvents, { id }, signal),
      ({ taskEvents }) => {
        report(taskEvents);
        return over(taskEvents);
      },
      look,
      over,
    );
    task = await look();
    report(task);
  }
  io.out(`Upgrade task ${id} is ${task.status}.\n`);
  return task;
}
