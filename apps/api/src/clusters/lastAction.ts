import { LastAction, LastActionState } from '@openpks/domain';
import type { OperationKind, OperationState } from '../operations/operationStore.js';

// PKS's `last_action`, `last_action_state` and `last_action_description` are a view of the cluster's latest
// operation, for the CLI and for PKS compatibility. This is the one place that view is derived.

export const ACTION_OF: Record<OperationKind, LastAction> = {
  create: LastAction.CREATE,
  update: LastAction.UPDATE,
  upgrade: LastAction.UPGRADE,
  delete: LastAction.DELETE,
};

const STATE_OF: Record<OperationState, LastActionState> = {
  'in progress': LastActionState.IN_PROGRESS,
  succeeded: LastActionState.SUCCEEDED,
  failed: LastActionState.FAILED,
};

/** What an operation says while it starts, before the broker has said anything (PKS's words). */
export const STARTING: Record<OperationKind, string> = {
  create: 'Creating cluster',
  update: 'Updating cluster',
  upgrade: 'Upgrading cluster',
  delete: 'Instance deletion in progress',
};

/** What a successful operation says: the On-Demand Broker's words, as PKS shows them. */
export const COMPLETED: Record<OperationKind, string> = {
  create: 'Instance provisioning completed',
  update: 'Instance update completed',
  upgrade: 'Instance upgrade completed',
  delete: 'Instance deletion completed',
};

export interface LastActionView {
  lastAction: LastAction;
  lastActionState: LastActionState;
  lastActionDescription: string;
}

/** PKS's last action of a cluster whose latest operation is `op`. */
export function lastActionOf(op: {
  kind: OperationKind;
  state: OperationState;
  description: string;
}): LastActionView {
  const fallback =
    op.state === 'in progress'
      ? STARTING[op.kind]
      : op.state === 'succeeded'
        ? COMPLETED[op.kind]
        : `${op.kind} failed`;
  return {
    lastAction: ACTION_OF[op.kind],
    lastActionState: STATE_OF[op.state],
    lastActionDescription: op.description === '' ? fallback : op.description,
  };
}
