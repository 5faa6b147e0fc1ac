import type { Database, PubSub } from '@openpks/db';
import { InputError, LastAction, LastActionState } from '@openpks/domain';
import { clusterEventStore } from '../store/clusterEventStore.js';
import { clusterStore, type ClusterRecord } from '../store/clusterStore.js';
import { access, type Caller } from './access.js';
import {
  CLUSTER_EVENTS_CHANNEL,
  TASK_EVENTS_CHANNEL,
  type ClusterEventMessage,
  type TaskEventMessage,
} from './events.js';
import type { TaskRecord, TaskService } from './taskService.js';

/** What one fleet-feed message says happened (Kubernetes watch vocabulary, plus the sync markers). */
export const ClusterFeedEventType = {
  /** A cluster appeared: its create was requested, or it exists when the feed (re)starts. */
  ADDED: 'ADDED',
  /** A cluster's state changed, or its Director task made progress. */
  MODIFIED: 'MODIFIED',
  /** A cluster's deletion succeeded: it is gone. */
  DELETED: 'DELETED',
  /** Everything before this point has been sent: the client's view is complete from here on. */
  SYNCED: 'SYNCED',
  /** The resume point is too old or unknown: drop every cluster you hold; the full list follows. */
  RESYNC: 'RESYNC',
  /** An upgrade run started or advanced (every run you may see is also sent before SYNCED). */
  TASK: 'TASK',
} as const;
export type ClusterFeedEventType = (typeof ClusterFeedEventType)[keyof typeof ClusterFeedEventType];

export interface ClusterFeedItem {
  type: ClusterFeedEventType;
  /** Pass as `after` to resume right after this message. */
  cursor: string;
  /** The cluster as it is now (undefined for DELETED and the markers). */
  cluster?: ClusterRecord | undefined;
  clusterName?: string | undefined;
  clusterUuid?: string | undefined;
  /** The state change or progress line behind ADDED/MODIFIED/DELETED (undefined in a snapshot). */
  event?: ClusterEventMessage | undefined;
  /** TASK: the upgrade run as it is now. */
  task?: TaskRecord | undefined;
}

/**
 * A resume point further back than this many events gets RESYNC and the full list instead of a replay:
 * the list is smaller than the history by then, and the client's rows would mostly be rewritten anyway.
 */
export const MAX_FEED_REPLAY = 1_000;

const CURSOR_PREFIX = 'feed:';

