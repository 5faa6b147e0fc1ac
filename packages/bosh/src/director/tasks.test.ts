import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { DirectorClient } from '../client/directorClient.js';
import type { DirectorTask, TaskEvent } from '../protocol/types.js';
import { kuboManifest, startTestDirector, type TestDirector } from '../testing/index.js';

let uaa: TestUaa;
beforeAll(async () => {
  uaa = await startTestUaa();
});
afterAll(async () => {
  await uaa?.stop();
});

function raw(
  url: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function directorToken(): Promise<string> {
  return (await uaa.tokenFor({ clientId: 'pks_director', clientSecret: uaa.directorClientSecret }))
    .access_token;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the event log', () => {
  let bosh: TestDirector;
  beforeAll(async () => {
    bosh = await startTestDirector({ uaa, ipRange: '127.1.30.0/24' });
  });
  afterAll(async () => bosh?.stop());

  it("writes BOSH's JSON lines and serves them with Range (206, then 416 at the end)", async () => {
    const task = await bosh.client.deploy(kuboManifest({ name: 'log-a', workers: 2 }));
    await bosh.client.waitForTask(task.id);
    const token = await directorToken();
    const url = `${bosh.url}/tasks/${task.id}/output?type=event`;
    const whole = await raw(url, bosh.caPem, { Authorization: `Bearer ${token}` });
    expect(whole.status).toBe(200);
    const lines = whole.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TaskEvent);
    const stageEvents = lines.filter((e) => e.stage !== undefined);
    for (const event of stageEvents) {
      expect(Object.keys(event).sort()).toEqual(
        expect.arrayContaining(['time', 'stage', 'tags', 'total', 'task', 'index', 'state', 'progress']),
      );
      expect(typeof event.time).toBe('number');
    }
    expect(stageEvents[0]).toMatchObject({
      stage: 'Preparing deployment',
      task: 'Preparing deployment',
      state: 'started',
      total: 1,
      index: 1,
      progress: 0,
    });
    const updates = stageEvents.filter((e) => e.stage === 'Updating instance' && e.tags?.[0] === 'worker');
    expect(updates.every((e) => e.total === 2)).toBe(true);
    expect(updates[0]!.task).toMatch(/^worker\/[0-9a-f-]{36} \(0\) \(canary\)$/);

    const size = Buffer.byteLength(whole.body);
    const middle = await raw(url, bosh.caPem, { Authorization: `Bearer ${token}`, Range: 'bytes=10-' });
    expect(middle.status).toBe(206);
    expect(middle.headers['content-range']).toBe(`bytes 10-${size - 1}/${size}`);
    expect(middle.body).toBe(Buffer.from(whole.body).subarray(10).toString('utf8'));
    const end = await raw(url, bosh.caPem, { Authorization: `Bearer ${token}`, Range: `bytes=${size}-` });
    expect(end.status).toBe(416);

    // The client's tailing keeps partial lines for the next read.
    const first = await bosh.client.eventsFrom(task.id, 0);
    expect(first.events).toHaveLength(lines.length);
    expect(first.offset).toBe(size);
    expect((await bosh.client.eventsFrom(task.id, first.offset)).events).toEqual([]);

    const result = await raw(`${bosh.url}/tasks/${task.id}/output?type=debug`, bosh.caPem, {
      Authorization: `Bearer ${token}`,
    });
    expect(result.body).toMatch(/created VM sim-vm-/);
  });

  it('follows tasks by polling when the push stream is not used, with the same events', async () => {
    const polling = new DirectorClient({
      url: bosh.url,
      ca: bosh.caPem,
      client: { id: 'pks_director', secret: uaa.directorClientSecret },
      useEventStream: false,
      poll: { initialMs: 20, maxMs: 200 },
    });
    try {
      const task = await polling.deploy(kuboManifest({ name: 'log-b', workers: 1 }));
      const polled: TaskEvent[] = [];
      await polling.waitForTask(task.id, { onEvent: (e) => polled.push(e) });
      const streamed: TaskEvent[] = [];
      await bosh.client.followTask(task.id, { onEvent: (e) => streamed.push(e) });
      expect(polled).toEqual(streamed);
      expect(polled.length).toBeGreaterThan(4);
      expect((await polling.info()).features.openpks_task_event_stream?.status).toBe(true);
    } finally {
      polling.close();
    }
  });
});

describe('task scheduling', () => {
  let bosh: TestDirector;
  beforeAll(async () => {
    bosh = await startTestDirector({
      uaa,
      ipRange: '127.1.31.0/24',
      workers: 5,
      sim: { latencyMs: { create_vm: 150 } },
    });
  });
  afterAll(async () => bosh?.stop());

  it('runs two deployments in parallel while two changes to one deployment serialise', async () => {
    const { client } = bosh;
    const a = await client.deploy(kuboManifest({ name: 'par-a', workers: 2 }));
    const b = await client.deploy(kuboManifest({ name: 'par-b', workers: 2 }));
    const c1 = await client.deploy(kuboManifest({ name: 'ser-c', workers: 2 }));
    const c2 = await client.deploy(kuboManifest({ name: 'ser-c', workers: 3 }));
    const snapshots: Map<number, DirectorTask['state']>[] = [];
    const ids = [a.id, b.id, c1.id, c2.id];
    await until(async () => {
      const tasks = await client.tasks({ limit: 10 });
      const states = new Map(tasks.filter((t) => ids.includes(t.id)).map((t) => [t.id, t.state]));
      snapshots.push(states);
      return [...states.values()].every((s) => s === 'done') ? true : undefined;
    }, 30_000);
    expect(snapshots.some((s) => s.get(a.id) === 'processing' && s.get(b.id) === 'processing')).toBe(true);
    expect(snapshots.some((s) => s.get(c1.id) === 'processing' && s.get(c2.id) === 'queued')).toBe(true);
    expect(snapshots.some((s) => s.get(c1.id) === 'processing' && s.get(c2.id) === 'processing')).toBe(false);
    expect((await client.instances('ser-c')).filter((i) => i.job === 'worker')).toHaveLength(3);
    expect((await client.deployments()).map((d) => d.name)).toEqual(['par-a', 'par-b', 'ser-c']);
  });

  it('updates canaries first, then at most max_in_flight at once', async () => {
    const { client } = bosh;
    const deploy = async (options: Parameters<typeof client.deploy>[1] = {}) => {
      const task = await client.deploy(
        kuboManifest({ name: 'canary', workers: 5, canaries: 1, maxInFlight: '40%' }),
        options,
      );
      const events: TaskEvent[] = [];
      await client.waitForTask(task.id, { onEvent: (e) => events.push(e) });
      return events.filter((e) => e.stage === 'Updating instance' && e.tags?.[0] === 'worker');
    };
    await deploy();
    const events = await deploy({ recreate: true });
    let running = 0;
    let most = 0;
    const order: string[] = [];
    for (const event of events) {
      if (event.state === 'started') {
        running += 1;
        order.push(event.task!);
      } else running -= 1;
      most = Math.max(most, running);
    }
    expect(order[0]).toMatch(/\(canary\)$/);
    expect(events[1]).toMatchObject({ state: 'finished', task: order[0] });
    expect(order.filter((t) => t.endsWith('(canary)'))).toHaveLength(1);
    expect(most).toBe(2);
  });
});
