import { describe, expect, it } from 'vitest';
import { EventLog, OutputWriter } from './eventLog.js';

/** A sink that records each write and completes them when told. */
function slowSink() {
  const writes: string[] = [];
  const pending: (() => void)[] = [];
  const fail: ((error: Error) => void)[] = [];
  const sink = (text: string) =>
    new Promise<void>((resolve, reject) => {
      writes.push(text);
      pending.push(resolve);
      fail.push(reject);
    });
  const settle = async (error?: Error) => {
    const i = pending.length - 1;
    if (error) fail[i]!(error);
    else pending[i]!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { writes, sink, settle };
}

describe('task output writers', () => {
  it('coalesces pieces written while a write is in flight, in order, byte for byte', async () => {
    const { writes, sink, settle } = slowSink();
    const writer = new OutputWriter(sink, true);
    const first = writer.write('a\n');
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [writer.write('b\n'), writer.write('c\n'), writer.write('ü✓\n')];
    expect(writes).toEqual(['a\n']);
    await settle();
    await first;
    // The three pieces that waited go out together, as one write.
    expect(writes).toEqual(['a\n', 'b\nc\nü✓\n']);
    await settle();
    await Promise.all(rest);
    await writer.flush();
    expect(writes.join('')).toBe('a\nb\nc\nü✓\n');
  });

  it('writes nothing after a failed write when poisoned (the event log), and carries on otherwise', async () => {
    const poisoned = slowSink();
    const events = new OutputWriter(poisoned.sink, true);
    const a = events.write('a\n');
    await new Promise((resolve) => setImmediate(resolve));
    const b = events.write('b\n');
    const failed = [expect(a).rejects.toThrow('down'), expect(b).rejects.toThrow('down')];
    await poisoned.settle(new Error('down'));
    await Promise.all(failed);
    await expect(events.write('c\n')).rejects.toThrow('down');
    expect(poisoned.writes).toEqual(['a\n']);

    const lenient = slowSink();
    const debug = new OutputWriter(lenient.sink, false);
    const x = debug.write('x\n');
    await new Promise((resolve) => setImmediate(resolve));
    const y = debug.write('y\n');
    const failedX = expect(x).rejects.toThrow('down');
    await lenient.settle(new Error('down'));
    await failedX;
    await lenient.settle();
    await y;
    expect(lenient.writes).toEqual(['x\n', 'y\n']);
  });

  it('keeps the event log one JSON line per event when its lines share writes', async () => {
    const writes: string[] = [];
    const log = new EventLog(async (text) => {
      writes.push(text);
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const stage = log.stage('Creating missing vms', 3);
    await Promise.all(['a', 'b', 'c'].map((name) => stage.track(name, async () => undefined)));
    await log.flush();
    expect(writes.length).toBeLessThan(6);
    const lines = writes
      .join('')
      .split('\n')
      .filter((line) => line !== '');
    const events = lines.map((line) => JSON.parse(line) as { task: string; state: string; index: number });
    expect(events.map((e) => `${e.task}:${e.state}`)).toEqual([
      'a:started',
      'b:started',
      'c:started',
      'a:finished',
      'b:finished',
      'c:finished',
    ]);
  });
});
