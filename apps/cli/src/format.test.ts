import { describe, expect, it } from 'vitest';
import { clusterBlock } from './format.js';
import type { ClusterObservationView, ClusterView } from './operations.js';

const cluster: ClusterView = {
  name: 'c1',
  uuid: '3b7a4c1e-0000-4000-8000-000000000001',
  planName: 'small',
  owner: 'alice',
  lastAction: 'UPDATE',
  lastActionState: 'failed',
  lastActionDescription: 'Instance update failed: no capacity',
  kubernetesMasterHost: 'c1.example.test',
  kubernetesMasterPort: 8443,
  kubernetesMasterIps: ['127.1.80.2'],
  workerInstances: 4,
  k8sVersion: '1.15.5',
  pksVersion: '1.6.0-openpks',
  networkProfileName: null,
};

describe('pks cluster NAME', () => {
  it('prints PKS’s labels alone when the cluster runs what was asked', () => {
    const observed: ClusterObservationView = {
      spec: { workerInstances: 4 },
      status: { observedAt: '2026-01-01T00:00:00.000Z', workerInstances: 4 },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'the Kubernetes API runs' }],
    };
    const text = clusterBlock({ ...cluster, ...observed });
    expect(text).toBe(clusterBlock(cluster));
    expect(text).toMatch(/^Worker Nodes:\s+4$/m);
    expect(text).not.toContain('Conditions Not Met');
  });

  it('shows desired and running workers, and each condition that does not hold with why', () => {
    const text = clusterBlock({
      ...cluster,
      spec: { workerInstances: 4 },
      status: { observedAt: '2026-01-01T00:00:00.000Z', workerInstances: 2 },
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'NodesNotRunning',
          message: 'worker/2 no vm, worker/3 no vm',
        },
        { type: 'Provisioned', status: 'True', reason: 'Provisioned', message: 'created' },
        {
          type: 'UpToDate',
          status: 'False',
          reason: 'UpdateFailed',
          message: 'Instance update failed: no capacity; wants 4 workers, 2 running',
        },
      ],
    });
    expect(text).toMatch(/^Worker Nodes:\s+4 \(2 running\)$/m);
    expect(
      text.endsWith(
        'Conditions Not Met:\n' +
          '  Ready (NodesNotRunning): worker/2 no vm, worker/3 no vm\n' +
          '  UpToDate (UpdateFailed): Instance update failed: no capacity; wants 4 workers, 2 running\n',
      ),
    ).toBe(true);
  });

  it('says nothing of workers before the status was first read', () => {
    const text = clusterBlock({
      ...cluster,
      spec: { workerInstances: 4 },
      status: { observedAt: null, workerInstances: 0 },
      conditions: [],
    });
    expect(text).toMatch(/^Worker Nodes:\s+4$/m);
  });
});
