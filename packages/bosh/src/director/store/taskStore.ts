import type { Database } from '@openpks/db';
import type { DirectorEventInput } from './eventStore.js';
import { TaskState } from '../../protocol/types.js';
import {
  NOTICE_TEXT_LIMIT,
  TASK_EVENTS_CHANNEL,
  taskNotFound,
  taskNotice,
  type OutputType,
  type TaskRow,
  type TaskSummary,
  type TaskType,
} from '../tasks.js';

const COLUMNS =
  'id, type, state, description, deployment, context_id, username, params, checkpoint, result, holder, created_at, started_at, finished_at';

/**
 * What the API shows of a task (`taskJson`): not its params (a deploy's whole manifest), checkpoint or
 * holder, which only the runner needs. API reads (polls of `GET /tasks/:id`, task lists, the event
 * stream's last event) select only these.
 */
const JSON_COLUMNS =
  'id, state, description, deployment, context_id, username, result, created_at, started_at, finished_at';

/**
 * Durable tasks: rows in `director.tasks`; their output is rows in `director.task_output`, read back
 * concatenated in write order so Range reads are byte-exact.
 */
export class TaskStore {
  constructor(private readonly db: Database) {}

  async create(input: {
    type: TaskType;
    description: string;
    deployment?: string | undefined;
    contextId?: string | undefined;
    username?: string | undefined;
    params?: Record<string, unknown>;
  }): Promise<TaskRow> {
    // The row and its `queued` notification (taskNotice's JSON, built from the new id) in one statement,
    // as `append` and `finish` do: the notification goes out when the row is committed.
    const { rows } = await this.db.query<TaskRow & { notified: unknown }>(
      `WITH created AS (
         INSERT INTO director.tasks (type, state, description, deployment, context_id, username, params)
         VALUES ($1, 'queued', $2, $3, $4, $5, $6) RETURNING ${COLUMNS})
       SELECT created.*, pg_notify($7, json_build_object('id', created.id, 'kind', 'state', 'state', 'queued')::text) AS notified
       FROM created`,
      [
        input.type,
        input.description,
        input.deployment ?? null,
        input.contextId ?? null,
        input.username ?? null,
        JSON.stringify(input.params ?? {}),
        TASK_EVENTS_CHANNEL,
      ],
    );
    const { notified: _notified, ...task } = rows[0]!;
    return task;
  }

  async get(id: number): Promise<TaskRow> {
    const { rows } = await this.db.query<TaskRow>(`SELECT ${COLUMNS} FROM director.tasks WHERE id = $1`, [
      id,
    ]);
    if (rows[0] === undefined) throw taskNotFound(id);
    return rows[0];
  }

  /** The task as the API shows it (`get` without the columns only the runner needs). */
  async summary(id: number): Promise<TaskSummary> {
    const { rows } = await this.db.query<TaskSummary>(
      `SELECT ${JSON_COLUMNS} FROM director.tasks WHERE id = $1`,
      [id],
    );
    if (rows[0] === undefined) throw taskNotFound(id);
    return rows[0];
  }

