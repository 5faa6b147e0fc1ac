import { describe, expect, it } from 'vitest';
import { EventLog } from './eventLog.js';

describe('the event log', () => {
  it("keeps one JSON line per event, in order, and does not hold a stage's steps on its lines", async () => {
    const writes: { text: string; urgent: boolean }[] = [];
    let flushes = 0;
    const log = new EventLog(
      async (text, urgent) => {
        writes.push({ text, urgent });
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      async () => {
        flushes += 1;
      },
    );
    const stage = log.stage('Creating missing vms', 3);
    await Promise.all(['a', 'b', 'c'].map((name) => stage.track(name, async () => undefined)));
    await expect(stage.track('d', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await log.warning('careful');
    await log.flush();
    expect(flushes).toBe(1);
    // Stage lines are not waited for; a warning is.
    expect(writes.map((w) => w.urgent)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    const events = writes.map(
      (w) => JSON.parse(w.text) as { task?: string; state?: string; index?: number; message?: string },
    );
    expect(events.map((e) => e.message ?? `${e.task}:${e.state}`)).toEqual([
      'a:started',
      'b:started',
      'c:started',
      'a:finished',
      'b:finished',
      'c:finished',
      'd:started',
      'd:failed',
      'careful',
    ]);
    expect(writes.every((w) => w.text.endsWith('\n') && w.text.indexOf('\n') === w.text.length - 1)).toBe(
      true,
    );
  });
});
