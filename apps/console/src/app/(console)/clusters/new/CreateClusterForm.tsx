'use client';

import { useRouter } from 'next/navigation';
import { useSession } from 'next-auth/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { describedBy, EmptyState, ErrorState, Field, Skeleton } from '@/components/ui';
import {
  ConsoleCreateClusterDocument,
  ConsoleNetworkProfilesDocument,
  ConsolePlansDocument,
} from '@/gql/graphql';
import {
  codeOf,
  fieldErrorsOf,
  inputErrorLine,
  messageOf,
  type FieldErrors,
  type FormFields,
} from '@/lib/errors';
import { capabilitiesOf } from '@/lib/scopes';
import { checkClusterFields, type FieldProblem } from './actions';

/** The API's input fields and their labels here; errors name the field by its label. */
const FORM: FormFields = {
  name: 'Cluster name',
  externalHostname: 'External hostname',
  planName: 'Plan',
  numNodes: 'Worker nodes',
  networkProfileName: 'Network profile',
};
const FIELDS = Object.keys(FORM);

/** The lines for what the server action found, in the same rule as the API's answers. */
function linesOf(found: Record<string, FieldProblem>): FieldErrors {
  return Object.fromEntries(
    Object.entries(found).map(([field, p]) => [field, inputErrorLine(FORM, field, p.reason, p.allowed)]),
  );
}

