'use client';

import dynamic from 'next/dynamic';
import { Skeleton } from '@/components/ui';

// GraphiQL's editor (Monaco) runs in the browser only, in workers of its own; the server renders the frame.
const Explorer = dynamic(() => import('./Explorer').then((m) => m.Explorer), {
  ssr: false,
  loading: () => <Skeleton lines={6} label="Loading the GraphQL explorer" />,
});

export function ExplorerLoader() {
  return <Explorer />;
}
