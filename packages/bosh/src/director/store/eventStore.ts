import type { Database } from '@openpks/db';
import { InputError } from '@openpks/domain';

/** What happened, as BOSH's event manager records it (`Models::Event`). */
export interface DirectorEventInput {
  user: string | null;
  action: string;
  objectType: string;
  objectName?: string | null;
  task?: number | null;
  deployment?: string | null;
  instance?: string | null;
  parentId?: number | null;
  error?: string | null;
  context?: Record<string, unknown>;
}

/** One event as `GET /events` shows it (bosh-cli `director/events.go` `EventResp`). */
export interface DirectorEventJson {
  id: string;
  parent_id?: string;
  timestamp: number;
  user: string | null;
  action: string;
  object_type: string;
  object_name: string | null;
  task: string | null;
  deployment: string | null;
  instance: string | null;
  context: Record<string, unknown>;
  error: string | null;
}

interface EventRow {
  id: string | number;
  parent_id: string | number | null;
  timestamp: Date;
  username: string | null;
  action: string;
  object_type: string;
  object_name: string | null;
  task: string | null;
  deployment: string | null;
  instance: string | null;
  error: string | null;
  context: Record<string, unknown>;
}

/** BOSH's page size for `GET /events`: older events are read with `before_id`. */
export const EVENT_LIMIT = 200;

/** The query parameters of `GET /events` (EventsController): each narrows the list. */
export interface EventFilter {
  beforeId?: string | null;
  beforeTime?: string | null;
  afterTime?: string | null;
  task?: string | null;
  deployment?: string | null;
  instance?: string | null;
  user?: string | null;
  action?: string | null;
  objectType?: string | null;
  objectName?: string | null;
}

export class EventStore {
  constructor(private readonly db: Database) {}

  async record(event: DirectorEventInput): Promise<number> {
    const { rows } = await this.db.query<{ id: string | number }>(
      `INSERT INTO director.events
         (parent_id, username, action, object_type, object_name, task, deployment, instance, error, context)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [
        event.parentId ?? null,
        event.user,
        event.action,
        event.objectType,
        event.objectName ?? null,
        event.task === undefined || event.task === null ? null : String(event.task),
        event.deployment ?? null,
        event.instance ?? null,
        event.error ?? null,
        JSON.stringify(event.context ?? {}),
      ],
    );
    return Number(rows[0]!.id);
  }

  async list(filter: EventFilter): Promise<DirectorEventJson[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.beforeId) add('id < ?', Number.parseInt(filter.beforeId, 10) || 0);
    if (filter.beforeTime) add('timestamp < ?', timeParameter('before', filter.beforeTime));
    if (filter.afterTime) {
      // BOSH adds a second: "after" a time the CLI printed (to the second) means after that second.
      add('timestamp >= ?', new Date(timeParameter('after', filter.afterTime).getTime() + 1000));
    }
    if (filter.task) add('task = ?', filter.task);
    if (filter.deployment) add('deployment = ?', filter.deployment);
    if (filter.instance) add('instance = ?', filter.instance);
    if (filter.user) add('username = ?', filter.user);
    if (filter.action) add('action = ?', filter.action);
    if (filter.objectType) add('object_type = ?', filter.objectType);
    if (filter.objectName) add('object_name = ?', filter.objectName);
    const { rows } = await this.db.query<EventRow>(
      `SELECT id, parent_id, timestamp, username, action, object_type, object_name, task, deployment,
              instance, error, context
       FROM director.events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ${EVENT_LIMIT}`,
      params,
    );
    return rows.map(eventJson);
  }
}

function eventJson(row: EventRow): DirectorEventJson {
  return {
    id: String(row.id),
    ...(row.parent_id === null ? {} : { parent_id: String(row.parent_id) }),
    timestamp: Math.floor(new Date(row.timestamp).getTime() / 1000),
    user: row.username,
    action: row.action,
    object_type: row.object_type,
    object_name: row.object_name,
    task: row.task,
    deployment: row.deployment,
    instance: row.instance,
    context: row.context,
    error: row.error,
  };
}

/** A time as BOSH's events controller reads one: epoch seconds, or a date and time text. */
function timeParameter(name: 'before' | 'after', value: string): Date {
  const time = /^[-+]?\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new InputError(`${name}_time`, `Invalid ${name} parameter: '${value}'`);
  return time;
}
