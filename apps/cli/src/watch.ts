import { cliErrorOf, type ApiClient } from './client.js';
import { CliError, NOT_LOGGED_IN_MESSAGE, PRIVILEGES_MESSAGE } from './errors.js';
import {
  CLUSTERS_HEADERS,
  clusterBlock,
  clusterDetailsBlock,
  clusterJson,
  clusterRow,
  clustersTable,
  columnWidths,
  feedEventJson,
  tableLine,
} from './format.js';
import type { Io } from './io.js';
import {
  Cluster,
  ClusterDetails,
  ClusterFeed,
  PksVersion,
  type ClusterView,
  type FeedEventView,
  type FeedMessageView,
} from './operations.js';
import { eventLine } from './wait.js';

/** How soon to reconnect after a dropped feed, doubling each failed try up to the most. */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MOST_MS = 5_000;

/** graphql-ws's close code for a token the API no longer accepts (expired, revoked, unknown). */
const WS_UNAUTHORIZED = 4401;
const WS_FORBIDDEN = 4403;
/** graphql-ws's own code for a socket it gave up on (no pong, closed under it): worth another try. */
const WS_TERMINATED = 4499;

/**
 * What a watch does with the feed. `restart` is called before each subscription that starts over from
 * the full list (the first one, and any reconnect made before the first SYNCED); `message` sees every
 * message in order and says whether the watch is over.
 */
export interface FeedSink {
  restart(): void;
  message(m: FeedMessageView): Promise<boolean> | boolean;
}

type Attempt =
  | { kind: 'done' }
  | { kind: 'stopped' }
  | { kind: 'lost'; reason: unknown }
  | { kind: 'failed'; error: unknown };

