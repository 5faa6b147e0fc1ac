'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { AdminList } from '@/components/AdminList';
import { describedBy, Field, formatTime } from '@/components/ui';
import {
  ConsoleCreateNetworkProfileDocument,
  ConsoleDeleteNetworkProfileDocument,
  ConsoleNetworkProfilesDocument,
} from '@/gql/graphql';
import { fieldErrorsOf, inputErrorLine, type FieldErrors, type FormFields } from '@/lib/errors';

const EXAMPLE = `{
  "lb_size": "medium",
  "pod_routable": false
}`;

export function NetworkProfileList() {
  const [{ data, error }, refetch] = useQuery({ query: ConsoleNetworkProfilesDocument });
  const [, remove] = useMutation(ConsoleDeleteNetworkProfileDocument);
  return (
    <AdminList
      titleId="profiles-title"
      title="Network profiles"
      intro="NSX-T settings a cluster can be created with (load balancer size, routable pods, …)."
      errorTitle="Network profiles could not be loaded"
      loadingLabel="Loading network profiles"
      emptyTitle="No network profiles"
      emptyText="Clusters use the installation’s NSX-T defaults."
      rows={data?.networkProfiles}
      error={error}
      refetch={refetch}
      columns={['Name', 'Description', 'Created']}
      rowKey={(p) => p.name}
      cells={(p) => (
        <>
          <td>
            <Link href={`/network-profiles/${encodeURIComponent(p.name)}`}>{p.name}</Link>
          </td>
          <td>{p.description}</td>
          <td>{formatTime(p.createdAt)}</td>
        </>
      )}
      remove={{
        label: (p) => `Delete network profile ${p.name}`,
        confirm: (p) => `Delete network profile ${p.name}?`,
        run: (p) => remove({ name: p.name }),
      }}
      form={(reload) => <CreateProfileForm onCreated={reload} />}
    />
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
