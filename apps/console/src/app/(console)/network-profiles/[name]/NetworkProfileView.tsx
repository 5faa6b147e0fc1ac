'use client';

import Link from 'next/link';
import { useQuery } from 'urql';
import { EmptyState, ErrorState, formatTime, Skeleton } from '@/components/ui';
import { ConsoleNetworkProfileDocument } from '@/gql/graphql';
import { codeOf, messageOf } from '@/lib/errors';

export function NetworkProfileView({ name }: { name: string }) {
  const [{ data, error }, refetch] = useQuery({ query: ConsoleNetworkProfileDocument, variables: { name } });
  if (error && !data)
    return codeOf(error) === 'NOT_FOUND' ? (
      <EmptyState title={`Network profile ${name} does not exist`}>
        <Link href="/network-profiles">All network profiles</Link>
      </EmptyState>
    ) : (
      <ErrorState
        title="The network profile could not be loaded"
        message={messageOf(error)}
        retry={() => refetch()}
      />
    );
  if (!data) return <Skeleton lines={5} label={`Loading network profile ${name}`} />;
  const p = data.networkProfile;
  return (
    <section aria-labelledby="profile-title">
      <p>
        <Link href="/network-profiles">← Network profiles</Link>
      </p>
      <h1 id="profile-title">{p.name}</h1>
      <dl className="details">
        <div>
          <dt>Description</dt>
          <dd>{p.description || '–'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(p.createdAt)}</dd>
        </div>
      </dl>
      <h2>Parameters</h2>
      <pre className="code">{JSON.stringify(p.parameters, null, 2)}</pre>
    </section>
  );
}
