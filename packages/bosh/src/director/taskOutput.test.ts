import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '@openpks/db';
import { directorMigrations } from './migrations.js';
import { EventStore } from './store/eventStore.js';
import { TaskStore } from './store/taskStore.js';
import { testDatabaseBackends } from '@openpks/db/testing';
import { NOTICE_TEXT_LIMIT, OutputType, TASK_EVENTS_CHANNEL, TaskType, type TaskNotice } from './tasks.js';

describe('task output as rows', () => {
  let db: Database | undefined;
  afterEach(async () => db?.close());

  it('reads back every append in order, byte for byte, and only the new rows after a cursor', async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db, { schema: 'director', migrations: directorMigrations });
    const store = new TaskStore(db);
    const task = await store.create({ type: TaskType.VMS, description: 'output' });
    const lines = [
      '{"time":1,"stage":"Preparing deployment"}\n',
      '{"time":2,"ünïcode":"✓"}\n',
      'two\nlines\n',
    ];
    for (const line of lines) await store.append(task.id, OutputType.EVENT, line);
    await store.append(task.id, OutputType.DEBUG, 'debug line\n');

    expect(await store.output(task.id, OutputType.EVENT)).toBe(lines.join(''));
    expect(await store.output(task.id, OutputType.DEBUG)).toBe('debug line\n');
    expect(await store.output(task.id, OutputType.RESULT)).toBe('');

    const all = await store.outputSince(task.id, OutputType.EVENT, 0);
    expect(all.map((row) => row.text)).toEqual(lines);
    const after = await store.outputSince(task.id, OutputType.EVENT, all[0]!.id);
    expect(after.map((row) => row.text)).toEqual(lines.slice(1));
    expect(await store.outputSince(task.id, OutputType.EVENT, all[2]!.id)).toEqual([]);
  });

  it('keeps the output written before the migration, and appends after it', async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    // The schema as it was before 0003: every migration up to it (later ones sort after it).
    const before = directorMigrations.slice(
      0,
      directorMigrations.findIndex((m) => m.id === '0003_task_output_rows'),
    );
    await migrate(db, { schema: 'director', migrations: before });
    const event = '{"time":1,"stage":"Preparing deployment","state":"started"}\n';
    const debug = '2026-11-24T00:00:00.000Z task 1 started\n';
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO director.tasks (type, state, description, event_output, debug_output)
       VALUES ('vms', 'done', 'old task', $1, $2) RETURNING id`,
      [event, debug],
    );
    const id = rows[0]!.id;

    await migrate(db, { schema: 'director', migrations: directorMigrations });
    const store = new TaskStore(db);
    expect(await store.output(id, OutputType.EVENT)).toBe(event);
    expect(await store.output(id, OutputType.DEBUG)).toBe(debug);
    expect(await store.output(id, OutputType.RESULT)).toBe('');
    await store.append(id, OutputType.EVENT, '{"time":2}\n');
    expect(await store.output(id, OutputType.EVENT)).toBe(`${event}{"time":2}\n`);
  });
});

describe.each(testDatabaseBackends())('output notifications on $name', (backend) => {
  let db: Database | undefined;
  afterEach(async () => db?.close());

  it("carry the row's id, the row the writer wrote before, and the text unless it is too long", async () => {
    db = await backend.open();
    await migrate(db, { schema: 'director', migrations: directorMigrations });
    const store = new TaskStore(db);
    const task = await store.create({ type: TaskType.VMS, description: 'notices' });
    const heard: TaskNotice[] = [];
    const unlisten = await db.listen(TASK_EVENTS_CHANNEL, (payload) => {
      const notice = JSON.parse(payload) as TaskNotice;
      if (notice.id === task.id && notice.kind !== 'state') heard.push(notice);
    });
    try {
      const first = await store.append(task.id, OutputType.EVENT, '{"n":"✓"}\n');
      const second = await store.append(task.id, OutputType.EVENT, 'x\n', first);
      const long = `${'"'.repeat(NOTICE_TEXT_LIMIT)}\n`;
      const third = await store.append(task.id, OutputType.EVENT, long, second);
      expect(second).toBeGreaterThan(first);
      expect(third).toBeGreaterThan(second);
      for (let i = 0; i < 100 && heard.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual([
        { id: task.id, kind: 'event', row: first, after: null, text: '{"n":"✓"}\n' },
        { id: task.id, kind: 'event', row: second, after: first, text: 'x\n' },
        { id: task.id, kind: 'event', row: third, after: second, text: null },
      ]);
      expect(await store.output(task.id, OutputType.EVENT)).toBe(`{"n":"✓"}\nx\n${long}`);
    } finally {
      await unlisten();
    }
  });

  it('writes a batch of output and events in one statement, events in the order given', async () => {
    db = await backend.open();
    await migrate(db, { schema: 'director', migrations: directorMigrations });
    const store = new TaskStore(db);
    const events = new EventStore(db);
    const task = await store.create({ type: TaskType.VMS, description: 'batch' });
    const at = new Date('2026-12-01T10:00:00Z');
    const names = ['one', 'two', 'three', 'four', 'five'];
    const written = await store.writeBatch(
      task.id,
      [
        { type: OutputType.EVENT, text: 'e1\ne2\n', after: null },
        { type: OutputType.CPI, text: 'c\n', after: null },
      ],
      names.map((name, i) => ({
        event: {
          user: 'admin',
          action: 'create',
          objectType: 'vm',
          objectName: name,
          task: task.id,
          ...(i > 0 && i < 3 ? { parentId: 7 } : {}),
          ...(i > 0 ? { error: i === 4 ? 'boom' : null, context: { i } } : {}),
        },
        at: new Date(at.getTime() + i * 1000),
        // The last two name events of the same batch as their parents.
        ...(i >= 3 ? { parentIndex: i - 3 } : {}),
      })),
    );
    expect(written.events).toEqual([...written.events].sort((a, b) => a - b));
    const listed = (await events.list({ task: String(task.id) })).reverse();
    expect(
      listed.map((e) => [Number(e.id), e.object_name, e.timestamp, e.parent_id ?? null, e.error]),
    ).toEqual(
      names.map((name, i) => [
        written.events[i],
        name,
        at.getTime() / 1000 + i,
        i >= 3 ? String(written.events[i - 3]) : i > 0 ? '7' : null,
        i === 4 ? 'boom' : null,
      ]),
    );
    expect(listed.map((e) => e.context)).toEqual([{}, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    expect(listed.every((e) => e.user === 'admin' && e.task === String(task.id))).toBe(true);
    expect(await store.output(task.id, OutputType.EVENT)).toBe('e1\ne2\n');
    expect(await store.output(task.id, OutputType.CPI)).toBe('c\n');
    expect((await store.outputSince(task.id, OutputType.CPI, 0)).map((r) => r.id)).toEqual([
      written.rows.get(OutputType.CPI),
    ]);
  });
});
