'use client';

import Link from 'next/link';
import { useSession } from 'next-auth/react';
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { describedBy, EmptyState, ErrorState, Field, formatTime, Skeleton } from '@/components/ui';
import {
  ConsoleCreateNetworkProfileDocument,
  ConsoleDeleteNetworkProfileDocument,
  ConsoleNetworkProfilesDocument,
} from '@/gql/graphql';
import { fieldErrorsOf, inputErrorLine, messageOf, type FieldErrors, type FormFields } from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';

const EXAMPLE = `{
  "lb_size": "medium",
  "pod_routable": false
}`;

export function NetworkProfileList() {
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  const [{ data, error }, refetch] = useQuery({ query: ConsoleNetworkProfilesDocument });
  const [, remove] = useMutation(ConsoleDeleteNetworkProfileDocument);
  const [deleteError, setDeleteError] = useState<string>();
  return (
    <section aria-labelledby="profiles-title">
      <h1 id="profiles-title">Network profiles</h1>
      <p className="muted">
        NSX-T settings a cluster can be created with (load balancer size, routable pods, …).
      </p>
      {error && !data ? (
        <ErrorState
          title="Network profiles could not be loaded"
          message={messageOf(error)}
          retry={() => refetch()}
        />
      ) : !data ? (
        <Skeleton lines={3} label="Loading network profiles" />
      ) : data.networkProfiles.length === 0 ? (
        <EmptyState title="No network profiles">
          <p>Clusters use the installation’s NSX-T defaults.</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                {can.admin ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {data.networkProfiles.map((p) => (
                <tr key={p.name}>
                  <td>
                    <Link href={`/network-profiles/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                  </td>
                  <td>{p.description}</td>
                  <td>{formatTime(p.createdAt)}</td>
                  {can.admin ? (
                    <td>
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={`Delete network profile ${p.name}`}
                        onClick={() => {
                          if (!window.confirm(`Delete network profile ${p.name}?`)) return;
                          void remove({ name: p.name }).then((r) => {
                            setDeleteError(r.error ? messageOf(r.error) : undefined);
                            refetch({ requestPolicy: 'network-only' });
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
      {can.admin ? <CreateProfileForm onCreated={() => refetch({ requestPolicy: 'network-only' })} /> : null}
    </section>
  );
}

/** Profile fields and their labels; a bad key inside the parameters JSON is named by its path. */
const PROFILE_FORM: FormFields = { name: 'Name', description: 'Description', parameters: 'Parameters' };

function CreateProfileForm({ onCreated }: { onCreated: () => void }) {
  const [, create] = useMutation(ConsoleCreateNetworkProfileDocument);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [json, setJson] = useState(EXAMPLE);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [created, setCreated] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setCreated(undefined);
    setFormError(undefined);
    let parameters: unknown;
    try {
      parameters = JSON.parse(json);
    } catch (error) {
      setErrors({
        parameters: inputErrorLine(
          PROFILE_FORM,
          'parameters',
          `is not valid JSON: ${(error as Error).message}`,
        ),
      });
      return;
    }
    if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
      setErrors({
        parameters: inputErrorLine(
          PROFILE_FORM,
          'parameters',
          'is not a JSON object',
          'an object of profile parameters',
        ),
      });
      return;
    }
    const result = await create({
      input: { name, description, parameters: parameters as Record<string, unknown> },
    });
    if (result.error) {
      const { fields, form } = fieldErrorsOf(result.error, PROFILE_FORM);
      setErrors(fields);
      setFormError(form);
      return;
    }
    setErrors({});
    setCreated(name);
    setName('');
    setDescription('');
    onCreated();
  };
  return (
    <section aria-labelledby="create-profile-title" className="panel">
      <h2 id="create-profile-title">Create a network profile</h2>
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <Field id="profile-name" label="Name" error={errors.name}>
          <input
            id="profile-name"
            name="name"
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...describedBy('profile-name', errors.name)}
          />
        </Field>
        <Field id="profile-description" label="Description" error={errors.description}>
          <input
            id="profile-description"
            name="description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            {...describedBy('profile-description', errors.description)}
          />
        </Field>
        <Field
          id="profile-parameters"
          label="Parameters (JSON)"
          error={errors.parameters}
          hint="The profile's parameters object, as in `pks create-network-profile`'s JSON file."
        >
          <textarea
            id="profile-parameters"
            name="parameters"
            rows={8}
            spellCheck={false}
            value={json}
            onChange={(e) => setJson(e.target.value)}
            {...describedBy('profile-parameters', errors.parameters, 'hint')}
          />
        </Field>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        {created ? (
          <p role="status" className="notice">
            Network profile {created} created.
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button primary">
            Create network profile
          </button>
        </div>
      </form>
    </section>
  );
}
