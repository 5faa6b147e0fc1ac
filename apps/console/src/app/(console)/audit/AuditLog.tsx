'use client';

import { useSession } from 'next-auth/react';
import { useQuery } from 'urql';
import { EmptyState, ErrorState, formatTime, Skeleton } from '@/components/ui';
import { ConsoleAuditEventsDocument } from '@/gql/graphql';
import { messageOf } from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';

export function AuditLog() {
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  const [{ data, error }, refetch] = useQuery({
    query: ConsoleAuditEventsDocument,
    variables: { limit: 200 },
    pause: !can.admin,
  });
  if (!can.admin)
    return (
      <EmptyState title="The audit log is for administrators">
        <p>It needs the pks.clusters.admin scope.</p>
      </EmptyState>
    );
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      {error && !data ? (
        <ErrorState
          title="The audit log could not be loaded"
          message={messageOf(error)}
          retry={() => refetch()}
        />
      ) : !data ? (
        <Skeleton lines={6} label="Loading the audit log" />
      ) : data.auditEvents.length === 0 ? (
        <EmptyState title="Nothing has been changed yet" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {data.auditEvents.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td>
                    {e.actor} <span className="muted small">({e.clientId})</span>
                  </td>
                  <td>{e.action}</td>
                  <td>{e.target ?? '–'}</td>
                  <td>
                    <span
                      className={`badge ${e.outcome === 'success' || e.outcome === 'succeeded' ? 'ok' : 'bad'}`}
                    >
                      {e.outcome}
                    </span>
                    {e.message ? <span className="small"> {e.message}</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
