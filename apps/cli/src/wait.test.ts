import { describe, expect, it } from 'vitest';
import type { ApiClient, Subscription } from './client.js';
import type { Io } from './io.js';
import type { ClusterEventView, ClusterView } from './operations.js';
import { waitForCluster } from './wait.js';

// The order of a wait against a scripted API: what the CLI asked when, and what it then printed.

const cluster = (lastActionState: string): ClusterView => ({
  name: 'c1',
  uuid: '00000000-0000-4000-8000-000000000001',
  planName: 'small',
  owner: 'alice',
  lastAction: 'CREATE',
  lastActionState,
  lastActionDescription:
    lastActionState === 'succeeded' ? 'Instance provisioning completed' : 'Creating cluster',
  kubernetesMasterHost: 'c1.example.test',
  kubernetesMasterPort: 8443,
  kubernetesMasterIps: [],
  workerInstances: 1,
  k8sVersion: '1.15.5',
  pksVersion: '1.6.0-openpks',
  networkProfileName: null,
});

const stateEvent = (lastActionState: string): { clusterEvents: ClusterEventView } => ({
  clusterEvents: {
    kind: 'STATE',
    lastAction: 'CREATE',
    lastActionState,
    description: lastActionState === 'in progress' ? 'Creating cluster' : lastActionState,
    stage: null,
    task: null,
    progress: null,
    index: null,
    total: null,
    at: new Date().toISOString(),
  },
});

/**
 * A client whose subscription is acknowledged when `connect()` is called, and whose reads answer from
 * `states` in turn (the last one repeating); `log` records subscribe, ready and read in order.
 */
function scripted(states: string[], events: { clusterEvents: ClusterEventView }[]) {
  const log: string[] = [];
  let connect!: () => void;
  const ready = new Promise<void>((resolve) => (connect = resolve));
  let reads = 0;
  let closed = false;
  const client = {
    run: async () => {
      log.push('read');
      const state = states[Math.min(reads, states.length - 1)]!;
      reads += 1;
      return { cluster: cluster(state) };
    },
    watch: (): Subscription<{ clusterEvents: ClusterEventView }> => {
      log.push('subscribe');
      return {
        ready: ready.then(() => void log.push('ready')),
        events: (async function* () {
          for (const e of events) yield e;
          // Then silence, as a stream with nothing more to say; only close() ends it.
          while (!closed) await new Promise((r) => setTimeout(r, 10));
        })(),
        close: async () => {
          closed = true;
        },
      };
    },
  } as unknown as ApiClient;
  return { client, log, connect };
}

function io(): Io & { errors: string[]; hints: string[] } {
  const errors: string[] = [];
  const hints: string[] = [];
  return {
    env: {},
    out: () => {},
    err: (s) => void errors.push(s),
    stdoutIsTty: false,
    stderrIsTty: false,
    ask: async () => undefined,
    onInterrupt: (hint) => {
      hints.push(hint);
      return () => void hints.splice(hints.indexOf(hint), 1);
    },
    errors,
    hints,
  };
}

describe('waitForCluster', () => {
  it('subscribes, waits for the subscription to be acknowledged, and only then reads the state', async () => {
    const api = scripted(['succeeded'], []);
    const waiting = waitForCluster(api.client, io(), 'c1');
    await new Promise((r) => setTimeout(r, 50));
    // Nothing is read before the API has the subscription: an end in between would be missed.
    expect(api.log).toEqual(['subscribe']);
    api.connect();
    expect((await waiting)?.lastActionState).toBe('succeeded');
    expect(api.log).toEqual(['subscribe', 'ready', 'read']);
  });

  it('shows the outcome of an action that had ended before the first read', async () => {
    const api = scripted(['succeeded'], []);
    api.connect();
    const out = io();
    expect((await waitForCluster(api.client, out, 'c1'))?.lastActionState).toBe('succeeded');
    expect(out.errors.join('')).toMatch(/CREATE succeeded: Instance provisioning completed\n$/);
  });

  it('ends on an end event that arrived before the first read answered', async () => {
    // Read: still in progress; the end was already on the stream, buffered, when the read came back.
    const api = scripted(['in progress', 'succeeded'], [stateEvent('succeeded')]);
    api.connect();
    const out = io();
    const started = Date.now();
    const done = await waitForCluster(api.client, out, 'c1');
    expect(done?.lastActionState).toBe('succeeded');
    // Well before the 2 s safety poll could have ended it.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(out.errors.join('')).toMatch(/CREATE in progress: Creating cluster\n.*CREATE succeeded/s);
  });

  it('prints a state once when the first read and the first event both say it', async () => {
    const api = scripted(['in progress', 'succeeded'], [stateEvent('in progress'), stateEvent('succeeded')]);
    api.connect();
    const out = io();
    await waitForCluster(api.client, out, 'c1');
    const lines = out.errors.join('').trim().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'CREATE in progress: Creating cluster',
      'CREATE succeeded: succeeded',
    ]);
  });

  it('reads again until the record agrees with an end event that outran it', async () => {
    const api = scripted(
      ['in progress', 'in progress', 'in progress', 'succeeded'],
      [stateEvent('succeeded')],
    );
    api.connect();
    expect((await waitForCluster(api.client, io(), 'c1'))?.lastActionState).toBe('succeeded');
    expect(api.log.filter((l) => l === 'read')).toHaveLength(4);
  });

  it('fails with the reason when the operation fails', async () => {
    const api = scripted(['in progress', 'failed'], [stateEvent('failed')]);
    api.connect();
    await expect(waitForCluster(api.client, io(), 'c1')).rejects.toThrow(
      'CREATE of cluster c1 failed: Creating cluster',
    );
  });

  it('says how to keep watching on Ctrl-C only while it waits', async () => {
    const api = scripted(['in progress', 'succeeded'], []);
    const out = io();
    const waiting = waitForCluster(api.client, out, 'c1');
    expect(out.hints).toEqual([
      "Detached; the operation continues. Use 'pks cluster c1' to monitor the state of your cluster",
    ]);
    api.connect();
    // No event comes: the safety poll finds the end.
    expect((await waiting)?.lastActionState).toBe('succeeded');
    expect(out.hints).toEqual([]);
  }, 10_000);
});
