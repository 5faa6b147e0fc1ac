import { describe, expect, it } from 'vitest';
import { LastActionState } from '@openpks/domain';
import { lastActionOf } from './lastAction.js';
import { OperationKind, OperationState } from '../operations/operationStore.js';

describe("PKS's last action, from the latest operation", () => {
  it('reads a successful upgrade as PKS does, not as an update', () => {
    expect(lastActionOf({ kind: 'upgrade', state: 'succeeded', description: '' })).toEqual({
      lastAction: 'UPGRADE',
      lastActionState: 'succeeded',
      lastActionDescription: 'Instance upgrade completed',
    });
    expect(lastActionOf({ kind: 'update', state: 'succeeded', description: '' }).lastActionDescription).toBe(
      'Instance update completed',
    );
  });

  it("keeps the operation's own words, and only ever gives a PKS last_action_state", () => {
    expect(lastActionOf({ kind: 'delete', state: 'failed', description: 'the broker said no' })).toEqual({
      lastAction: 'DELETE',
      lastActionState: 'failed',
      lastActionDescription: 'the broker said no',
    });
    const allowed = Object.values(LastActionState) as string[];
    for (const kind of Object.values(OperationKind)) {
      for (const state of Object.values(OperationState)) {
        expect(allowed).toContain(lastActionOf({ kind, state, description: '' }).lastActionState);
      }
    }
  });
});
