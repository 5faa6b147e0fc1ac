import { print } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { ConsoleClusterFeedDocument, type ConsoleClusterFeedSubscription } from '../gql/graphql';
import { applyFleetMessages, EMPTY_FLEET, type FleetMessage, type FleetState } from './fleet';

/**
 * Where the page's live connection stands. `down`: the socket dropped and graphql-ws is reconnecting;
 * `stopped`: it gave up (or the API refused the feed), and only the user's retry starts it again.
 */
export type FeedConnection = 'idle' | 'connecting' | 'live' | 'down' | 'stopped';

export interface FleetSnapshot extends FleetState {
  readonly connection: FeedConnection;
  /** Why the feed stopped, in words for the banner. */
  readonly stopReason: string | undefined;
}

/** A page that leaves the feed and the next page that takes it up share one subscription. */
const RELEASE_GRACE_MS = 2_000;

const FEED_QUERY = print(ConsoleClusterFeedDocument);

/**
 * The one `clusterFeed` subscription of the page, whatever the fleet size, shared by every component that
 * shows clusters or upgrade runs. It keeps the feed's last cursor: when the socket drops, graphql-ws
 * reconnects and resubscribes with the same payload object, whose `variables` are read as it is sent, so
 * the resubscription carries `after: <last cursor>` and the API replays exactly what was missed (or says
 * RESYNC). Leaving and coming back to a page resumes the same way.
 */
/** How long messages are gathered before the page renders them (about a frame). */
const FLUSH_MS = 16;

export const IDLE_FLEET: FleetSnapshot = { ...EMPTY_FLEET, connection: 'idle', stopReason: undefined };

export class FleetFeedStore {
  readonly #ws: WsClient;
  readonly #graceMs: number;
  #snapshot: FleetSnapshot = IDLE_FLEET;
  readonly #listeners = new Set<() => void>();
  readonly #messageListeners = new Set<(message: FleetMessage) => void>();
  #users = 0;
  #dispose: (() => void) | undefined;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Messages received but not yet folded in: the page renders once per batch, not once per message. */
  #pending: FleetMessage[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: WsClient, options: { releaseGraceMs?: number } = {}) {
    this.#ws = ws;
    this.#graceMs = options.releaseGraceMs ?? RELEASE_GRACE_MS;
    ws.on('connected', () => {
      if (this.#dispose) this.#set({ connection: 'live' });
    });
    ws.on('closed', () => {
      // The socket also closes when the last subscription ends (lazy); that is no outage.
      if (this.#dispose && this.#snapshot.connection !== 'stopped') this.#set({ connection: 'down' });
    });
  }

  readonly getSnapshot = (): FleetSnapshot => this.#snapshot;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Every feed message as it arrives, for views that keep a log (a state snapshot folds bursts). */
  onMessage(listener: (message: FleetMessage) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  /** A view needs the feed; the returned function says it no longer does. */
  acquire(): () => void {
    this.#users++;
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    if (!this.#dispose && this.#snapshot.connection !== 'stopped') this.#start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#users > 0) return;
      this.#releaseTimer = setTimeout(() => {
        this.#releaseTimer = undefined;
        this.#stop('idle');
      }, this.#graceMs);
    };
  }

  /** Starts the feed again after it stopped (the banner's button). */
  retry(): void {
    this.#stop('idle');
    if (this.#users > 0) this.#start();
  }

  #start(): void {
    // The variables are a getter so that each (re)subscription graphql-ws sends carries the cursor of the
    // last message received, not the one the page started with.
    const lastCursor = () => this.#pending.at(-1)?.cursor ?? this.#snapshot.cursor;
    const payload = {
      query: FEED_QUERY,
      get variables(): { after?: string } {
        const cursor = lastCursor();
        return cursor === undefined ? {} : { after: cursor };
      },
    };
    this.#set({
      connection: this.#snapshot.connection === 'live' ? 'live' : 'connecting',
      stopReason: undefined,
    });
    let ended = false;
    const dispose = this.#ws.subscribe<ConsoleClusterFeedSubscription>(payload, {
      next: (result) => {
        if (ended) return;
        if (result.errors?.length) {
          this.#fail(result.errors.map((e) => e.message).join('; '));
          return;
        }
        const message = result.data?.clusterFeed;
        if (!message) return;
        this.#fold(message);
      },
      error: (error: unknown) => {
        if (!ended) this.#fail(reasonOf(error));
      },
      complete: () => {
        if (!ended && this.#dispose === dispose) this.#fail('the PKS API ended the live feed');
      },
    });
    this.#dispose = () => {
      ended = true;
      dispose();
    };
  }

  #fold(message: FleetMessage): void {
    this.#pending.push(message);
    // One frame's worth of messages at a time: the opening list of 1,000 clusters is 1,000 messages, and
    // a render for each made the first paint take seconds.
    this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
    for (const listener of this.#messageListeners) listener(message);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    const messages = this.#pending;
    this.#pending = [];
    if (messages.length === 0) return;
    this.#set({ ...applyFleetMessages(this.#snapshot, messages), connection: 'live' });
  }

  #dropPending(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#pending = [];
  }

  #fail(reason: string): void {
    this.#dispose?.();
    this.#dispose = undefined;
    this.#dropPending();
    // A resume point the API refuses cannot be used again: start over from the full list.
    this.#set({ connection: 'stopped', stopReason: reason, cursor: undefined, synced: false });
  }

  #stop(connection: FeedConnection): void {
    // Unfolded messages go with the subscription: a later start resumes from the cursor folded in,
    // and the API replays them.
    this.#dropPending();
    const dispose = this.#dispose;
    this.#dispose = undefined;
    dispose?.();
    this.#set({ connection, stopReason: undefined });
  }

  #set(change: Partial<FleetSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    for (const listener of this.#listeners) listener();
  }
}

function reasonOf(error: unknown): string {
  if (Array.isArray(error))
    return error.map((e: { message?: unknown }) => String(e?.message ?? e)).join('; ');
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const close = error as { code: number; reason?: string };
    return close.reason ? `${close.reason} (${close.code})` : `the connection closed (${close.code})`;
  }
  return String(error);
}
