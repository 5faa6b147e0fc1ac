'use client';

// Monaco's workers are bundled with the console (new Worker(new URL(…, import.meta.url))) and served from
// its own origin: nothing loads from a CDN.
import 'graphiql/setup-workers/webpack';
import 'graphiql/style.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { useMemo } from 'react';
import { useGraphQLSocket } from '@/components/Providers';

const DEFAULT_QUERY = `# You are signed in: queries and mutations go through the console's server, subscriptions over its
# WebSocket, each with your session's token (the page never holds it). Open Docs for every type and field.

query Clusters {
  clusters {
    name
    lastAction
    lastActionState
  }
}

# Run this one to watch the fleet live (Ctrl-Enter picks the operation under the cursor).
subscription Fleet {
  clusterFeed {
    type
    clusterName
    cluster {
      lastActionState
    }
    event {
      kind
      progress
    }
  }
}
`;

/** GraphiQL on the console's session: the same /api/graphql route and WebSocket the pages use. */
export function Explorer() {
  const ws = useGraphQLSocket();
  const fetcher = useMemo(
    () =>
      createGraphiQLFetcher({
        url: '/api/graphql',
        ...(ws ? { wsClient: ws } : {}),
      }),
    [ws],
  );
  return (
    <section aria-label="GraphQL explorer" className="explorer">
      <h1 className="visually-hidden">GraphQL explorer</h1>
      {/* No headers editor: the session's token is added on the server, and a pasted one is not needed. */}
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} isHeadersEditorEnabled={false} />
    </section>
  );
}
