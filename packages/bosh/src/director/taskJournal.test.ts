import { describe, expect, it } from 'vitest';
import type { DirectorEventInput } from './store/eventStore.js';
import { TaskJournal } from './taskJournal.js';
import { OutputType } from './tasks.js';

type Outputs = { type: OutputType; text: string; after: number | null }[];

/** A store whose statements are recorded and complete when told (or fail). */
function slowStore() {
  const statements: { outputs: Outputs; events: string[]; parents: (string | number | null)[] }[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let nextRow = 100;
  let nextEvent = 1;
  const store = {
    writeBatch: (
      _id: number,
      outputs: Outputs,
      events: readonly { event: DirectorEventInput; at: Date; parentIndex?: number | undefined }[],
    ): Promise<{ rows: Map<OutputType, number>; events: number[] }> =>
      new Promise((resolve, reject) => {
        statements.push({
          outputs: [...outputs],
          events: events.map((e) => e.event.action),
          parents: events.map((e) =>
            e.parentIndex !== undefined ? `#${e.parentIndex}` : (e.event.parentId ?? null),
          ),
        });
        pending.push({
          resolve: () =>
            resolve({
              rows: new Map(outputs.map((o) => [o.type, nextRow++])),
              events: events.map(() => nextEvent++),
            }),
          reject,
        });
      }),
  };
  const settle = async (error?: Error) => {
    const next = pending.shift()!;
    if (error) next.reject(error);
    else next.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { store, statements, settle };
}

const event = (action: string): DirectorEventInput => ({ user: null, action, objectType: 'vm' });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('a task journal', () => {
  it('sends what nobody waits for with the next urgent write, in one statement, in order', async () => {
    const { store, statements, settle } = slowStore();
    const journal = new TaskJournal(store, 1, 60_000);
    const lines = [journal.output(OutputType.EVENT, 'a\n'), journal.output(OutputType.CPI, 'cpi\n')];
    const ended = journal.event(event('end'), false);
    await turn();
    expect(statements).toEqual([]);
    const started = journal.event(event('start'));
    journal.output(OutputType.EVENT, 'b\n').catch(() => undefined);
    await turn();
    expect(statements).toEqual([
      {
        outputs: [
          { type: OutputType.EVENT, text: 'a\nb\n', after: null },
          { type: OutputType.CPI, text: 'cpi\n', after: null },
        ],
        events: ['end', 'start'],
        parents: [null, null],
      },
    ]);
    await settle();
    await Promise.all(lines);
    expect([await ended, await started]).toEqual([1, 2]);
    // The next event row names the row before it; a debug line its caller waits for goes out at once.
    journal.output(OutputType.EVENT, 'c\n').catch(() => undefined);
    const debug = journal.output(OutputType.DEBUG, 'debug\n', true);
    await turn();
    expect(statements[1]!.outputs).toEqual([
      { type: OutputType.EVENT, text: 'c\n', after: 100 },
      { type: OutputType.DEBUG, text: 'debug\n', after: null },
    ]);
    await settle();
    await debug;
  });

  it('writes what comes during a statement after it, and what nobody waits for within the window', async () => {
    const { store, statements, settle } = slowStore();
    const journal = new TaskJournal(store, 1, 30);
    const first = journal.output(OutputType.DEBUG, '1\n', true);
    await turn();
    const second = journal.output(OutputType.DEBUG, '2\n');
    const third = journal.output(OutputType.DEBUG, '3\n');
    await settle();
    await first;
    expect(statements).toHaveLength(1);
    // Nobody waits for 2 and 3: they go when the window closes.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(statements.map((s) => s.outputs.map((o) => o.text))).toEqual([['1\n'], ['2\n3\n']]);
    await settle();
    await Promise.all([second, third]);
    await journal.flush();
  });

  it('writes no event line after one that was lost, and says so at the flush; other output carries on', async () => {
    const { store, statements, settle } = slowStore();
    const journal = new TaskJournal(store, 1, 60_000);
    const a = journal.output(OutputType.EVENT, 'a\n', true);
    await turn();
    const b = journal.output(OutputType.EVENT, 'b\n');
    const debug = journal.output(OutputType.DEBUG, 'debug\n', true);
    const failed = [expect(a).rejects.toThrow('down'), expect(b).rejects.toThrow('down')];
    await settle(new Error('down'));
    await turn();
    // b was queued before the failure was known: it is dropped from the next statement; debug goes.
    expect(statements[1]!.outputs).toEqual([{ type: OutputType.DEBUG, text: 'debug\n', after: null }]);
    await settle();
    await debug;
    await Promise.all(failed);
    await expect(journal.output(OutputType.EVENT, 'c\n', true)).rejects.toThrow('down');
    await expect(journal.flush()).rejects.toThrow('down');
    expect(statements).toHaveLength(2);
  });

  it('flushes everything pending, including what arrives while it flushes', async () => {
    const { store, statements, settle } = slowStore();
    const journal = new TaskJournal(store, 1, 60_000);
    journal.output(OutputType.CPI, 'x\n').catch(() => undefined);
    const flushed = journal.flush();
    await turn();
    journal.event(event('end'), false).catch(() => undefined);
    await settle();
    await settle();
    await flushed;
    expect(statements.map((s) => [s.outputs.length, s.events])).toEqual([
      [1, []],
      [0, ['end']],
    ]);
  });

  it('names a parent whose id is not known yet by its place in the batch, or by its id once written', async () => {
    const { store, statements, settle } = slowStore();
    const journal = new TaskJournal(store, 1, 60_000);
    const start = journal.event(event('start'), false);
    journal.event(event('inner'), false).catch(() => undefined);
    const end = journal.event(event('end'), false, start);
    const flushed = journal.flush();
    await turn();
    expect(statements[0]!.parents).toEqual([null, null, '#0']);
    await settle();
    await flushed;
    expect([await start, await end]).toEqual([1, 3]);
    // Written before: its id.
    journal.event(event('again'), true, start).catch(() => undefined);
    await turn();
    expect(statements[1]!.parents).toEqual([1]);
    await settle();
    // Lost with a failed statement: the end is recorded without a parent.
    const lost = journal.event(event('lost'));
    await turn();
    const lostFailed = expect(lost).rejects.toThrow('down');
    await settle(new Error('down'));
    await lostFailed;
    journal.event(event('orphan'), true, lost).catch(() => undefined);
    await turn();
    expect(statements[3]!.parents).toEqual([null]);
    await settle();
  });
});
