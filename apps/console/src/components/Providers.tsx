'use client';

import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { Session } from 'next-auth';
import { SessionProvider, signIn, useSession } from 'next-auth/react';
import { useEffect, useMemo, type ReactNode } from 'react';
import { cacheExchange, Client, fetchExchange, Provider, subscriptionExchange } from 'urql';

/**
 * Session polling keeps the access token in the session cookie refreshed ahead of expiry while a page is
 * open (the poll runs next-auth's jwt callback on the server; the page never sees the token).
 */
const SESSION_REFETCH_SECONDS = 60;

function wsClient(): WsClient {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return createWsClient({
    url: `${scheme}://${window.location.host}/api/graphql/ws`,
    // No connection params: the console's server authenticates the socket by the session cookie and
    // adds the access token itself. When the token lapses it closes the socket with "try again later",
    // and the reconnect carries a fresh one.
    lazy: true,
    retryAttempts: 20,
    shouldRetry: () => true,
  });
}

function GraphQLProvider({ children }: { children: ReactNode }) {
  const client = useMemo(() => {
    const ws = typeof window === 'undefined' ? undefined : wsClient();
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
  }, []);
  return <Provider value={client}>{children}</Provider>;
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
