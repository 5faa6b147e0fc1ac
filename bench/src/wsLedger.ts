/**
 * Counts the graphql-ws subscriptions a page holds from the frames its WebSockets carry (the protocol of
 * `graphql-ws`: the client sends `subscribe` with an id; the operation ends with a `complete` from either
 * side or an `error` from the server; a closed socket ends all of its operations). Fed from Playwright's
 * `websocket` / `framesent` / `framereceived` / `close` events; pure, so it is tested on its own.
 */
export class SubscriptionLedger {
  private readonly held = new Map<string, Set<string>>();
  private readonly closed = new Set<string>();
  private subscribes = 0;
  private sockets = 0;

  /** A socket the page opened. */
  opened(socket: string): void {
    this.sockets += 1;
    this.held.set(socket, new Set());
  }

  sent(socket: string, payload: string | Buffer): void {
    const message = parse(payload);
    if (!message) return;
    const ids = this.held.get(socket);
    if (!ids) return;
    if (message.type === 'subscribe') {
      this.subscribes += 1;
      ids.add(message.id);
    } else if (message.type === 'complete') ids.delete(message.id);
  }

  received(socket: string, payload: string | Buffer): void {
    const message = parse(payload);
    if (message && (message.type === 'complete' || message.type === 'error')) {
      this.held.get(socket)?.delete(message.id);
    }
  }

  close(socket: string): void {
    this.held.get(socket)?.clear();
    this.closed.add(socket);
  }

  /**
   * The page loaded a new document: every socket of the old one is gone. Chromium does not always report
   * their close to Playwright when a page reloads, which would count the old document's subscriptions as
   * still held.
   */
  newDocument(): void {
    for (const socket of this.held.keys()) this.close(socket);
  }

  /** What the page holds now, and what it has done since the ledger began. */
  snapshot(): {
    subscriptionsHeld: number;
    socketsOpen: number;
    socketsOpened: number;
    subscribesSent: number;
  } {
    let held = 0;
    for (const ids of this.held.values()) held += ids.size;
    return {
      subscriptionsHeld: held,
      socketsOpen: this.held.size - this.closed.size,
      socketsOpened: this.sockets,
      subscribesSent: this.subscribes,
    };
  }
}

function parse(payload: string | Buffer): { type: string; id: string } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    // Not graphql-ws (another protocol on the same page): not a subscription.
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, id } = message as { type?: unknown; id?: unknown };
  return typeof type === 'string' && typeof id === 'string' ? { type, id } : undefined;
}
