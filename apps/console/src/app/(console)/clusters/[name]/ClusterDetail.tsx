'use client';

import Link from 'next/link';
import { useSession } from 'next-auth/react';
import { useEffect, useMemo, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { EmptyState, ErrorState, formatTime, ProgressBar, Skeleton, StateBadge } from '@/components/ui';
import {
  ConsoleClusterDocument,
  ConsoleClusterEventsDocument,
  ConsolePlansDocument,
  type ConsoleClusterEventFragment,
} from '@/gql/graphql';
import { codeOf, messageOf } from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';
import { ClusterActions } from './ClusterActions';

function eventKey(e: ConsoleClusterEventFragment): string {
  return `${e.at}|${e.kind}|${e.stage ?? ''}|${e.index ?? ''}|${e.lastActionState}|${e.description}`;
}

export function ClusterDetail({ name }: { name: string }) {
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ConsoleClusterDocument,
    variables: { name },
  });
  const [plans] = useQuery({ query: ConsolePlansDocument });
  const [live, setLive] = useState<ConsoleClusterEventFragment[]>([]);
  const [{ data: latest }] = useSubscription(
    { query: ConsoleClusterEventsDocument, variables: { name } },
    (_prev: ConsoleClusterEventFragment | undefined, event): ConsoleClusterEventFragment =>
      event.clusterEvents,
  );

  // Each event is appended once; a state change reloads the record (worker count, IPs, versions).
  useEffect(() => {
    if (!latest) return;
    setLive((events) =>
      events.some((e) => eventKey(e) === eventKey(latest)) ? events : [...events, latest],
    );
    if (latest.kind === 'STATE') refetch({ requestPolicy: 'network-only' });
  }, [latest, refetch]);

  const cluster = data?.cluster;
  const events = useMemo(() => {
    const seen = new Set<string>();
    // Live events can arrive before the reloaded history that precedes them: order by time (stable).
    return [...(cluster?.events ?? []), ...live]
      .filter((e) => {
        const key = eventKey(e);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .sort((a, b) => a.at.localeCompare(b.at));
  }, [cluster?.events, live]);
  const lastEvent = events.at(-1);
  const lastAction = latest?.lastAction ?? cluster?.lastAction ?? '';
  const state = latest?.lastActionState ?? cluster?.lastActionState ?? '';
  const progressEvent = [...events]
    .reverse()
    .find((e) => e.kind === 'PROGRESS' && e.lastAction === lastAction);
  const progress =
    state === 'succeeded' ? 100 : (progressEvent?.progress ?? (state === 'in progress' ? 0 : undefined));
  const plan = plans.data?.plans.find((p) => p.name === cluster?.planName);

  if (error && !data) {
    if (codeOf(error) === 'NOT_FOUND')
      return (
        <EmptyState title={`Cluster ${name} does not exist`}>
          <p>
            It may have been deleted. <Link href="/clusters">Back to clusters</Link>
          </p>
        </EmptyState>
      );
    return (
      <ErrorState
        title={`Cluster ${name} could not be loaded`}
        message={messageOf(error)}
        retry={() => refetch({ requestPolicy: 'network-only' })}
      />
    );
  }
  if (!cluster || (fetching && !data)) return <Skeleton lines={8} label={`Loading cluster ${name}`} />;

  const deleted = lastAction === 'DELETE' && state === 'succeeded';
  const details: [string, string][] = [
    ['Name', cluster.name],
    ['Plan Name', cluster.planName],
    ['UUID', cluster.uuid],
    ['Last Action', lastAction],
    ['Last Action State', state],
    [
      'Last Action Description',
      latest?.description && latest.kind === 'STATE' ? latest.description : cluster.lastActionDescription,
    ],
    ['Kubernetes Master Host', cluster.kubernetesMasterHost],
    ['Kubernetes Master Port', String(cluster.kubernetesMasterPort)],
    ['Worker Nodes', String(cluster.workerInstances)],
    ['Kubernetes Master IP(s)', cluster.kubernetesMasterIps.join(', ') || 'In Progress'],
    ['Network Profile Name', cluster.networkProfileName ?? ''],
    ['Kubernetes Version', cluster.k8sVersion ?? ''],
    ['PKS Version', cluster.pksVersion],
    ['Owner', cluster.owner],
    ['Created', formatTime(cluster.createdAt)],
    ['Updated', formatTime(cluster.updatedAt)],
  ];
  const nsx = cluster.nsxDetails;

  return (
    <section aria-labelledby="cluster-title">
      <div className="page-head">
        <h1 id="cluster-title">{cluster.name}</h1>
        <StateBadge action={lastAction} state={state} />
      </div>
      <div className="progress-panel" aria-live="polite">
        <ProgressBar
          label={
            deleted
              ? 'Deleted'
              : state === 'in progress'
                ? `${lastAction}: ${progressEvent?.stage ?? 'starting'}`
                : `${lastAction} ${state}`
          }
          value={progress}
        />
      </div>
      {deleted ? (
        <p className="notice">
          This cluster has been deleted. <Link href="/clusters">Back to clusters</Link>
        </p>
      ) : (
        <ClusterActions
          cluster={cluster}
          state={state}
          maxWorkers={plan?.maxWorkerInstances}
          canChange={can.changes}
        />
      )}
      <div className="columns">
        <section aria-labelledby="details-title" className="panel">
          <h2 id="details-title">Details</h2>
          <dl className="details">
            {details.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v || '–'}</dd>
              </div>
            ))}
          </dl>
          {nsx ? (
            <>
              <h3>NSX-T</h3>
              <dl className="details">
                {(
                  [
                    ['Node subnet', nsx.nodeSubnet ? `${nsx.nodeSubnet}` : ''],
                    ['Tier-1 router', nsx.tier1RouterId ?? ''],
                    ['Tier-0 router', nsx.t0RouterId ?? ''],
                    ['Load balancer', [nsx.lbServiceId, nsx.lbSize].filter(Boolean).join(' · ')],
                    ['Floating IPs', (nsx.floatingIps ?? []).join(', ')],
                    ['Nodes DNS', (nsx.nodesDns ?? []).join(', ')],
                  ] as const
                ).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v || '–'}</dd>
                  </div>
                ))}
              </dl>
            </>
          ) : null}
          {cluster.drain ? (
            <>
              <h3>Drain settings</h3>
              <pre className="code">{JSON.stringify(cluster.drain, null, 2)}</pre>
            </>
          ) : null}
        </section>
        <section aria-labelledby="workers-title" className="panel">
          <h2 id="workers-title">Workers</h2>
          <p>
            <strong className="big-number" data-testid="worker-count">
              {cluster.workerInstances}
            </strong>{' '}
            worker node{cluster.workerInstances === 1 ? '' : 's'}
            {plan ? ` (plan ${plan.name}: up to ${plan.maxWorkerInstances}, ${plan.workerVmType} VMs)` : ''}
          </p>
          <ul className="worker-list" aria-label="Worker nodes">
            {Array.from({ length: cluster.workerInstances }, (_, i) => (
              <li key={i}>
                <code>worker/{i}</code>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-labelledby="events-title" className="panel">
        <h2 id="events-title">Event log</h2>
        {events.length === 0 ? (
          <p className="muted">No events yet.</p>
        ) : (
          <ol className="event-log" aria-live="polite" aria-relevant="additions">
            {events.map((e) => (
              <li key={eventKey(e)} className={`event event-kind-${e.kind.toLowerCase()}`}>
                <time dateTime={e.at}>{e.at.slice(11, 19)}</time>
                <span className="event-stage">{e.stage ?? e.lastAction}</span>
                <span className="event-text">
                  {e.description}
                  {e.kind === 'PROGRESS' && e.index != null && e.total != null
                    ? ` (${e.index}/${e.total})`
                    : ''}
                </span>
                <span className="event-state">
                  {e.kind === 'STATE' ? e.lastActionState : e.progress != null ? `${e.progress}%` : ''}
                </span>
              </li>
            ))}
          </ol>
        )}
        {lastEvent ? <p className="visually-hidden">Latest: {lastEvent.description}</p> : null}
      </section>
    </section>
  );
}
