'use client';

import { useEffect, useId, useRef, type ReactNode } from 'react';

/** A cluster's last action state as a coloured label (text, not colour alone, carries the meaning). */
export function StateBadge({ action, state }: { action?: string; state: string }) {
  const tone =
    state === 'succeeded' ? 'ok' : state === 'failed' ? 'bad' : state === 'in progress' ? 'busy' : 'idle';
  return (
    <span className={`badge ${tone}`}>
      {action ? `${action} ` : ''}
      {state}
    </span>
  );
}

/** A determinate progress bar with its label; the box keeps its size, so live updates shift nothing. */
export function ProgressBar({ label, value }: { label: string; value: number | undefined }) {
  const percent = Math.max(0, Math.min(100, value ?? 0));
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span>{value === undefined ? '' : `${percent}%`}</span>
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

export function Skeleton({ lines = 3, label = 'Loading' }: { lines?: number; label?: string }) {
  return (
    <div className="skeleton" role="status" aria-label={label}>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton-line" />
      ))}
    </div>
  );
}

export function ErrorState({
  title,
  message,
  retry,
}: {
  title: string;
  message: string;
  retry?: () => void;
}) {
  return (
    <div className="state error-state" role="alert">
      <h2>{title}</h2>
      <p>{message}</p>
      {retry ? (
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty-state">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** A modal dialog on the native <dialog>: focus moves in, Escape closes, focus returns to the opener. */
export function Dialog({
  open,
  title,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <p className="field-error" id={`${id}-error`} aria-live="polite">
        {error ?? ''}
      </p>
    </div>
  );
}

/** aria attributes tying an input to its hint and error text. */
export function describedBy(id: string, error?: string, hint?: string) {
  const ids = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  return { 'aria-describedby': ids, 'aria-invalid': error ? true : undefined } as const;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }) + ' UTC';
}