/** An opaque resume point: the id of the last event covered. */
export function feedCursor(id: bigint | string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id.toString()}`, 'utf8').toString('base64url');
}

/** Each cluster row is read once per event per process, however many feeds deliver the event. */
const CLUSTER_READS_KEPT = 500;

export interface ClusterFeedOptions {
  db: Database;
  pubsub: PubSub;
  tasks: Pick<TaskService, 'get' | 'list'>;
}

/**
 * The fleet feed: every cluster the caller may see (the same rule as `clusters`), created, changed and
 * deleted, in event order, each message carrying a resume point. Started without one, it sends the
 * current list (ADDED each) then SYNCED; with one, what happened since (or RESYNC and the list, when the
 * gap is too old), then SYNCED; then every change as it commits. Upgrade runs ride along as TASK
 * messages: each one the caller may see before SYNCED (so a resume never misses a run's progress: runs
 * are few and sent whole), then each change.
 */
export class ClusterFeed {
  readonly #o: ClusterFeedOptions;
  readonly #reads = new Map<string, Promise<ClusterRecord | undefined>>();

  constructor(options: ClusterFeedOptions) {
    this.#o = options;
  }

  /** Checks `after` and returns the starting point; a malformed cursor is the client's error. */
  static parseCursor(after: string | null | undefined): bigint | undefined {
    if (after === undefined || after === null || after === '') return undefined;
    const decoded = Buffer.from(after, 'base64url').toString('utf8');
    const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
    if (!/^\d{1,19}$/.test(id)) {
      throw new InputError('after', `'${after.slice(0, 40)}' is not a cursor of this feed`, {
        allowed: 'the cursor of a message the feed sent, or none to start with the full list',
      });
    }
    return BigInt(id);
  }

  /**
   * Subscribes `push` to the feed for `caller`; resolves once the opening part (list or replay, then
   * SYNCED) is queued, with the function that ends the feed.
   */
  async open(
    caller: Caller,
    after: string | null | undefined,
    push: (item: ClusterFeedItem | undefined) => void,
  ): Promise<() => Promise<void>> {
    access.requireAnyPksScope(caller);
    const resumeFrom = ClusterFeed.parseCursor(after);
    const visible = (owner: string) => access.canSee(caller, owner);

    // Listen before reading, so nothing committed between the read and the live part is missed; what
    // the read already covered is dropped by id.
    let last = 0n;
    let live = false;
    let ended = false;
    const early: ClusterEventMessage[] = [];
    let chain = Promise.resolve();
    const deliver = (message: ClusterEventMessage) => {
      if (message.id === undefined || !visible(message.owner)) return;
      const id = BigInt(message.id);
      if (id <= last) return;
      last = id;
      // Rows are read in order so messages leave in event order.
      chain = chain
        .then(async () => {
          if (!ended) push(await this.#itemOf(message));
        })
        .catch(() => undefined);
    };
    const unsubscribe = await this.#o.pubsub.subscribe<ClusterEventMessage>(CLUSTER_EVENTS_CHANNEL, (m) => {
      if (live) deliver(m);
      else early.push(m);
    });
    const earlyTasks: TaskEventMessage[] = [];
    const deliverTask = (message: TaskEventMessage) => {
      if (!visible(message.owner)) return;
      chain = chain
        .then(async () => {
          const task = await this.#o.tasks.get(caller, message.taskId);
          if (!ended) push({ type: ClusterFeedEventType.TASK, cursor: feedCursor(last), task });
        })
        .catch(() => undefined);
    };
    let unsubscribeTasks: () => Promise<void>;
    try {
      unsubscribeTasks = await this.#o.pubsub.subscribe<TaskEventMessage>(TASK_EVENTS_CHANNEL, (m) => {
        if (live) deliverTask(m);
        else earlyTasks.push(m);
      });
    } catch (error) {
      await unsubscribe();
      throw error;
    }
    const end = async () => {
      ended = true;
      await unsubscribe();
      await unsubscribeTasks();
    };
    try {
      last = await this.#opening(caller, resumeFrom, push);
    } catch (error) {
      await end();
      throw error;
    }
    live = true;
    for (const message of early.splice(0)) deliver(message);
    for (const message of earlyTasks.splice(0)) deliverTask(message);
    return end;
  }

  /** The opening part; returns the id it covers up to. */
  async #opening(
    caller: Caller,
    resumeFrom: bigint | undefined,
    push: (item: ClusterFeedItem) => void,
  ): Promise<bigint> {
    const { db } = this.#o;
    const owner = access.readsAll(caller) ? undefined : caller.name;
    const head = await clusterEventStore.head(db);
    if (resumeFrom !== undefined && resumeFrom <= head) {
      const events = await clusterEventStore.between(db, {
        after: resumeFrom,
        head,
        owner,
        limit: MAX_FEED_REPLAY + 1,
      });
      if (events.length <= MAX_FEED_REPLAY) {
        for (const event of events) {
          if (access.canSee(caller, event.owner)) push(await this.#itemOf(event));
        }
        await this.#tasks(caller, head, push);
        push({ type: ClusterFeedEventType.SYNCED, cursor: feedCursor(head) });
        return head;
      }
    }
    if (resumeFrom !== undefined) push({ type: ClusterFeedEventType.RESYNC, cursor: feedCursor(head) });
    for (const cluster of await clusterStore.live(db, owner)) {
      push({
        type: ClusterFeedEventType.ADDED,
        cursor: feedCursor(head),
        cluster,
        clusterName: cluster.name,
        clusterUuid: cluster.uuid,
      });
    }
    await this.#tasks(caller, head, push);
    push({ type: ClusterFeedEventType.SYNCED, cursor: feedCursor(head) });
    return head;
  }

  /** Every upgrade run the caller may see, oldest first, as it is now. */
  async #tasks(caller: Caller, head: bigint, push: (item: ClusterFeedItem) => void): Promise<void> {
    const tasks = await this.#o.tasks.list(caller);
    for (const task of tasks.reverse())
      push({ type: ClusterFeedEventType.TASK, cursor: feedCursor(head), task });
  }

  async #itemOf(message: ClusterEventMessage): Promise<ClusterFeedItem> {
    const deleted =
      message.lastAction === LastAction.DELETE && message.lastActionState === LastActionState.SUCCEEDED;
    const type = deleted
      ? ClusterFeedEventType.DELETED
      : message.created
        ? ClusterFeedEventType.ADDED
        : ClusterFeedEventType.MODIFIED;
    const cluster = deleted ? undefined : await this.#cluster(message.clusterUuid, message.id!);
    return {
      type,
      cursor: feedCursor(message.id!),
      ...(cluster && cluster.deletedAt === null ? { cluster } : {}),
      clusterName: message.clusterName,
      clusterUuid: message.clusterUuid,
      event: message,
    };
  }

  /** The cluster's row as of (or after) event `eventId`, shared by every feed of this process. */
  #cluster(uuid: string, eventId: string): Promise<ClusterRecord | undefined> {
    const key = `${uuid}/${eventId}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      read = clusterStore.byUuid(this.#o.db, uuid);
      if (this.#reads.size >= CLUSTER_READS_KEPT) this.#reads.delete(this.#reads.keys().next().value!);
      this.#reads.set(key, read);
      read.catch(() => this.#reads.delete(key));
    }
    return read;
  }
}
