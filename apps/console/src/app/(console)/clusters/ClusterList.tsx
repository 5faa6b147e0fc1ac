'use client';

import Link from 'next/link';
import { useSession } from 'next-auth/react';
import { useEffect, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { useFleet } from '@/components/FleetFeed';
import { EmptyState, ErrorState, Skeleton, StateBadge } from '@/components/ui';
import {
  ConsoleUsageDocument,
  type ConsoleClusterEventFragment,
  type ConsoleClusterFragment,
} from '@/gql/graphql';
import { progressOf } from '@/lib/fleet';
import { usageLine } from '@/lib/quota';
import { capabilitiesOf } from '@/lib/scopes';

type SortKey = 'name' | 'planName' | 'workerInstances' | 'lastActionState' | 'owner' | 'updatedAt';

const COLUMNS: { key: SortKey; label: string; adminOnly?: boolean }[] = [
  { key: 'name', label: 'Name' },
  { key: 'planName', label: 'Plan' },
  { key: 'workerInstances', label: 'Workers' },
  { key: 'lastActionState', label: 'Last action' },
  { key: 'owner', label: 'Owner', adminOnly: true },
  { key: 'updatedAt', label: 'Updated' },
];

export function ClusterList() {
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  // The whole list comes from the fleet feed and stays current by it: rows appear, change and go as
  // they do in the API, whoever made the change, with no reload and no polling.
  const fleet = useFleet();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean }>({ key: 'name', ascending: true });
  const columns = COLUMNS.filter((c) => !c.adminOnly || can.readsAll);

  const clusters = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const list = [...fleet.clusters.values()].filter(
      (c) =>
        needle === '' ||
        [c.name, c.planName, c.owner, c.lastActionState, c.kubernetesMasterHost].some((v) =>
          v.toLowerCase().includes(needle),
        ),
    );
    const sign = sort.ascending ? 1 : -1;
    return [...list].sort((a, b) => {
      const x = a[sort.key];
      const y = b[sort.key];
      return (
        (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sign
      );
    });
  }, [fleet.clusters, filter, sort]);
  const loaded = fleet.synced || fleet.clusters.size > 0;

  return (
    <section aria-labelledby="clusters-title">
      <div className="page-head">
        <h1 id="clusters-title">Clusters</h1>
        {can.changes ? (
          <Link className="button primary" href="/clusters/new">
            Create cluster
          </Link>
        ) : null}
      </div>
      <UsageLine clusters={fleet.clusters} />
      <div className="toolbar">
        <label htmlFor="cluster-filter">Filter</label>
        <input
          id="cluster-filter"
          type="search"
          value={filter}
          placeholder="name, plan, owner, state"
          onChange={(e) => setFilter(e.target.value)}
        />
        <label htmlFor="cluster-sort">Sort by</label>
        <select
          id="cluster-sort"
          value={`${sort.key}:${sort.ascending ? 'asc' : 'desc'}`}
          onChange={(e) => {
            const [key, direction] = e.target.value.split(':') as [SortKey, string];
            setSort({ key, ascending: direction === 'asc' });
          }}
        >
          {columns.flatMap((c) => [
            <option key={`${c.key}:asc`} value={`${c.key}:asc`}>
              {c.label} ↑
            </option>,
            <option key={`${c.key}:desc`} value={`${c.key}:desc`}>
              {c.label} ↓
            </option>,
          ])}
        </select>
      </div>
      {fleet.connection === 'stopped' && !loaded ? (
        <ErrorState
          title="Clusters could not be loaded"
          message={fleet.stopReason ?? 'the live feed stopped'}
          retry={fleet.retry}
        />
      ) : !loaded ? (
        <Skeleton lines={4} label="Loading clusters" />
      ) : fleet.clusters.size === 0 ? (
        <EmptyState title="No clusters yet">
          {can.changes ? (
            <p>
              <Link href="/clusters/new">Create your first cluster</Link> from one of the plans.
            </p>
          ) : (
            <p>You have no clusters, and your scopes do not allow creating one.</p>
          )}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table stacked">
            <caption className="visually-hidden">
              {clusters.length} clusters, sorted by {sort.key} {sort.ascending ? 'ascending' : 'descending'}
            </caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={sort.key === c.key ? (sort.ascending ? 'ascending' : 'descending') : undefined}
                  >
                    <button
                      type="button"
                      className="sort"
                      onClick={() =>
                        setSort((s) => ({ key: c.key, ascending: s.key === c.key ? !s.ascending : true }))
                      }
                    >
                      {c.label}
                      <span aria-hidden="true">
                        {sort.key === c.key ? (sort.ascending ? ' ▲' : ' ▼') : ''}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {clusters.map((cluster) => (
                <ClusterRow
                  key={cluster.uuid}
                  cluster={cluster}
                  latest={fleet.latest.get(cluster.uuid)}
                  showOwner={can.readsAll}
                />
              ))}
            </tbody>
          </table>
          {clusters.length === 0 ? <p className="muted">No cluster matches “{filter}”.</p> : null}
        </div>
      )}
    </section>
  );
}

/** One row; the feed replaces `cluster` and `latest` as the cluster changes. */
function ClusterRow({
  cluster,
  latest,
  showOwner,
}: {
  cluster: ConsoleClusterFragment;
  latest: ConsoleClusterEventFragment | undefined;
  showOwner: boolean;
}) {
  const progress = progressOf(cluster, latest);
  return (
    <tr data-testid="cluster-row">
      <td data-label="Name">
        <Link href={`/clusters/${encodeURIComponent(cluster.name)}`}>{cluster.name}</Link>
      </td>
      <td data-label="Plan">{cluster.planName}</td>
      <td data-label="Workers" className="num">
        {cluster.workerInstances}
      </td>
      <td data-label="Last action">
        <StateBadge action={cluster.lastAction} state={cluster.lastActionState} />
        {progress ? (
          <span className="muted small" data-testid="cluster-progress">
            {' '}
            {progress.percent}%{progress.stage ? ` · ${progress.stage}` : ''}
          </span>
        ) : null}
      </td>
      {showOwner ? <td data-label="Owner">{cluster.owner}</td> : null}
      <td data-label="Updated">
        <time dateTime={cluster.updatedAt}>
          {new Date(cluster.updatedAt).toISOString().slice(0, 16).replace('T', ' ')}
        </time>
      </td>
    </tr>
  );
}

/**
 * Your usage against your quota. Read again whenever the fleet feed shows your clusters or their worker
 * counts change, so it follows creates, resizes and deletes as the list does.
 */
function UsageLine({ clusters }: { clusters: ReadonlyMap<string, ConsoleClusterFragment> }) {
  const [{ data, error }, refetch] = useQuery({ query: ConsoleUsageDocument });
  const shape = [...clusters.values()]
    .map((c) => `${c.name}:${c.workerInstances}`)
    .sort()
    .join(',');
  useEffect(() => {
    refetch({ requestPolicy: 'network-only' });
  }, [shape, refetch]);
  if (!data) return error ? null : <p className="muted usage-line">Loading your usage…</p>;
  return (
    <p className="muted usage-line" aria-label="Your usage">
      Your usage: {usageLine(data.usage.totals, data.usage.limit)}
    </p>
  );
}
