import { NotFoundError } from '@openpks/domain';
import type { DirectorTask, TaskState } from '../protocol/types.js';

/*
 * The embedded Director's words for its tasks: their types (BOSH's `Jobs::*`), outputs, rows and the
 * notices their changes send. The rows are read and written in `store/taskStore.ts`; the task as the API
 * shows it is the shared `DirectorTask` (`protocol/types.ts`).
 */

export const TaskType = {
  UPDATE_DEPLOYMENT: 'update_deployment',
  DELETE_DEPLOYMENT: 'delete_deployment',
  RUN_ERRAND: 'run_errand',
  VMS: 'vms',
  UPLOAD_STEMCELL: 'update_stemcell',
  UPLOAD_RELEASE: 'update_release',
} as const;
export type TaskType = (typeof TaskType)[keyof typeof TaskType];

/** The task types `GET /tasks?verbose=1` shows (BOSH hides its bookkeeping tasks by default). */
export const DEPLOYMENT_TASK_TYPES: readonly string[] = [
  TaskType.UPDATE_DEPLOYMENT,
  TaskType.DELETE_DEPLOYMENT,
  TaskType.RUN_ERRAND,
  TaskType.UPLOAD_STEMCELL,
  TaskType.UPLOAD_RELEASE,
];

/** A task's outputs: its event log, its result lines, its debug log, and the log of its CPI calls. */
export const OutputType = { EVENT: 'event', RESULT: 'result', DEBUG: 'debug', CPI: 'cpi' } as const;
export type OutputType = (typeof OutputType)[keyof typeof OutputType];

export interface TaskRow {
  id: number;
  type: string;
  state: TaskState;
  description: string;
  deployment: string | null;
  context_id: string | null;
  username: string | null;
  params: Record<string, unknown>;
  checkpoint: Record<string, unknown>;
  result: string | null;
  holder: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export type TaskSummary = Pick<
  TaskRow,
  | 'id'
  | 'state'
  | 'description'
  | 'deployment'
  | 'context_id'
  | 'username'
  | 'result'
  | 'created_at'
  | 'started_at'
  | 'finished_at'
>;

const unix = (date: Date | null) => (date === null ? null : Math.floor(new Date(date).getTime() / 1000));

/** The task as the Director API shows it. */
export function taskJson(row: TaskSummary): DirectorTask {
  return {
    id: row.id,
    state: row.state,
    description: row.description,
    timestamp: unix(row.finished_at ?? row.started_at ?? row.created_at)!,
    started_at: unix(row.started_at),
    result: row.result,
    user: row.username,
    deployment: row.deployment,
    context_id: row.context_id,
  };
}

/** BOSH's TaskNotFound (code 10000, 404). */
export function taskNotFound(id: number | string): NotFoundError {
  return new NotFoundError(`Task ${id} could not be found`, { details: { boshCode: 10000 } });
}

export const TASK_EVENTS_CHANNEL = 'director_task_events';

/** What a director hears on TASK_EVENTS_CHANNEL: a task's output grew (`kind` its type) or its state changed. */
export interface TaskNotice {
  id: number;
  kind: 'state' | OutputType;
  /** The new state of a `state` notice; absent when it is unknown (a cancel, an older director). */
  state?: TaskState;
  /** An output notice's row id (absent from older directors). */
  row?: number;
  /**
   * The row the same writer wrote before this one for the task and type (null when it does not know: its
   * first row, a task it resumed), and the row's `text` (null when too long for a notification). A reader
   * whose last row is `after` takes the text as read, without a look at the table.
   */
  after?: number | null;
  text?: string | null;
}

/**
 * How long (in bytes of its JSON) an output row's text may be and still ride in its notification:
 * PostgreSQL refuses payloads of 8000 bytes and more, and the notice's other fields need the rest.
 */
export const NOTICE_TEXT_LIMIT = 7000;

/** The JSON of a `state` notice (no state: anything may have changed, as after a cancel). */
export function taskNotice(id: number, state?: TaskState): string {
  const notice: TaskNotice = state === undefined ? { id, kind: 'state' } : { id, kind: 'state', state };
  return JSON.stringify(notice);
}
