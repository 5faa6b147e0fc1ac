import { describe, expect, it } from 'vitest';
import type { ConsoleClusterFragment } from '../gql/graphql';
import { applyFleetMessage, EMPTY_FLEET, progressOf, type FleetMessage, type FleetState } from './fleet';

const cluster = (name: string, change: Partial<ConsoleClusterFragment> = {}): ConsoleClusterFragment => ({
  uuid: `uuid-${name}`,
  name,
  planName: 'small',
  owner: 'admin',
  lastAction: 'CREATE',
  lastActionState: 'in progress',
  lastActionDescription: 'Creating cluster',
  kubernetesMasterHost: `${name}.example.test`,
  kubernetesMasterPort: 8443,
  kubernetesMasterIps: [],
  workerInstances: 1,
  k8sVersion: null,
  pksVersion: '1.6.0',
  networkProfileName: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...change,
});

let n = 0;
const message = (type: FleetMessage['type'], rest: Partial<FleetMessage> = {}): FleetMessage => ({
  type,
  cursor: `c${++n}`,
  clusterName: rest.cluster?.name ?? null,
  clusterUuid: rest.cluster?.uuid ?? null,
  cluster: null,
  event: null,
  task: null,
  ...rest,
});

const fold = (messages: FleetMessage[], from: FleetState = EMPTY_FLEET) =>
  messages.reduce(applyFleetMessage, from);

describe('applyFleetMessage', () => {
  it('lists, updates and removes clusters, and remembers the last cursor', () => {
    const a = cluster('a');
    const state = fold([
      message('ADDED', { cluster: a }),
      message('ADDED', { cluster: cluster('b') }),
      message('SYNCED'),
      message('MODIFIED', { cluster: { ...a, lastActionState: 'succeeded' } }),
      message('DELETED', { clusterName: 'b', clusterUuid: 'uuid-b' }),
    ]);
    expect([...state.clusters.values()].map((c) => [c.name, c.lastActionState])).toEqual([
      ['a', 'succeeded'],
    ]);
    expect(state.synced).toBe(true);
    expect(state.cursor).toBe(`c${n}`);
  });

  it('drops everything on RESYNC: only the list that follows counts', () => {
    const before = fold([message('ADDED', { cluster: cluster('gone') }), message('SYNCED')]);
    const after = fold([message('RESYNC'), message('ADDED', { cluster: cluster('kept') })], before);
    expect([...after.clusters.keys()]).toEqual(['uuid-kept']);
    expect(after.synced).toBe(false);
    expect(after.cursor).toBe(`c${n}`);
  });

  it('keeps the latest progress of a running operation and each upgrade run as last sent', () => {
    const a = cluster('a');
    const event = {
      at: '2026-01-01T00:00:01.000Z',
      clusterName: 'a',
      clusterUuid: a.uuid,
      kind: 'PROGRESS' as const,
      lastAction: 'CREATE',
      lastActionState: 'in progress',
      description: 'Creating VMs',
      stage: 'Creating missing vms',
      task: null,
      index: 1,
      total: 2,
      progress: 40,
    };
    const task = {
      id: 't1',
      type: 'upgrade',
      status: 'in progress',
      maxInFlight: 1,
      createdAt: '',
      finishedAt: null,
      clusters: [],
    };
    const state = fold([message('MODIFIED', { cluster: a, event }), message('TASK', { task })]);
    expect(progressOf(state.clusters.get(a.uuid)!, state.latest.get(a.uuid))).toEqual({
      percent: 40,
      stage: 'Creating missing vms',
    });
    expect(progressOf({ ...a, lastActionState: 'succeeded' }, event)).toBeUndefined();
    expect(state.tasks.get('t1')?.status).toBe('in progress');
  });
});
