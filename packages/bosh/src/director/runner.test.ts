import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '@openpks/db';
import { createLogger } from '@openpks/role';
import { directorMigrations } from './migrations.js';
import { TaskRunner } from './runner.js';
import { TaskState } from '../protocol/types.js';
import { TaskStore } from './store/taskStore.js';
import { TaskType } from './tasks.js';

async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the task runner', () => {
  let db: Database | undefined;
  let runner: TaskRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    await db?.close();
  });

  async function startRunner(workers: number, handlerMs: number, leaseMs = 15_000) {
    db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db, { schema: 'director', migrations: directorMigrations });
    const store = new TaskStore(db);
    runner = new TaskRunner(
      db,
      store,
      {
        [TaskType.VMS]: {
          resumable: false,
          run: async () => {
            await new Promise((resolve) => setTimeout(resolve, handlerMs));
            return 'ok';
          },
        },
        // Steps until cancelled (or 10 s).
        [TaskType.RUN_ERRAND]: {
          resumable: false,
          run: async (context) => {
            for (let step = 0; step < 1000; step++) {
              await context.checkpoint();
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
            return 'not cancelled';
          },
        },
      },
      // A poll far beyond the test: every claim counted here was asked for by a notification.
      { workers, leaseMs, pollMs: 60_000, maxResumes: 3 },
      createLogger({ level: 'silent', pretty: false }),
    );
    await runner.start();
    return store;
  }

  it('wakes one idle worker per queued task instead of every idle worker', async () => {
    const workers = 20;
    const store = await startRunner(workers, 5);
    const tasks = 10;
    const ids: number[] = [];
    for (let i = 0; i < tasks; i++) {
      ids.push((await store.create({ type: TaskType.VMS, description: `task ${i}` })).id);
    }
    await until(async () => {
      const states = await Promise.all(ids.map((id) => store.state(id)));
      return states.every((state) => state === TaskState.DONE);
    });
    // Each task costs its claim, at most one look that finds nothing after it, and one look when it
    // ends. Woken all at once, the 20 idle workers claimed ~20 times per notification (hundreds here).
    // (A claim that sees no second runnable task does not look again at once: 2 per task, not 3.)
    expect(runner!.claims).toBeLessThanOrEqual(2 * tasks + 1);
  });

  it('stops a cancelled task at its next step: told by the notification, else by a lease renewal', async () => {
    // Renewals every 5 s: only the cancel's notification can stop the first task within the test's wait.
    const store = await startRunner(2, 0);
    const notified = await store.create({ type: TaskType.RUN_ERRAND, description: 'notified' });
    await until(async () => (await store.state(notified.id)) === TaskState.PROCESSING);
    await store.cancel(notified.id);
    await until(async () => (await store.state(notified.id)) === TaskState.CANCELLED, 3_000);
    await runner!.stop();
    await db!.close();

    // A cancel whose notification is lost (set here without one) is seen at the next renewal.
    const quiet = await startRunner(2, 0, 300);
    const task = await quiet.create({ type: TaskType.RUN_ERRAND, description: 'quiet' });
    await until(async () => (await quiet.state(task.id)) === TaskState.PROCESSING);
    await db!.query(`UPDATE director.tasks SET state = 'cancelling' WHERE id = $1`, [task.id]);
    await until(async () => (await quiet.state(task.id)) === TaskState.CANCELLED, 5_000);
  });

  it('runs no more tasks at once than it has workers, and runs them all', async () => {
    const store = await startRunner(2, 30);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await store.create({ type: TaskType.VMS, description: `task ${i}` })).id);
    }
    let peak = 0;
    await until(async () => {
      const states = await Promise.all(ids.map((id) => store.state(id)));
      peak = Math.max(peak, states.filter((state) => state === TaskState.PROCESSING).length);
      return states.every((state) => state === TaskState.DONE);
    });
    expect(peak).toBeLessThanOrEqual(2);
  });
});
