import { describe, expect, it } from 'vitest';
import { deriveConditions, type ConditionInputs } from './conditions.js';
import type { ClusterStatus } from './status.js';

const spec = {
  planName: 'small',
  masterHost: 'c.example.test',
  masterPort: 8443,
  workerInstances: 2,
  networkProfileName: null,
  drain: null,
  pksVersion: '1.6.0-openpks',
  kubernetesVersion: '1.15.5',
};

const status = (workers: string[]): ClusterStatus => ({
  observedAt: '2026-01-01T00:00:00.000Z',
  deployed: true,
  instances: [
    { group: 'master', index: 0, id: 'm0', state: 'running', ips: ['127.1.0.2'] },
    ...workers.map((state, index) => ({ group: 'worker', index, id: `w${index}`, state, ips: [] })),
  ],
  releases: [{ name: 'kubo', version: '0.34.0' }],
  pksVersion: '1.6.0-openpks',
  kubernetesVersion: '1.15.5',
});

const inputs = (more: Partial<ConditionInputs>): ConditionInputs => ({
  spec,
  generation: 1,
  observedGeneration: 1,
  status: status(['running', 'running']),
  operation: { kind: 'create', state: 'succeeded', description: 'Instance provisioning completed' },
  ...more,
});

const byType = (conditions: ReturnType<typeof deriveConditions>) =>
  Object.fromEntries(conditions.map((c) => [c.type, c]));

describe('cluster conditions', () => {
  it('are all True for a cluster that runs what was asked', () => {
    const conditions = deriveConditions(inputs({}), [], new Date('2026-01-01T00:00:00Z'));
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Ready'],
      ['Provisioned', 'True', 'Provisioned'],
      ['UpToDate', 'True', 'UpToDate'],
      ['NodesHealthy', 'True', 'NodesRunning'],
    ]);
  });

  it('keep lastTransitionTime while the status stays, even when reason and message change', () => {
    const first = deriveConditions(
      inputs({ operation: { kind: 'update', state: 'in progress', description: 'Updating cluster' } }),
      [],
      new Date('2026-01-01T00:00:00Z'),
    );
    const later = deriveConditions(
      inputs({
        generation: 2,
        spec: { ...spec, workerInstances: 4 },
        operation: { kind: 'update', state: 'failed', description: 'Instance update failed: no capacity' },
      }),
      first,
      new Date('2026-01-01T00:05:00Z'),
    );
    const upToDate = byType(later).UpToDate!;
    expect(upToDate).toMatchObject({
      status: 'False',
      reason: 'UpdateFailed',
      message: 'Instance update failed: no capacity; wants 4 workers, 2 running',
      lastTransitionTime: '2026-01-01T00:00:00.000Z',
    });
    const fixed = deriveConditions(
      inputs({
        generation: 2,
        observedGeneration: 2,
        spec: { ...spec, workerInstances: 4 },
        status: status(['running', 'running', 'running', 'running']),
        operation: { kind: 'update', state: 'succeeded', description: 'Instance update completed' },
      }),
      later,
      new Date('2026-01-01T00:10:00Z'),
    );
    expect(byType(fixed).UpToDate).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-01-01T00:10:00.000Z',
    });
    // Ready never changed status: its time is the first one.
    expect(byType(fixed).Ready!.lastTransitionTime).toBe('2026-01-01T00:00:00.000Z');
  });

  it('say which nodes do not run, and that a cluster being created or deleted is not ready', () => {
    const unhealthy = byType(deriveConditions(inputs({ status: status(['running', 'failing']) }), []));
    expect(unhealthy.NodesHealthy).toMatchObject({
      status: 'False',
      reason: 'NodesNotRunning',
      message: 'worker/1 failing; 1 of 1 master running, 1 of 2 workers running',
    });
    expect(unhealthy.Ready).toMatchObject({ status: 'False', reason: 'NodesNotRunning' });

    const creating = byType(
      deriveConditions(
        inputs({
          status: null,
          observedGeneration: 0,
          operation: { kind: 'create', state: 'in progress', description: 'Creating cluster' },
        }),
        [],
      ),
    );
    expect(creating.Provisioned).toMatchObject({ status: 'False', reason: 'Provisioning' });
    expect(creating.Ready).toMatchObject({ status: 'False', reason: 'Provisioning' });
    expect(creating.NodesHealthy).toMatchObject({ status: 'Unknown', reason: 'NotObserved' });

    const deleting = byType(
      deriveConditions(
        inputs({
          operation: { kind: 'delete', state: 'in progress', description: 'Instance deletion in progress' },
        }),
        [],
      ),
    );
    expect(deleting.Ready).toMatchObject({ status: 'False', reason: 'Deleting' });
  });

  it('name releases this PKS does not ship when the versions differ', () => {
    const older = status(['running', 'running']);
    const conditions = byType(
      deriveConditions(
        inputs({
          status: {
            ...older,
            releases: [{ name: 'kubo', version: '0.33.0' }],
            pksVersion: null,
            kubernetesVersion: null,
          },
        }),
        [],
      ),
    );
    expect(conditions.UpToDate).toMatchObject({
      status: 'False',
      reason: 'VersionsDiffer',
      message: 'wants PKS 1.6.0-openpks, runs releases this PKS does not ship (kubo 0.33.0)',
    });
  });
});
