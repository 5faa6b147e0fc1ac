'use client';

import Link from 'next/link';
import { useSession } from 'next-auth/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { useFleet, useFleetMessages } from '@/components/FleetFeed';
import { EmptyState, ErrorState, formatTime, ProgressBar, Skeleton, StateBadge } from '@/components/ui';
import {
  ConsoleClusterDocument,
  ConsolePlansDocument,
  type ConsoleClusterEventFragment,
  type ConsoleClusterQuery,
} from '@/gql/graphql';
import { codeOf, fieldErrorOf, messageOf } from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';
import { ClusterActions } from './ClusterActions';

type ClusterNode = NonNullable<ConsoleClusterQuery['cluster']['nodes']>[number];

/** How often progress events may reload the cluster: VMs come and go during an operation, but a burst of
 * events should cost one reload (and one Director listing), not one each. */
const PROGRESS_RELOAD_MS = 2_000;

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
  const [latest, setLatest] = useState<ConsoleClusterEventFragment>();
  const [gone, setGone] = useState(false);
  // The page's one subscription is the fleet feed, filtered here to this cluster: its row keeps the
  // state and counts current, its messages feed the event log.
  const fleet = useFleet();
  const feedCluster = useMemo(
    () => [...fleet.clusters.values()].find((c) => c.name === name),
    [fleet.clusters, name],
  );

  // Each event is appended once. A state change reloads the record at once (nodes, IPs, NSX details,
  // which the feed does not carry); progress reloads it at most every PROGRESS_RELOAD_MS, so the nodes
  // table follows VMs being created and deleted while the operation runs.
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useFleetMessages((message) => {
    if (message.clusterName !== name) return;
    if (message.type === 'DELETED') {
      setGone(true);
      return;
    }
    const event = message.event;
    // ADDED without an event is the list sent as the feed (re)starts: nothing happened.
    if (!event) return;
    if (message.type === 'ADDED') setGone(false);
    setLive((events) => (events.some((e) => eventKey(e) === eventKey(event)) ? events : [...events, event]));
    setLatest(event);
    if (event.kind === 'STATE') {
      clearTimeout(reloadTimer.current);
      reloadTimer.current = undefined;
      refetch({ requestPolicy: 'network-only' });
    } else if (reloadTimer.current === undefined) {
      reloadTimer.current = setTimeout(() => {
        reloadTimer.current = undefined;
        refetch({ requestPolicy: 'network-only' });
      }, PROGRESS_RELOAD_MS);
    }
  });
  useEffect(() => () => clearTimeout(reloadTimer.current), []);

  // The feed's row is the newest word on the fields both carry; the query adds nodes, events and NSX.
  const cluster =
    data?.cluster && feedCluster?.uuid === data.cluster.uuid
      ? { ...data.cluster, ...feedCluster }
      : data?.cluster;
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
  const lastAction = cluster?.lastAction ?? '';
  const state = cluster?.lastActionState ?? '';
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

  const deleted = gone || (lastAction === 'DELETE' && state === 'succeeded');
  const details: [string, string][] = [
    ['Name', cluster.name],
    ['Plan Name', cluster.planName],
    ['UUID', cluster.uuid],
    ['Last Action', lastAction],
    ['Last Action State', state],
    [
      'Last Action Description',
      latest?.description && latest.kind === 'STATE' && latest.clusterUuid === cluster.uuid
        ? latest.description
        : cluster.lastActionDescription,
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
        <section aria-labelledby="nodes-title" className="panel">
          <h2 id="nodes-title">Nodes</h2>
          <p>
            <strong className="big-number" data-testid="worker-count">
              {cluster.workerInstances}
            </strong>{' '}
            worker node{cluster.workerInstances === 1 ? '' : 's'}
            {plan ? ` (plan ${plan.name}: up to ${plan.maxWorkerInstances}, ${plan.workerVmType} VMs)` : ''}
          </p>
          <NodeTable nodes={cluster.nodes} error={fieldErrorOf(error, 'nodes')} name={cluster.name} />
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

/** The cluster's VMs as the Director reports them (the API's `nodes`); null when it could not list them. */
function NodeTable({
  nodes,
  error,
  name,
}: {
  nodes: readonly ClusterNode[] | null | undefined;
  error: string | undefined;
  name: string;
}) {
  if (nodes == null)
    return (
      <p className="notice" role="status">
        {error ? `Nodes unavailable: ${error}.` : 'Nodes unavailable.'}
      </p>
    );
  if (nodes.length === 0)
    return <p className="muted">No VMs: the Director has no deployment of this cluster.</p>;
  return (
    <div className="table-wrap">
      <table className="table stacked">
        <caption className="visually-hidden">
          VMs of cluster {name}, as the BOSH Director reports them
        </caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">IPs</th>
            <th scope="col">State</th>
            <th scope="col">VM type</th>
            <th scope="col">AZ</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node) => (
            <tr key={node.id} data-testid="node-row">
              <th scope="row" data-label="Instance">
                <code title={node.id}>
                  {node.instanceGroup}/{node.index}
                </code>
              </th>
              <td data-label="IPs">{node.ips.join(', ') || '–'}</td>
              <td data-label="State">
                <span
                  className={`badge ${node.state === 'running' ? 'ok' : node.state === 'failing' ? 'bad' : 'idle'}`}
                >
                  {node.state}
                </span>
              </td>
              <td data-label="VM type">{node.vmType ?? '–'}</td>
              <td data-label="AZ">{node.az ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
