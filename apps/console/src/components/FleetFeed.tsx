'use client';

import type { Client as WsClient } from 'graphql-ws';
import {
  createContext,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type { FleetMessage } from '@/lib/fleet';
import { FleetFeedStore, IDLE_FLEET, type FleetSnapshot } from '@/lib/fleetFeed';

export type { FeedConnection, FleetSnapshot } from '@/lib/fleetFeed';

const FleetContext = createContext<FleetFeedStore | undefined>(undefined);

export function FleetFeedProvider({ ws, children }: { ws: WsClient | undefined; children: ReactNode }) {
  // One store for the life of the page's socket (which GraphQLProvider creates once).
  const [store] = useState(() => (ws ? new FleetFeedStore(ws) : undefined));
  return <FleetContext.Provider value={store}>{children}</FleetContext.Provider>;
}

/** The fleet as the feed says it is, live; mounting a view that uses it is what starts the feed. */
export function useFleet(): FleetSnapshot & { retry: () => void } {
  const store = useContext(FleetContext);
  useEffect(() => store?.acquire(), [store]);
  const snapshot = useSyncExternalStore(
    store?.subscribe ?? noSubscribe,
    store?.getSnapshot ?? serverSnapshot,
    serverSnapshot,
  );
  return { ...snapshot, retry: () => store?.retry() };
}

/** Where the connection stands, without holding the feed (the banner in the page frame). */
export function useFeedConnection(): Pick<FleetSnapshot, 'connection' | 'stopReason'> & {
  retry: () => void;
} {
  const store = useContext(FleetContext);
  const snapshot = useSyncExternalStore(
    store?.subscribe ?? noSubscribe,
    store?.getSnapshot ?? serverSnapshot,
    serverSnapshot,
  );
  return { connection: snapshot.connection, stopReason: snapshot.stopReason, retry: () => store?.retry() };
}

/** Calls `listener` with each feed message (the latest listener: no need to memoize it). */
export function useFleetMessages(listener: (message: FleetMessage) => void): void {
  const store = useContext(FleetContext);
  const current = useRef(listener);
  useEffect(() => {
    current.current = listener;
  });
  useEffect(() => store?.onMessage((message) => current.current(message)), [store]);
}

function noSubscribe(): () => void {
  return () => undefined;
}

function serverSnapshot(): FleetSnapshot {
  return IDLE_FLEET;
}
