'use client';

import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { describedBy, Dialog, Field } from '@/components/ui';
import {
  ConsoleClusterCredentialsDocument,
  ConsoleDeleteClusterDocument,
  ConsoleResizeClusterDocument,
  ConsoleUpgradeClusterDocument,
  type ConsoleClusterFragment,
} from '@/gql/graphql';
import { fieldErrorsOf, inputErrorLine, messageOf, type FormFields } from '@/lib/errors';

type Open = 'credentials' | 'resize' | 'upgrade' | 'delete' | undefined;

const CREDENTIALS_FORM: FormFields = { password: 'Your password' };
const RESIZE_FORM: FormFields = { numNodes: 'Worker nodes' };

/** What a user with a change scope can do to a cluster; actions wait while an operation runs. */
export function ClusterActions({
  cluster,
  state,
  maxWorkers,
  canChange,
}: {
  cluster: ConsoleClusterFragment;
  state: string;
  maxWorkers: number | undefined;
  canChange: boolean;
}) {
  const [open, setOpen] = useState<Open>();
  const [copied, setCopied] = useState(false);
  const busy = state === 'in progress' || state === 'queued';
  const command = `pks get-credentials ${cluster.name}`;
  const close = () => setOpen(undefined);
  return (
    <div className="cluster-actions">
      <div className="action-row" role="group" aria-label="Cluster actions">
        {canChange ? (
          <>
            <button type="button" className="button" disabled={busy} onClick={() => setOpen('credentials')}>
              Download kubeconfig
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => setOpen('resize')}>
              Resize
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => setOpen('upgrade')}>
              Upgrade
            </button>
            <button type="button" className="button danger" disabled={busy} onClick={() => setOpen('delete')}>
              Delete
            </button>
          </>
        ) : null}
      </div>
      <div className="command">
        <code id="get-credentials-command">{command}</code>
        <button
          type="button"
          className="button small"
          aria-describedby="get-credentials-command"
          onClick={() => {
            void navigator.clipboard?.writeText(command).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy command'}
        </button>
        <span className="visually-hidden" aria-live="polite">
          {copied ? 'Command copied to the clipboard' : ''}
        </span>
      </div>
      <Dialog open={open === 'credentials'} title="Download kubeconfig" onClose={close}>
        {open === 'credentials' ? <CredentialsForm name={cluster.name} onDone={close} /> : null}
      </Dialog>
      <Dialog open={open === 'resize'} title={`Resize ${cluster.name}`} onClose={close}>
        {open === 'resize' ? (
          <ResizeForm name={cluster.name} current={cluster.workerInstances} max={maxWorkers} onDone={close} />
        ) : null}
      </Dialog>
      <Dialog open={open === 'upgrade'} title={`Upgrade ${cluster.name}`} onClose={close}>
        {open === 'upgrade' ? <UpgradeForm name={cluster.name} onDone={close} /> : null}
      </Dialog>
      <Dialog open={open === 'delete'} title={`Delete ${cluster.name}`} onClose={close}>
        {open === 'delete' ? <DeleteForm name={cluster.name} onDone={close} /> : null}
      </Dialog>
    </div>
  );
}

function CredentialsForm({ name, onDone }: { name: string; onDone: () => void }) {
  const [, getCredentials] = useMutation(ConsoleClusterCredentialsDocument);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const result = await getCredentials({ name, password });
    setBusy(false);
    setPassword('');
    if (result.error || !result.data) {
      const { fields, form } = fieldErrorsOf(result.error, CREDENTIALS_FORM);
      setError(
        fields.password ?? form ?? (result.error ? messageOf(result.error) : 'no kubeconfig returned'),
      );
      return;
    }
    // The kubeconfig never leaves the page except as this download.
    const blob = new Blob([result.data.clusterCredentials.kubeconfig], { type: 'application/yaml' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `kubeconfig-${name}.yaml`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
    onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="form">
      <p>
        The kubeconfig signs you in to the cluster with UAA (OIDC). Like <code>pks get-credentials</code>,
        that needs your password.
      </p>
      <Field id="credentials-password" label="Your password" error={error}>
        <input
          id="credentials-password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          {...describedBy('credentials-password', error)}
        />
      </Field>
      <div className="actions">
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy || password === ''}>
          {busy ? 'Preparing…' : 'Download'}
        </button>
      </div>
    </form>
  );
}

function ResizeForm({
  name,
  current,
  max,
  onDone,
}: {
  name: string;
  current: number;
  max: number | undefined;
  onDone: () => void;
}) {
  const [, resize] = useMutation(ConsoleResizeClusterDocument);
  const [count, setCount] = useState(String(current));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1 || (max !== undefined && n > max)) {
      setError(
        inputErrorLine(
          RESIZE_FORM,
          'numNodes',
          `${count} is not allowed`,
          `a whole number from 1 to ${max ?? 'the plan maximum'}`,
        ),
      );
      return;
    }
    setBusy(true);
    const result = await resize({ name, numNodes: n });
    setBusy(false);
    if (result.error) {
      const { fields, form } = fieldErrorsOf(result.error, RESIZE_FORM);
      setError(fields.numNodes ?? form);
      return;
    }
    onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="form" noValidate>
      <Field
        id="resize-workers"
        label="Worker nodes"
        error={error}
        hint={max !== undefined ? `1 to ${max} on this cluster's plan; now ${current}.` : undefined}
      >
        <input
          id="resize-workers"
          type="number"
          inputMode="numeric"
          min={1}
          max={max}
          required
          autoFocus
          value={count}
          onChange={(e) => setCount(e.target.value)}
          {...describedBy('resize-workers', error, max !== undefined ? 'hint' : undefined)}
        />
      </Field>
      <div className="actions">
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Resizing…' : 'Resize'}
        </button>
      </div>
    </form>
  );
}

function UpgradeForm({ name, onDone }: { name: string; onDone: () => void }) {
  const [, upgrade] = useMutation(ConsoleUpgradeClusterDocument);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const result = await upgrade({ name });
    setBusy(false);
    if (result.error) return setError(messageOf(result.error));
    onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="form">
      <p>
        Upgrades {name} to this installation’s Kubernetes and PKS version. Workers are drained and replaced a
        few at a time; workloads with several replicas keep running.
      </p>
      {error ? (
        <p role="alert" className="form-error">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" className="button" onClick={onDone} autoFocus>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Starting…' : 'Upgrade'}
        </button>
      </div>
    </form>
  );
}

function DeleteForm({ name, onDone }: { name: string; onDone: () => void }) {
  const [, remove] = useMutation(ConsoleDeleteClusterDocument);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (typed !== name) return;
    setBusy(true);
    const result = await remove({ name });
    setBusy(false);
    if (result.error) return setError(messageOf(result.error));
    onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="form">
      <p>
        Deleting removes every VM and disk of the cluster and its workloads. This cannot be undone. Type{' '}
        <strong>{name}</strong> to confirm.
      </p>
      <Field id="delete-confirm" label="Cluster name" error={error}>
        <input
          id="delete-confirm"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          {...describedBy('delete-confirm', error)}
        />
      </Field>
      <div className="actions">
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button danger" disabled={busy || typed !== name}>
          {busy ? 'Deleting…' : 'Delete cluster'}
        </button>
      </div>
    </form>
  );
}