export function CreateClusterForm() {
  const router = useRouter();
  const { data: session } = useSession();
  const can = capabilitiesOf(session?.scopes ?? []);
  const [plans] = useQuery({ query: ConsolePlansDocument });
  const [profiles] = useQuery({ query: ConsoleNetworkProfilesDocument });
  const [, createCluster] = useMutation(ConsoleCreateClusterDocument);
  const [name, setName] = useState('');
  const [hostname, setHostname] = useState('');
  const [planName, setPlanName] = useState<string | undefined>();
  const [workers, setWorkers] = useState<number | undefined>();
  const [profile, setProfile] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const plan = plans.data?.plans.find((p) => p.name === planName);
  useEffect(() => {
    if (!planName && plans.data?.plans[0]) setPlanName(plans.data.plans[0].name);
  }, [plans.data, planName]);
  const workerCount = workers ?? plan?.workerInstances ?? 1;

  const focusFirstError = (found: FieldErrors) => {
    const first = FIELDS.find((f) => found[f]);
    if (first) formRef.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
  };

  const checkOne = async (field: 'name' | 'externalHostname') => {
    const value = field === 'name' ? name : hostname;
    if (value === '') return;
    const found = linesOf(await checkClusterFields({ name, externalHostname: hostname || 'example.com' }));
    setErrors((e) => {
      const { [field]: _dropped, ...rest } = e;
      return found[field] ? { ...rest, [field]: found[field] } : rest;
    });
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!plan) return;
    setBusy(true);
    setFormError(undefined);
    const found = linesOf(await checkClusterFields({ name, externalHostname: hostname }));
    if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > plan.maxWorkerInstances) {
      // The API's own words for this, so the message does not change with where it was found.
      found.numNodes = inputErrorLine(
        FORM,
        'numNodes',
        `${workerCount} workers is outside plan ${plan.name}'s limits`,
        `1 to ${plan.maxWorkerInstances}`,
      );
    }
    if (Object.keys(found).length > 0) {
      setErrors(found);
      setBusy(false);
      focusFirstError(found);
      return;
    }
    const result = await createCluster({
      input: {
        name,
        externalHostname: hostname,
        planName: plan.name,
        numNodes: workerCount,
        ...(profile ? { networkProfileName: profile } : {}),
      },
    });
    setBusy(false);
    if (result.error) {
      const { fields, form } = fieldErrorsOf(result.error, FORM);
      // A conflict on create is the name being taken (PKS: "cluster name already exists").
      if (codeOf(result.error) === 'CONFLICT' && !fields.name && form) {
        setErrors({ ...fields, name: form });
        focusFirstError({ name: form });
        return;
      }
      setErrors(fields);
      setFormError(form);
      focusFirstError(fields);
      return;
    }
    router.push(`/clusters/${encodeURIComponent(name)}`);
  };

  if (!can.changes)
    return (
      <EmptyState title="Creating clusters is not allowed">
        <p>Your scopes do not include pks.clusters.manage or pks.clusters.admin.</p>
      </EmptyState>
    );
  if (plans.error && !plans.data)
    return <ErrorState title="Plans could not be loaded" message={messageOf(plans.error)} />;

  return (
    <section aria-labelledby="create-title">
      <h1 id="create-title">Create cluster</h1>
      <form ref={formRef} onSubmit={(e) => void onSubmit(e)} noValidate className="form">
        <fieldset className="plans">
          <legend>Plan</legend>
          {!plans.data ? (
            <Skeleton lines={3} label="Loading plans" />
          ) : (
            <div className="plan-cards">
              {plans.data.plans.map((p) => (
                <label key={p.id} className={`plan-card${p.name === planName ? ' selected' : ''}`}>
                  <input
                    type="radio"
                    name="planName"
                    value={p.name}
                    checked={p.name === planName}
                    onChange={() => {
                      setPlanName(p.name);
                      setWorkers(undefined);
                    }}
                  />
                  <span className="plan-name">{p.name}</span>
                  <span className="plan-facts">
                    {p.masterInstances} master{p.masterInstances === 1 ? '' : 's'} ({p.masterVmType}:{' '}
                    {p.masterCpu} CPU, {p.masterMemory} GB) · {p.workerInstances} workers, up to{' '}
                    {p.maxWorkerInstances} ({p.workerVmType}: {p.workerCpu} CPU, {p.workerMemory} GB)
                  </span>
                  <span className="plan-description">{p.description}</span>
                </label>
              ))}
            </div>
          )}
          {errors.planName ? <p className="field-error">{errors.planName}</p> : null}
        </fieldset>
        <Field
          id="name"
          label="Cluster name"
          error={errors.name}
          hint="Lowercase letters, digits and -, starting with a letter; up to 40 characters."
        >
          <input
            id="name"
            name="name"
            autoComplete="off"
            spellCheck={false}
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            onBlur={() => void checkOne('name')}
            {...describedBy('name', errors.name, 'hint')}
          />
        </Field>
        <Field
          id="externalHostname"
          label="External hostname"
          error={errors.externalHostname}
          hint="DNS name or IPv4 address of the Kubernetes API, e.g. demo.pks.local."
        >
          <input
            id="externalHostname"
            name="externalHostname"
            autoComplete="off"
            spellCheck={false}
            required
            value={hostname}
            onChange={(e) => setHostname(e.target.value)}
            onBlur={() => void checkOne('externalHostname')}
            {...describedBy('externalHostname', errors.externalHostname, 'hint')}
          />
        </Field>
        <Field
          id="numNodes"
          label="Worker nodes"
          error={errors.numNodes}
          hint={
            plan
              ? `1 to ${plan.maxWorkerInstances} on plan ${plan.name} (default ${plan.workerInstances}).`
              : undefined
          }
        >
          <input
            id="numNodes"
            name="numNodes"
            type="number"
            inputMode="numeric"
            min={1}
            max={plan?.maxWorkerInstances}
            value={workerCount}
            onChange={(e) => setWorkers(e.target.value === '' ? undefined : Number(e.target.value))}
            {...describedBy('numNodes', errors.numNodes, 'hint')}
          />
        </Field>
        <Field id="networkProfileName" label="Network profile" error={errors.networkProfileName}>
          <select
            id="networkProfileName"
            name="networkProfileName"
            value={profile}
            onChange={(e) => setProfile(e.target.value)}
            {...describedBy('networkProfileName', errors.networkProfileName)}
          >
            <option value="">None (the installation’s NSX-T defaults)</option>
            {profiles.data?.networkProfiles.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
                {p.description ? ` – ${p.description}` : ''}
              </option>
            ))}
          </select>
        </Field>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || !plan}>
            {busy ? 'Creating…' : 'Create cluster'}
          </button>
        </div>
      </form>
    </section>
  );
}
