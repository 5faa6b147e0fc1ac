'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { useFleet } from '@/components/FleetFeed';
import {
  describedBy,
  EmptyState,
  ErrorState,
  Field,
  formatTime,
  Skeleton,
  StateBadge,
} from '@/components/ui';
import { ConsoleTaskDocument, ConsoleUpgradeClustersDocument } from '@/gql/graphql';
import { fieldErrorsOf, inputErrorLine, messageOf, type FieldErrors, type FormFields } from '@/lib/errors';

/** Upgrade several clusters as one run: pick, choose canaries and max in flight, then watch the board. */
export function UpgradeClusters() {
  const taskId = useSearchParams().get('task');
  return taskId ? <UpgradeBoard id={taskId} /> : <UpgradeForm />;
}

const UPGRADE_FORM: FormFields = { clusters: 'Clusters', canaries: 'Canaries', maxInFlight: 'Max in flight' };

function UpgradeForm() {
  const router = useRouter();
  // The clusters to pick from come from the fleet feed, so states shown here are current too.
  const fleet = useFleet();
  const clusters = useMemo(
    () => [...fleet.clusters.values()].sort((a, b) => a.name.localeCompare(b.name)),
    [fleet.clusters],
  );
  const [, start] = useMutation(ConsoleUpgradeClustersDocument);
  const [picked, setPicked] = useState<string[]>([]);
  const [canaries, setCanaries] = useState<string[]>([]);
  const [maxInFlight, setMaxInFlight] = useState('1');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();

  const toggle = (list: string[], name: string) =>
    list.includes(name) ? list.filter((n) => n !== name) : [...list, name];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(maxInFlight);
    if (picked.length === 0) {
      return setErrors({
        clusters: inputErrorLine(UPGRADE_FORM, 'clusters', 'none picked', 'one or more clusters'),
      });
    }
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      return setErrors({
        maxInFlight: inputErrorLine(UPGRADE_FORM, 'maxInFlight', `${maxInFlight} is not allowed`, '1 to 100'),
      });
    }
    const result = await start({
      input: { clusters: picked, canaries: canaries.filter((c) => picked.includes(c)), maxInFlight: n },
    });
    if (result.error || !result.data) {
      const { fields, form } = fieldErrorsOf(result.error, UPGRADE_FORM);
      setErrors(fields);
      setFormError(form ?? (result.error ? undefined : 'no task returned'));
      return;
    }
    router.push(`/upgrades?task=${encodeURIComponent(result.data.upgradeClusters.id)}`);
  };

  if (fleet.connection === 'stopped' && !fleet.synced)
    return (
      <ErrorState
        title="Clusters could not be loaded"
        message={fleet.stopReason ?? 'the live feed stopped'}
        retry={fleet.retry}
      />
    );
  if (!fleet.synced && fleet.clusters.size === 0) return <Skeleton lines={4} label="Loading clusters" />;
  return (
    <section aria-labelledby="upgrade-title">
      <h1 id="upgrade-title">Upgrade clusters</h1>
      {clusters.length === 0 ? (
        <EmptyState title="No clusters to upgrade" />
      ) : (
        <form onSubmit={(e) => void submit(e)} className="form" noValidate>
          <fieldset>
            <legend>Clusters</legend>
            <p className="hint">Canaries are upgraded first, one at a time; a failed canary stops the run.</p>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Upgrade</th>
                    <th scope="col">Canary</th>
                    <th scope="col">Cluster</th>
                    <th scope="col">Versions</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {clusters.map((c) => (
                    <tr key={c.uuid}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Upgrade ${c.name}`}
                          checked={picked.includes(c.name)}
                          onChange={() => setPicked((p) => toggle(p, c.name))}
                        />
                      </td>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`${c.name} is a canary`}
                          disabled={!picked.includes(c.name)}
                          checked={canaries.includes(c.name) && picked.includes(c.name)}
                          onChange={() => setCanaries((p) => toggle(p, c.name))}
                        />
                      </td>
                      <td>{c.name}</td>
                      <td>
                        {c.k8sVersion ?? '–'} · PKS {c.pksVersion}
                      </td>
                      <td>
                        <StateBadge action={c.lastAction} state={c.lastActionState} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {errors.clusters ? (
              <p className="field-error" role="alert">
                {errors.clusters}
              </p>
            ) : null}
          </fieldset>
          <Field
            id="max-in-flight"
            label="Max in flight"
            error={errors.maxInFlight}
            hint="Clusters upgraded at once after the canaries."
          >
            <input
              id="max-in-flight"
              type="number"
              min={1}
              inputMode="numeric"
              value={maxInFlight}
              onChange={(e) => setMaxInFlight(e.target.value)}
              {...describedBy('max-in-flight', errors.maxInFlight, 'hint')}
            />
          </Field>
          {formError ? (
            <p role="alert" className="form-error">
              {formError}
            </p>
          ) : null}
          <div className="actions">
            <button type="submit" className="button primary">
              Start upgrade
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function UpgradeBoard({ id }: { id: string }) {
  // The query answers at once (and says when the run does not exist); the fleet feed's TASK messages
  // keep the board current from then on.
  const [{ data, error }] = useQuery({ query: ConsoleTaskDocument, variables: { id } });
  const fleet = useFleet();
  const task = fleet.tasks.get(id) ?? data?.task;
  if (error && !data)
    return <ErrorState title={`Upgrade ${id} could not be loaded`} message={messageOf(error)} />;
  if (!task) return <Skeleton lines={4} label="Loading the upgrade" />;
  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">Upgrade run</h1>
      <p>
        <span
          className={`badge ${task.status === 'done' ? 'ok' : task.status === 'canceled' ? 'bad' : 'busy'}`}
          data-testid="task-status"
        >
          {task.status}
        </span>{' '}
        · max in flight {task.maxInFlight} · started {formatTime(task.createdAt)}
        {task.finishedAt ? ` · finished ${formatTime(task.finishedAt)}` : ''}
      </p>
      <ul className="board" aria-live="polite">
        {task.clusters.map((c) => (
          <li key={c.clusterName} className="card">
            <h2>
              {c.clusterName}
              {c.isCanary ? <span className="badge idle"> canary</span> : null}
            </h2>
            <StateBadge state={c.lastActionState} />
            <p>{c.description}</p>
            <p className="muted small">
              {c.startedAt ? `started ${formatTime(c.startedAt)}` : 'waiting'}
              {c.finishedAt ? ` · finished ${formatTime(c.finishedAt)}` : ''}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
