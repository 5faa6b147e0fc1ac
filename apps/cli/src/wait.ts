import type { ApiClient, Subscription } from './client.js';
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
/** How soon to read again when an end event arrived before the record it announces. */
const SETTLE_POLL_MS = 200;

function bar(progress: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, progress)) / 100) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(progress).padStart(3)}%`;
}

/** A cluster event as one line: the state change, or the Director's stage, step and progress. */
export function eventLine(e: ClusterEventView): string {
  if (e.kind === 'STATE') return `${e.lastAction} ${e.lastActionState}: ${e.description}`;
  const count = e.index !== null && e.total !== null ? ` (${e.index}/${e.total})` : '';
  const pct = e.progress !== null ? ` ${e.progress}%` : '';
  return `${e.stage ?? 'Director'}${count}${pct}: ${e.task ?? e.description}`;
}

const busy = (state: string) => state === 'in progress' || state === 'queued';

/**
 * Subscribes first, then reads the current state, then follows the live events until `over` says the
 * operation has ended. In that order nothing is missed: an end before the subscription shows in the read,
 * an end after it arrives as an event. A slow poll runs beside the stream all the same, as a net for a
 * stream that stays silent (an API replica that lost its feed); a failed poll is retried on the next turn.
 * Returns the final state as read after the end; `onStart` sees the first read when the operation is busy.
 */
async function follow<TEvent, TState>(
  subscription: Subscription<TEvent>,
  look: () => Promise<TState>,
  over: (state: TState) => boolean,
  onStart: (state: TState) => void,
  onEvent: (event: TEvent) => boolean,
): Promise<TState> {
  try {
    await subscription.ready;
    let state = await look();
    if (over(state)) return state;
    onStart(state);
    let polling = true;
    // Stopping cuts the poll's sleep short, so the wait ends as soon as the stream says so.
    let stopSleep = () => {};
    const poll = (async () => {
      while (polling) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, SAFETY_POLL_MS);
          stopSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (!polling) return;
        const seen = await look().catch(() => undefined);
        if (polling && seen !== undefined && over(seen)) await subscription.close();
      }
    })();
    try {
      for await (const event of subscription.events) {
        if (onEvent(event)) break;
      }
    } finally {
      polling = false;
      stopSleep();
    }
    await poll;
    state = await look();
    // The event can outrun the record it announces (another replica's write); read until they agree.
    while (!over(state)) {
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
      state = await look();
    }
    return state;
  } finally {
    await subscription.close();
  }
}

/** While a wait runs, Ctrl-C detaches (the operation goes on; PKS has no cancel-cluster) with this hint. */
function detachHint(io: Io, hint: string): () => void {
  return io.onInterrupt?.(`Detached; the operation continues. ${hint}`) ?? (() => {});
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
  // The first read and the first buffered event often say the same thing: print a line once.
  let last: string | undefined;
  const show = (line: string, progress: number) => {
    if (line === last) return;
    last = line;
    if (tty) io.err(`\r\x1b[2K${bar(progress)} ${line.slice(0, 80)}`);
    else io.err(`${new Date().toISOString()} ${line}\n`);
  };
  let shown = false;
  const undetach = detachHint(io, `Use 'pks cluster ${name}' to monitor the state of your cluster`);
  try {
    const final = await follow<{ clusterEvents: ClusterEventView }, ClusterView | undefined>(
      client.watch(ClusterEvents, { name }),
      look,
      (c) => c === undefined || !busy(c.lastActionState),
      (c) => {
        shown = true;
        show(`${c!.lastAction} ${c!.lastActionState}: ${c!.lastActionDescription}`, 0);
      },
      ({ clusterEvents: e }) => {
        shown = true;
        const done = e.kind === 'STATE' && !busy(e.lastActionState);
        show(eventLine(e), e.progress ?? (done ? 100 : 0));
        return done;
      },
    );
    // A quick action can end before the first read: its outcome is still what the user waited to see.
    if (last === undefined && final !== undefined) {
      shown = true;
      show(`${final.lastAction} ${final.lastActionState}: ${final.lastActionDescription}`, 100);
    }
    return finish(final);
  } catch (error) {
    // A deletion can finish before the subscription starts: the API then says the cluster is not found.
    if (options.deleting && error instanceof CliError && / not found$/.test(error.message)) {
      return finish(await look());
    }
    throw error;
  } finally {
    undetach();
    if (tty && shown) io.err('\n');
  }
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
  const undetach = detachHint(io, `Use 'pks task ${id}' to monitor the state of your upgrade task`);
  let task: TaskView;
  try {
    task = await follow(client.watch(TaskEvents, { id }), look, over, report, ({ taskEvents }) => {
      report(taskEvents);
      return over(taskEvents);
    });
  } finally {
    undetach();
  }
  report(task);
  io.out(`Upgrade task ${id} is ${task.status}.\n`);
  return task;
}