const closeCodeOf = (reason: unknown): number | undefined => {
  const code = (reason as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/**
 * Follows `clusterFeed` until `sink` says it is over (resolves 'done') or `stopped` settles (resolves
 * 'stopped'). A dropped connection is reopened with `after` set to the cursor of the last message taken
 * in, so what happened meanwhile is replayed (or the API says RESYNC and sends the list again); stderr
 * says so once per outage. The cursor only moves outside a list: the items of a list all carry the
 * list's end as their cursor, so resuming from one mid-list would skip the rest of it.
 * A 4401 close gets one silent token refresh (the login is still good when only the access token
 * expired); a second, or a refresh UAA refuses, is PKS's "not logged in". Other refusals end the watch.
 */
export async function followFeed(
  client: ApiClient,
  io: Io,
  sink: FeedSink,
  stopped: Promise<void>,
): Promise<'done' | 'stopped'> {
  let after: string | undefined;
  let listing = true;
  let delay = RECONNECT_FIRST_MS;
  let refreshed = false;
  let down = false;
  let isStopped = false;
  void stopped.then(() => (isStopped = true));

  const attempt = async (): Promise<Attempt> => {
    if (after === undefined) sink.restart();
    const ws = client.wsClient({}, { retryAttempts: 0 });
    let dispose = () => {};
    try {
      return await new Promise<Attempt>((resolve) => {
        let settled = false;
        const finish = (outcome: Attempt) => {
          if (settled) return;
          settled = true;
          resolve(outcome);
        };
        // Messages are taken in one at a time, in order; a loss waits for those already received, so
        // the cursor it resumes from covers them.
        let chain = Promise.resolve();
        const take = (m: FeedMessageView) => {
          chain = chain
            .then(async () => {
              if (settled) return;
              if (down) io.err('reconnected\n');
              down = false;
              delay = RECONNECT_FIRST_MS;
              refreshed = false;
              const over = await sink.message(m);
              if (m.type === 'RESYNC') listing = true;
              else if (m.type === 'SYNCED') listing = false;
              if (!listing) after = m.cursor;
              if (over) finish({ kind: 'done' });
            })
            .catch((error: unknown) => finish({ kind: 'failed', error }));
        };
        dispose = ws.subscribe<{ clusterFeed: FeedMessageView }>(
          { query: ClusterFeed.toString(), variables: after === undefined ? {} : { after } },
          {
            next: (value) => {
              if (value.errors?.length) {
                finish({ kind: 'failed', error: cliErrorOf(value.errors[0] as { message: string }) });
                return;
              }
              if (value.data) take(value.data.clusterFeed);
            },
            // After a close event (or a socket error) graphql-ws gives up at once: retryAttempts is 0.
            error: (reason) => void chain.then(() => finish({ kind: 'lost', reason })),
            // The feed has no end; the API ending it is a loss like any other.
            complete: () =>
              void chain.then(() =>
                finish({ kind: 'lost', reason: { code: 1000, reason: 'the API ended the feed' } }),
              ),
          },
        );
        void stopped.then(() => finish({ kind: 'stopped' }));
      });
    } finally {
      dispose();
      await ws.dispose();
    }
  };

  for (;;) {
    if (isStopped) return 'stopped';
    const outcome = await attempt();
    if (outcome.kind === 'done' || outcome.kind === 'stopped') return outcome.kind;
    if (outcome.kind === 'failed') throw outcome.error;
    const code = closeCodeOf(outcome.reason);
    if (Array.isArray(outcome.reason)) {
      // The API refused the subscription itself (graphql-ws hands over its GraphQL errors).
      throw cliErrorOf(outcome.reason[0] as { message: string });
    }
    if (code === WS_UNAUTHORIZED) {
      if (refreshed) throw new CliError(NOT_LOGGED_IN_MESSAGE);
      refreshed = true;
      await client.refresh();
      continue;
    }
    if (code === WS_FORBIDDEN) throw new CliError(PRIVILEGES_MESSAGE);
    if (code !== undefined && code >= 4000 && code !== WS_TERMINATED) {
      const reason = (outcome.reason as { reason?: string }).reason;
      throw new CliError(`the API closed the event stream: ${reason || code}`);
    }
    if (!down) io.err('connection lost, reconnecting…\n');
    down = true;
    await sleep(delay, stopped);
    delay = Math.min(delay * 2, RECONNECT_MOST_MS);
  }
}

function sleep(ms: number, cutShort: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void cutShort.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const busy = (state: string) => state === 'in progress' || state === 'queued';

/**
 * The Status and Action cells of a changed row, from the event when there is one: a replay after a
 * reconnect carries each missed event with the cluster as it is now, and the row should say what happened
 * then. While the Director works the status adds its stage and progress (`in progress (Updating
 * instance 42%)`): it counts progress per stage, so a percentage alone would run 0 to 100 again and again.
 */
export function watchCells(
  c: ClusterView,
  e: FeedEventView | null | undefined,
): { status: string; action: string } {
  if (!e) return { status: c.lastActionState, action: c.lastAction };
  const detail =
    e.kind === 'STATE' || !busy(e.lastActionState)
      ? ''
      : [e.stage, e.progress !== null ? `${e.progress}%` : null].filter(Boolean).join(' ');
  return { status: detail ? `${e.lastActionState} (${detail})` : e.lastActionState, action: e.lastAction };
}

/** One `--json` line of a watch: the message's type, the cluster in `pks clusters --json`'s shape, the event. */
function jsonLine(type: string, cluster: ClusterView | undefined, event?: FeedEventView | null): string {
  return `${JSON.stringify({
    type,
    cluster: cluster ? clusterJson(cluster) : null,
    ...(event ? { event: feedEventJson(event) } : {}),
  })}\n`;
}

const byName = (a: ClusterView, b: ClusterView) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * `pks clusters --watch`: the table as `pks clusters` prints it once the list is complete, then a row
 * per change in the same columns (as `kubectl get -w` does): a new cluster, a changed one with its
 * state and the Director's progress (`in progress (42%)`), and a deleted one as its last row with the
 * status `deleted`. After a RESYNC the clusters gone meanwhile get their `deleted` row and the table is
 * printed again. With `json`, one object a line: `{type, cluster, event?}`, ADDED, MODIFIED or DELETED;
 * a RESYNC is told as the changes it amounts to, so a reader's view stays right without knowing of it.
 */
export async function watchClusters(
  client: ApiClient,
  io: Io,
  options: { json?: boolean | undefined },
  stopped: Promise<void>,
): Promise<void> {
  const pksVersion = options.json ? '' : (await client.run(PksVersion, {})).pksVersion;
  let held = new Map<string, ClusterView>();
  let pending = new Map<string, ClusterView>();
  let listing = true;
  let first = true;
  let widths = columnWidths(CLUSTERS_HEADERS, []);
  const printed = new Map<string, string>();

  const row = (c: ClusterView, status: string, action = c.lastAction) => {
    const cells = clusterRow(c, status, action);
    widths = widths.map((w, i) => Math.max(w, (cells[i] ?? '').length));
    const line = tableLine(cells, widths);
    // A progress line often repeats the row before it (same percentage, next task): print it once.
    if (printed.get(c.uuid) === line) return;
    printed.set(c.uuid, line);
    io.out(`${line}\n`);
  };
  const gone = (c: ClusterView, event?: FeedEventView | null) => {
    if (options.json) io.out(jsonLine('DELETED', c, event));
    else row(c, 'deleted', 'DELETE');
    printed.delete(c.uuid);
  };
  const listed = () => {
    const now = pending;
    if (options.json) {
      for (const c of [...now.values()].sort(byName)) {
        const before = held.get(c.uuid);
        if (before === undefined) io.out(jsonLine('ADDED', c));
        else if (JSON.stringify(before) !== JSON.stringify(c)) io.out(jsonLine('MODIFIED', c));
      }
    }
    for (const [uuid, c] of held) if (!now.has(uuid)) gone(c);
    held = now;
    if (!options.json) {
      const list = [...held.values()].sort(byName);
      widths = columnWidths(
        CLUSTERS_HEADERS,
        list.map((c) => clusterRow(c)),
      );
      printed.clear();
      for (const c of list) printed.set(c.uuid, tableLine(clusterRow(c), widths));
      io.out(first ? clustersTable(list, pksVersion) : `\n${clustersTable(list, pksVersion)}`);
    }
    first = false;
  };

  await followFeed(
    client,
    io,
    {
      restart: () => {
        listing = true;
        pending = new Map();
      },
      message: (m) => {
        const uuid = m.clusterUuid ?? '';
        if (m.type === 'RESYNC') {
          listing = true;
          pending = new Map();
        } else if (m.type === 'SYNCED') {
          if (listing) listed();
          listing = false;
        } else if (m.type === 'DELETED') {
          if (listing) pending.delete(uuid);
          else {
            const last = held.get(uuid);
            held.delete(uuid);
            if (last) gone(last, m.event);
          }
        } else if ((m.type === 'ADDED' || m.type === 'MODIFIED') && m.cluster) {
          // (A change whose cluster is already gone carries none: its DELETED follows.)
          if (listing) pending.set(uuid, m.cluster);
          else {
            held.set(uuid, m.cluster);
            if (options.json) io.out(jsonLine(m.type, m.cluster, m.event));
            else {
              const { status, action } = watchCells(m.cluster, m.event);
              row(m.cluster, status, action);
            }
          }
        }
        return false;
      },
    },
    stopped,
  );
}

/**
 * `pks cluster NAME --watch`: the cluster's details as `pks cluster NAME` prints them, then a
 * timestamped line per change (the `--wait` lines), until Ctrl-C or the cluster's deletion (exit 0).
 * A cluster the caller cannot see is the usual "not found". With `json`, `{type, cluster, event?}` lines.
 */
export async function watchCluster(
  client: ApiClient,
  io: Io,
  name: string,
  options: { json?: boolean | undefined; details?: boolean | undefined },
  stopped: Promise<void>,
): Promise<void> {
  let target: ClusterView | undefined;
  let found: ClusterView | undefined;
  let listing = true;
  let lastLine: string | undefined;

  const line = (e: FeedEventView) => {
    const text = eventLine(e);
    if (text === lastLine) return;
    lastLine = text;
    io.out(`${e.at} ${text}\n`);
  };
  const block = async (c: ClusterView) => {
    if (options.json) return io.out(jsonLine('ADDED', c));
    if (!options.details) return io.out(`\n${clusterBlock(c)}\n`);
    const { cluster, plans } = await client.run(ClusterDetails, { name: c.name });
    io.out(
      `\n${clusterDetailsBlock(
        cluster,
        plans.find((p) => p.name === cluster.planName),
      )}\n`,
    );
  };
  const deleted = (c: ClusterView, e?: FeedEventView | null) => {
    if (options.json) io.out(jsonLine('DELETED', c, e));
    else {
      if (e) line(e);
      io.out(`Cluster ${c.name} has been deleted.\n`);
    }
    return true;
  };

  await followFeed(
    client,
    io,
    {
      restart: () => {
        listing = true;
        found = undefined;
      },
      message: async (m) => {
        const ours = (uuid: string | null) =>
          target === undefined ? m.clusterName === name : uuid === target.uuid;
        if (m.type === 'RESYNC') {
          listing = true;
          found = undefined;
          return false;
        }
        if (m.type === 'SYNCED') {
          if (!listing) return false;
          listing = false;
          if (target === undefined) {
            // The API's own words for a cluster that is not there (or not the caller's).
            const shown = found ?? (await client.run(Cluster, { name })).cluster;
            target = shown;
            await block(shown);
            return false;
          }
          if (found === undefined) return deleted(target);
          if (JSON.stringify(found) !== JSON.stringify(target)) {
            target = found;
            if (options.json) io.out(jsonLine('MODIFIED', found));
            else await block(found);
          }
          return false;
        }
        if (!ours(m.clusterUuid)) return false;
        if (listing) {
          if (m.type === 'DELETED') found = undefined;
          else if (m.cluster) found = m.cluster;
          return false;
        }
        if (m.type === 'DELETED') return deleted(target ?? found!, m.event);
        if (!m.cluster) return false;
        // Before the first SYNCED there is no target yet; after it, only its own changes arrive here.
        target = m.cluster;
        if (options.json) io.out(jsonLine(m.type, m.cluster, m.event));
        else if (m.event) line(m.event);
        return false;
      },
    },
    stopped,
  );
}
