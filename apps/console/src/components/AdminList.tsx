'use client';

import { useSession } from 'next-auth/react';
import { useState, type ReactNode } from 'react';
import type { CombinedError, UseQueryExecute } from 'urql';
import { EmptyState, ErrorState, Skeleton } from '@/components/ui';
import { messageOf } from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';

/** How a row is deleted: the button's accessible name, the question asked first, and the mutation. */
export interface RowDelete<Row> {
  label: (row: Row) => string;
  confirm: (row: Row) => string;
  run: (row: Row) => Promise<{ error?: CombinedError | undefined }>;
}

/**
 * A page of records every reader sees and admins change (network profiles, quotas): the query's load
 * states, a table whose rows admins delete (and act on otherwise), a failed delete's message under it, and
 * the admin's form below, which reloads the list from the API once it has saved.
 */
export function AdminList<Row>({
  titleId,
  title,
  intro,
  errorTitle,
  loadingLabel,
  emptyTitle,
  emptyText,
  rows,
  error,
  refetch,
  columns,
  rowKey,
  cells,
  rowActions,
  remove,
  form,
}: {
  titleId: string;
  title: string;
  intro: ReactNode;
  errorTitle: string;
  loadingLabel: string;
  emptyTitle: string;
  emptyText: ReactNode;
  /** Undefined until the query has answered. */
  rows: readonly Row[] | undefined;
  error: CombinedError | undefined;
  refetch: UseQueryExecute;
  columns: readonly string[];
  rowKey: (row: Row) => string;
  /** The row's data cells, one per column. */
  cells: (row: Row) => ReactNode;
  /** Admin buttons before Delete. */
  rowActions?: (row: Row) => ReactNode;
  remove: RowDelete<Row>;
  form: (reload: () => void) => ReactNode;
}) {
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  const [deleteError, setDeleteError] = useState<string>();
  // The cache would answer with the list as it was before the change.
  const reload = () => refetch({ requestPolicy: 'network-only' });
  return (
    <section aria-labelledby={titleId}>
      <h1 id={titleId}>{title}</h1>
      <p className="muted">{intro}</p>
      {error && !rows ? (
        <ErrorState title={errorTitle} message={messageOf(error)} retry={() => refetch()} />
      ) : !rows ? (
        <Skeleton lines={3} label={loadingLabel} />
      ) : rows.length === 0 ? (
        <EmptyState title={emptyTitle}>
          <p>{emptyText}</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
                {can.admin ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)}>
                  {cells(row)}
                  {can.admin ? (
                    <td className="row-actions">
                      {rowActions ? <>{rowActions(row)} </> : null}
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={remove.label(row)}
                        onClick={() => {
                          if (!window.confirm(remove.confirm(row))) return;
                          void remove.run(row).then((r) => {
                            setDeleteError(r.error ? messageOf(r.error) : undefined);
                            reload();
                          });
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleteError ? (
        <p role="alert" className="form-error">
          {deleteError}
        </p>
      ) : null}
      {can.admin ? form(reload) : null}
    </section>
  );
}
