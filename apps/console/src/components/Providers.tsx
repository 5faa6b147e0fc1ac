'use client';

import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { Session } from 'next-auth';
import { SessionProvider, signIn, useSession } from 'next-auth/react';
import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { cacheExchange, Client, fetchExchange, Provider, subscriptionExchange } from 'urql';
import { FleetFeedProvider } from './FleetFeed';

/**
 * Session polling keeps the access token in the session cookie refreshed ahead of expiry while a page is
 * open (the poll runs next-auth's jwt callback on the server; the page never sees the token).
 */
const SESSION_REFETCH_SECONDS = 60;

/** Reconnect soon after a drop, then every few seconds: a dashboard left open should come back by itself. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5_000;
/** About ten minutes of attempts; then the banner offers a button instead of retrying for ever. */
const RETRY_ATTEMPTS = 120;

function wsClient(): WsClient {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return createWsClient({
    url: `${scheme}://${window.location.host}/api/graphql/ws`,
    // No connection params: the console's server authenticates the socket by the session cookie and
    // adds the access token itself. When the token lapses it closes the socket with "try again later",
    // and the reconnect carries a fresh one.
    lazy: true,
    retryAttempts: RETRY_ATTEMPTS,
    shouldRetry: () => true,
    // Jitter keeps many open consoles from reconnecting in step after the API restarts.
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(RETRY_FIRST_MS * 2 ** retries, RETRY_MAX_MS) + Math.random() * 300),
      ),
  });
}

const SocketContext = createContext<WsClient | undefined>(undefined);

/** The page's one GraphQL WebSocket (through the console's server, which adds the session's token). */
export function useGraphQLSocket(): WsClient | undefined {
  return useContext(SocketContext);
}

function GraphQLProvider({ children }: { children: ReactNode }) {
  const ws = useMemo(() => (typeof window === 'undefined' ? undefined : wsClient()), []);
  const client = useMemo(() => {
    return new Client({
      url: '/api/graphql',
      // Apollo's CSRF prevention refuses simple GETs; the proxy takes POSTs only.
      preferGetMethod: false,
      requestPolicy: 'cache-and-network',
      exchanges: [
        cacheExchange,
        fetchExchange,
        subscriptionExchange({
          isSubscriptionOperation: (op) => op.kind === 'subscription',
          forwardSubscription(request) {
            const input = { ...request, query: request.query ?? '' };
            return {
              subscribe(sink) {
                if (!ws) return { unsubscribe: () => undefined };
                const unsubscribe = ws.subscribe(input, sink);
                return { unsubscribe };
              },
            };
          },
        }),
      ],
    });
  }, [ws]);
  return (
    <SocketContext.Provider value={ws}>
      <FleetFeedProvider ws={ws}>
        <Provider value={client}>{children}</Provider>
      </FleetFeedProvider>
    </SocketContext.Provider>
  );
}

/** A failed refresh (expired refresh token) ends in a new sign-in through UAA. */
function RefreshWatch() {
  const { data } = useSession();
  useEffect(() => {
    if (data?.error) void signIn('uaa', { callbackUrl: window.location.pathname });
  }, [data?.error]);
  return null;
}

export function Providers({ session, children }: { session: Session; children: ReactNode }) {
  return (
    <SessionProvider session={session} refetchInterval={SESSION_REFETCH_SECONDS} refetchOnWindowFocus>
      <RefreshWatch />
      <GraphQLProvider>{children}</GraphQLProvider>
    </SessionProvider>
  );
}
