'use client';

import { useQuery } from 'urql';
import { EmptyState, ErrorState, Skeleton } from '@/components/ui';
import { ConsolePlansDocument } from '@/gql/graphql';
import { messageOf } from '@/lib/errors';

export function PlanList() {
  const [{ data, error }, refetch] = useQuery({ query: ConsolePlansDocument });
  return (
    <section aria-labelledby="plans-title">
      <h1 id="plans-title">Plans</h1>
      <p className="muted">The cluster sizes the operator offers. Each cluster is created from one.</p>
      {error && !data ? (
        <ErrorState title="Plans could not be loaded" message={messageOf(error)} retry={() => refetch()} />
      ) : !data ? (
        <Skeleton lines={4} label="Loading plans" />
      ) : data.plans.length === 0 ? (
        <EmptyState title="No plans are configured" />
      ) : (
        <ul className="card-grid">
          {data.plans.map((p) => (
            <li key={p.id} className="card">
              <h2>{p.name}</h2>
              <p>{p.description}</p>
              <dl className="details compact">
                <div>
                  <dt>Masters</dt>
                  <dd>
                    {p.masterInstances} × {p.masterVmType} ({p.masterCpu} CPU, {p.masterMemory} GB)
                  </dd>
                </div>
                <div>
                  <dt>Workers</dt>
                  <dd>
                    {p.workerInstances} (max {p.maxWorkerInstances}) × {p.workerVmType} ({p.workerCpu} CPU,{' '}
                    {p.workerMemory} GB)
                  </dd>
                </div>
                <div>
                  <dt>AZs</dt>
                  <dd>{p.azs.join(', ')}</dd>
                </div>
                <div>
                  <dt>Privileged containers</dt>
                  <dd>{p.allowPrivilegedContainers ? 'allowed' : 'not allowed'}</dd>
                </div>
                <div>
                  <dt>Drain timeout</dt>
                  <dd>{p.drain.kubeletDrainTimeout === 0 ? 'none' : `${p.drain.kubeletDrainTimeout} min`}</dd>
                </div>
                <div>
                  <dt>Plan ID</dt>
                  <dd>
                    <code>{p.id}</code>
                  </dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