  async list(filter: {
    states?: string[];
    deployment?: string;
    contextId?: string;
    /** At most this many, newest first (default 100); null for all of them. */
    limit?: number | null;
    types?: readonly string[];
  }): Promise<TaskSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states && filter.states.length > 0) {
      params.push(filter.states);
      where.push(`state = ANY($${params.length}::text[])`);
    }
    if (filter.deployment !== undefined) {
      params.push(filter.deployment);
      where.push(`deployment = $${params.length}`);
    }
    if (filter.contextId !== undefined) {
      params.push(filter.contextId);
      where.push(`context_id = $${params.length}`);
    }
    if (filter.types !== undefined) {
      params.push(filter.types);
      where.push(`type = ANY($${params.length}::text[])`);
    }
    let limit = '';
    if (filter.limit !== null) {
      params.push(Math.max(filter.limit ?? 100, 1));
      limit = `LIMIT $${params.length}`;
    }
    const { rows } = await this.db.query<TaskSummary>(
      `SELECT ${JSON_COLUMNS} FROM director.tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC ${limit}`,
      params,
    );
    return rows;
  }

  /** The whole output of one type (event, result, debug): its rows' text in the order they were written. */
  async output(id: number, type: OutputType): Promise<string> {
    const { rows } = await this.db.query<{ text: string }>(
      `SELECT COALESCE((SELECT string_agg(o.text, '' ORDER BY o.id) FROM director.task_output o
                        WHERE o.task_id = t.id AND o.type = $2), '') AS text
       FROM director.tasks t WHERE t.id = $1`,
      [id, type],
    );
    if (rows[0] === undefined) throw taskNotFound(id);
    return rows[0].text;
  }

  /**
   * The output rows of one type written after row `after` (0: from the start), in order: a reader that
   * keeps the last row id reads each row once, however long the output grows.
   */
  async outputSince(id: number, type: OutputType, after: number): Promise<{ id: number; text: string }[]> {
    const { rows } = await this.db.query<{ id: string | number; text: string }>(
      `SELECT id, text FROM director.task_output WHERE task_id = $1 AND type = $2 AND id > $3 ORDER BY id`,
      [id, type, after],
    );
    // bigserial comes back as a string from node-postgres; row ids stay far below 2^53.
    return rows.map((row) => ({ id: Number(row.id), text: row.text }));
  }

  /**
   * `outputSince` and the task's state in one statement (an event stream's look per wakeup). One snapshot
   * serves both: when it shows the task ended, it also holds every row written before the end. Undefined
   * when the task does not exist.
   */
  async outputSinceWithState(
    id: number,
    type: OutputType,
    after: number,
  ): Promise<{ state: TaskState; rows: { id: number; text: string }[] } | undefined> {
    const { rows } = await this.db.query<{
      state: TaskState;
      id: string | number | null;
      text: string | null;
    }>(
      `SELECT t.state, o.id, o.text FROM director.tasks t
       LEFT JOIN director.task_output o ON o.task_id = t.id AND o.type = $2 AND o.id > $3
       WHERE t.id = $1 ORDER BY o.id`,
      [id, type, after],
    );
    if (rows[0] === undefined) return undefined;
    return {
      state: rows[0].state,
      // No output rows: the one row of the left join has id null.
      rows: rows.flatMap((row) => (row.id === null ? [] : [{ id: Number(row.id), text: row.text ?? '' }])),
    };
  }

  /**
   * Adds one piece of output (whole lines) as its own row, notified as `writeBatch` does (a running task
   * writes through its journal, which batches); returns the new row's id.
   */
  async append(id: number, type: OutputType, text: string, after: number | null = null): Promise<number> {
    const { rows } = await this.writeBatch(id, [{ type, text, after }], []);
    return rows.get(type)!;
  }

  /**
   * What a task wrote since its last write, in one statement: one output row per type (its pieces
   * concatenated in write order) and the Director events, inserted in the order given so their ids ascend
   * in it. Each output row is notified once committed, with its id, `after` (the row its writer wrote
   * before, when it knows it) and its text when short, so event streams follow without reading the table.
   * Returns the output row id per type and the event ids in order.
   */
  async writeBatch(
    id: number,
    outputs: readonly { type: OutputType; text: string; after: number | null }[],
    /** `parentIndex`: the parent is the event at that index of this batch (its id is not known yet). */
    events: readonly { event: DirectorEventInput; at: Date; parentIndex?: number | undefined }[],
  ): Promise<{ rows: Map<OutputType, number>; events: number[] }> {
    const { rows } = await this.db.query<{ kind: string; id: string | number; type: OutputType | null }>(
      `WITH o AS (
         INSERT INTO director.task_output (task_id, type, text)
         SELECT $1::integer, u.type, u.text FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (type, text, n)
         ORDER BY u.n
         RETURNING id, type),
       n AS (
         SELECT pg_notify($4, json_build_object('id', $1::bigint, 'kind', o.type, 'row', o.id,
                  'after', a.after, 'text', a.carried)::text) AS notified
         FROM o JOIN unnest($2::text[], $5::bigint[], $6::text[]) AS a (type, after, carried) ON a.type = o.type),
       r AS (
         SELECT * FROM jsonb_to_recordset($7::jsonb) AS r (n integer, parent_n integer, at timestamptz,
                parent_id bigint, username text, action text, object_type text, object_name text, task text,
                deployment text, instance text, error text, context jsonb)),
       -- Ids drawn in the order given (the subquery keeps the sequence's calls in that order), so an event
       -- can name another of the same batch as its parent.
       ids AS (SELECT n, nextval(pg_get_serial_sequence('director.events', 'id')) AS id
               FROM (SELECT n FROM r ORDER BY n OFFSET 0) ordered),
       e AS (
         INSERT INTO director.events
           (id, timestamp, parent_id, username, action, object_type, object_name, task, deployment, instance,
            error, context)
         SELECT i.id, r.at, COALESCE(r.parent_id, p.id), r.username, r.action, r.object_type, r.object_name,
                r.task, r.deployment, r.instance, r.error, COALESCE(r.context, '{}')
         FROM r JOIN ids i ON i.n = r.n LEFT JOIN ids p ON p.n = r.parent_n
         ORDER BY r.n
         RETURNING id)
       SELECT 'output' AS kind, o.id, o.type FROM o
       UNION ALL SELECT 'event', e.id, NULL FROM e
       UNION ALL SELECT 'notified', count(*), NULL FROM n`,
      [
        id,
        outputs.map((o) => o.type),
        outputs.map((o) => o.text),
        TASK_EVENTS_CHANNEL,
        outputs.map((o) => o.after),
        outputs.map((o) => (Buffer.byteLength(JSON.stringify(o.text)) <= NOTICE_TEXT_LIMIT ? o.text : null)),
        JSON.stringify(
          events.map(({ event, at, parentIndex }, n) => ({
            n,
            parent_n: parentIndex ?? null,
            at: at.toISOString(),
            parent_id: event.parentId ?? null,
            username: event.user,
            action: event.action,
            object_type: event.objectType,
            object_name: event.objectName ?? null,
            task: event.task === undefined || event.task === null ? null : String(event.task),
            deployment: event.deployment ?? null,
            instance: event.instance ?? null,
            error: event.error ?? null,
            context: event.context ?? {},
          })),
        ),
      ],
    );
    const written = new Map<OutputType, number>();
    const eventIds: number[] = [];
    for (const row of rows) {
      if (row.kind === 'output') written.set(row.type!, Number(row.id));
      else if (row.kind === 'event') eventIds.push(Number(row.id));
    }
    // Ids were drawn in insertion order, which is the order given.
    eventIds.sort((a, b) => a - b);
    return { rows: written, events: eventIds };
  }

  /** Records a task's progress; returns its state as of the update (a step's cancel check needs it). */
  async saveCheckpoint(id: number, checkpoint: Record<string, unknown>): Promise<TaskState> {
    const { rows } = await this.db.query<{ state: TaskState }>(
      'UPDATE director.tasks SET checkpoint = $2 WHERE id = $1 RETURNING state',
      [id, JSON.stringify(checkpoint)],
    );
    return rows[0]?.state ?? TaskState.CANCELLED;
  }

  async finish(id: number, state: TaskState, result: string | null): Promise<void> {
    // The update and its notification in one statement (as `append`); the notification goes out on commit.
    await this.db.query(
      `WITH finished AS (
         UPDATE director.tasks SET state = $2, result = $3, finished_at = now(), holder = NULL, lease_expires_at = NULL
         WHERE id = $1 RETURNING id)
       SELECT pg_notify($4, $5) FROM finished`,
      [id, state, result, TASK_EVENTS_CHANNEL, taskNotice(id, state)],
    );
  }

  /**
   * Cancels a task: a queued one at once, a running one by asking its worker (state `cancelling`, seen at
   * the next step). Finished tasks are left as they are.
   */
  async cancel(id: number): Promise<TaskSummary> {
    await this.db.query(
      `UPDATE director.tasks SET
         state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE 'cancelling' END,
         finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
       WHERE id = $1 AND state IN ('queued', 'processing')`,
      [id],
    );
    // The state is not known here (queued → cancelled, or processing → cancelling): listeners treat an
    // absent state as "anything may have changed".
    await this.db.notify(TASK_EVENTS_CHANNEL, taskNotice(id));
    return this.summary(id);
  }

  async state(id: number): Promise<TaskState> {
    const { rows } = await this.db.query<{ state: TaskState }>(
      'SELECT state FROM director.tasks WHERE id = $1',
      [id],
    );
    return rows[0]?.state ?? TaskState.CANCELLED;
  }

  /**
   * Claims the next runnable task for `holder`: a queued task whose deployment is not locked by an
   * earlier task, or a processing task whose lease ran out (its director stopped or died). One advisory
   * lock serialises claims across workers and replicas, so a deployment's lock is never taken twice.
   */
  async claim(
    holder: string,
    leaseMs: number,
  ): Promise<{ task: TaskRow; recovered: boolean; more: boolean } | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('director.tasks.claim'))");
      const { rows } = await tx.query<TaskRow>(
        `SELECT ${COLUMNS} FROM director.tasks t
         WHERE (t.state = 'queued' AND (t.deployment IS NULL OR NOT EXISTS (
                  SELECT 1 FROM director.tasks o WHERE o.deployment = t.deployment AND o.id <> t.id
                    AND (o.state IN ('processing', 'cancelling') OR (o.state = 'queued' AND o.id < t.id)))))
            OR (t.state IN ('processing', 'cancelling') AND (t.lease_expires_at IS NULL OR t.lease_expires_at < clock_timestamp()))
         ORDER BY (t.state = 'queued'), t.id
         LIMIT 2 FOR UPDATE SKIP LOCKED`,
      );
      // A second row says whether another task was runnable too (`more`): without one the dispatcher
      // need not look again until a notification says so, saving a claim that finds nothing per task.
      const task = rows[0];
      const more = rows.length > 1;
      if (task === undefined) return undefined;
      const recovered = task.state !== TaskState.QUEUED;
      await tx.query(
        `UPDATE director.tasks SET state = CASE WHEN state = 'queued' THEN 'processing' ELSE state END,
           holder = $2, lease_expires_at = clock_timestamp() + $3::float8 * interval '1 millisecond',
           started_at = COALESCE(started_at, now())
         WHERE id = $1`,
        [task.id, holder, leaseMs],
      );
      await tx.query(`SELECT pg_notify($1, $2)`, [
        TASK_EVENTS_CHANNEL,
        taskNotice(task.id, recovered ? task.state : TaskState.PROCESSING),
      ]);
      return {
        task: { ...task, state: recovered ? task.state : TaskState.PROCESSING, holder },
        recovered,
        more,
      };
    });
  }

  /**
   * Extends our lease; undefined when the task is no longer ours (it expired and another director took
   * it), else its state (so a cancel is seen within a renewal even if its notification was lost).
   */
  async renew(id: number, holder: string, leaseMs: number): Promise<TaskState | undefined> {
    const { rows } = await this.db.query<{ state: TaskState }>(
      `UPDATE director.tasks SET lease_expires_at = clock_timestamp() + $3::float8 * interval '1 millisecond'
       WHERE id = $1 AND holder = $2 RETURNING state`,
      [id, holder, leaseMs],
    );
    return rows[0]?.state;
  }

  /** Lets go of a running task (this director is stopping) so the next director resumes it at once. */
  async release(id: number, holder: string): Promise<void> {
    await this.db.query(
      `UPDATE director.tasks SET holder = NULL, lease_expires_at = NULL WHERE id = $1 AND holder = $2`,
      [id, holder],
    );
  }

  /** Each deployment's lock: held by the task running on it, until its lease says. */
  async locks(): Promise<{ deployment: string; taskId: number; expiresAt: Date }[]> {
    const { rows } = await this.db.query<{ deployment: string; id: number; expires_at: Date }>(
      `SELECT DISTINCT ON (deployment) deployment, id, COALESCE(lease_expires_at, now()) AS expires_at
       FROM director.tasks WHERE state IN ('processing', 'cancelling') AND deployment IS NOT NULL
       ORDER BY deployment, id`,
    );
    return rows.map((row) => ({
      deployment: row.deployment,
      taskId: row.id,
      expiresAt: new Date(row.expires_at),
    }));
  }
}
