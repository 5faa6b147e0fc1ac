'use client';

import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { AdminList } from '@/components/AdminList';
import { describedBy, Field } from '@/components/ui';
import { ConsoleDeleteQuotaDocument, ConsoleQuotasDocument, ConsoleSetQuotaDocument } from '@/gql/graphql';
import { fieldErrorsOf, inputErrorLine, type FieldErrors, type FormFields } from '@/lib/errors';
import { gb, ofLimit } from '@/lib/quota';

/** The quota form's fields as the API names them, with their labels. */
const QUOTA_FORM: FormFields = {
  owner: 'Owner',
  'limit.cluster': 'Clusters',
  'limit.cpu': 'CPU',
  'limit.memory': 'Memory (GB)',
};

interface Draft {
  owner: string;
  cluster: string;
  cpu: string;
  memory: string;
}

const EMPTY: Draft = { owner: '', cluster: '', cpu: '', memory: '' };

/** Admins set, edit and delete quotas; admin.read sees them. Each row shows the owner's usage against it. */
export function QuotaList() {
  const [{ data, error }, refetch] = useQuery({ query: ConsoleQuotasDocument });
  const [, remove] = useMutation(ConsoleDeleteQuotaDocument);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const used = new Map((data?.usages ?? []).map((u) => [u.owner, u.totals]));
  return (
    <AdminList
      titleId="quotas-title"
      title="Quotas"
      intro={
        <>
          Limits on the clusters, CPUs and memory of each user’s clusters, counted from their plans’ VM types.
          A limit left empty is no limit on that resource. Admins are exempt from their own.
        </>
      }
      errorTitle="Quotas could not be loaded"
      loadingLabel="Loading quotas"
      emptyTitle="No quotas"
      emptyText="No user has limits."
      rows={data?.quotas}
      error={error}
      refetch={refetch}
      columns={['Owner', 'Clusters', 'CPU', 'Memory (GB)']}
      rowKey={(q) => q.owner}
      cells={(q) => {
        const u = used.get(q.owner) ?? { cluster: 0, cpu: 0, memory: 0 };
        return (
          <>
            <td>{q.owner}</td>
            <td>{ofLimit(String(u.cluster), q.limit.cluster)}</td>
            <td>{ofLimit(String(u.cpu), q.limit.cpu)}</td>
            <td>{ofLimit(gb(u.memory), q.limit.memory, gb)}</td>
          </>
        );
      }}
      rowActions={(q) => (
        <button
          type="button"
          className="button small"
          aria-label={`Edit the quota of ${q.owner}`}
          onClick={() =>
            setDraft({
              owner: q.owner,
              // An unlimited resource is an empty field, saved back as no limit.
              cluster: q.limit.cluster === null ? '' : String(q.limit.cluster),
              cpu: q.limit.cpu === null ? '' : String(q.limit.cpu),
              memory: q.limit.memory === null ? '' : String(q.limit.memory),
            })
          }
        >
          Edit
        </button>
      )}
      remove={{
        label: (q) => `Delete the quota of ${q.owner}`,
        confirm: (q) => `Delete the quota of ${q.owner}? They will have no limits.`,
        run: (q) => remove({ owner: q.owner }),
      }}
      form={(reload) => (
        <QuotaForm key={draft.owner} initial={draft} onSaved={reload} onReset={() => setDraft(EMPTY)} />
      )}
    />
  );
}

/** A number field's value as the API takes it; text that is no number is reported beside its field. */
function numberOf(value: string): number | undefined {
  const trimmed = value.trim();
  return trimmed === '' || !/^-?\d+(\.\d+)?$/.test(trimmed) ? undefined : Number(trimmed);
}

function QuotaForm({
  initial,
  onSaved,
  onReset,
}: {
  initial: Draft;
  onSaved: () => void;
  onReset: () => void;
}) {
  const [, save] = useMutation(ConsoleSetQuotaDocument);
  const [draft, setDraft] = useState<Draft>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const editing = initial.owner !== '';
  const set = (key: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(undefined);
    setFormError(undefined);
    const local: FieldErrors = {};
    const limit: Record<string, number | null> = {};
    for (const [key, field] of [
      ['cluster', 'limit.cluster'],
      ['cpu', 'limit.cpu'],
      ['memory', 'limit.memory'],
    ] as const) {
      const raw = draft[key];
      const value = numberOf(raw);
      // Left empty, no limit on that resource (the API wants at least one); text that is no number never
      // reaches it.
      if (raw.trim() !== '' && value === undefined) {
        local[field] = inputErrorLine(QUOTA_FORM, field, `"${raw}" is not a number`);
      }
      limit[key] = value ?? null;
    }
    // Whole numbers for clusters and CPUs: GraphQL's Int would refuse a fraction without naming the field.
    for (const key of ['cluster', 'cpu'] as const) {
      const value = limit[key];
      if (value !== null && value !== undefined && !Number.isInteger(value)) {
        local[`limit.${key}`] = inputErrorLine(QUOTA_FORM, `limit.${key}`, `${value} is not a whole number`);
        limit[key] = null;
      }
    }
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    const result = await save({ owner: draft.owner.trim(), limit });
    if (result.error) {
      const { fields, form } = fieldErrorsOf(result.error, QUOTA_FORM);
      setErrors(fields);
      setFormError(form);
      return;
    }
    setErrors({});
    setSaved(result.data?.setQuota.owner);
    onSaved();
    if (!editing) setDraft(EMPTY);
  };

  return (
    <section aria-labelledby="quota-form-title" className="panel">
      <h2 id="quota-form-title">{editing ? `Edit the quota of ${initial.owner}` : 'Set a quota'}</h2>
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <Field
          id="quota-owner"
          label="Owner"
          error={errors.owner}
          hint="The UAA user name the limits apply to."
        >
          <input
            id="quota-owner"
            name="owner"
            autoComplete="off"
            value={draft.owner}
            readOnly={editing}
            onChange={set('owner')}
            {...describedBy('quota-owner', errors.owner, 'hint')}
          />
        </Field>
        <Field id="quota-cluster" label="Clusters" error={errors['limit.cluster']}>
          <input
            id="quota-cluster"
            name="cluster"
            inputMode="numeric"
            value={draft.cluster}
            onChange={set('cluster')}
            {...describedBy('quota-cluster', errors['limit.cluster'])}
          />
        </Field>
        <Field id="quota-cpu" label="CPU" error={errors['limit.cpu']}>
          <input
            id="quota-cpu"
            name="cpu"
            inputMode="numeric"
            value={draft.cpu}
            onChange={set('cpu')}
            {...describedBy('quota-cpu', errors['limit.cpu'])}
          />
        </Field>
        <Field id="quota-memory" label="Memory (GB)" error={errors['limit.memory']}>
          <input
            id="quota-memory"
            name="memory"
            inputMode="decimal"
            value={draft.memory}
            onChange={set('memory')}
            {...describedBy('quota-memory', errors['limit.memory'])}
          />
        </Field>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        {saved ? (
          <p role="status" className="notice">
            Quota of {saved} saved.
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button primary">
            Save quota
          </button>
          {editing ? (
            <button type="button" className="button" onClick={onReset}>
              Cancel
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
