/**
 * The Director API's shapes, as the bosh CLI (`director/*.go`) reads them and BOSH's controllers write
 * them: declared once, for `DirectorClient` (which reads them from any Director) and the embedded Director
 * (which writes them).
 */

/** A task's states (BOSH's `Models::Task#state`). */
export const TaskState = {
  QUEUED: 'queued',
  PROCESSING: 'processing',
  CANCELLING: 'cancelling',
  CANCELLED: 'cancelled',
  DONE: 'done',
  ERROR: 'error',
  TIMEOUT: 'timeout',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
/** The name the client's door has always used for a task's state. */
export type DirectorTaskState = TaskState;

/** The states of a task that has not ended. */
export const ACTIVE_TASK_STATES: readonly TaskState[] = [
  TaskState.QUEUED,
  TaskState.PROCESSING,
  TaskState.CANCELLING,
];

/** A task as `GET /tasks/:id` shows it (times in seconds since the epoch). */
export interface DirectorTask {
  id: number;
  state: TaskState;
  description: string;
  timestamp: number;
  started_at: number | null;
  result: string | null;
  user: string | null;
  deployment: string | null;
  context_id: string | null;
}

export interface DirectorInfo {
  name: string;
  uuid: string;
  version: string;
  user: string | null;
  cpi: string;
  user_authentication: { type: string; options: { url?: string; urls?: string[] } };
  features: Record<string, { status: boolean; extras?: Record<string, unknown> }>;
  stemcell_os?: string;
  stemcell_version?: string;
}

/** One line of a task's event log (stage events, errors and warnings share the log). */
export interface TaskEvent {
  time: number;
  stage?: string;
  tags?: string[];
  total?: number;
  task?: string;
  index?: number;
  state?: 'started' | 'in_progress' | 'finished' | 'failed';
  progress?: number;
  data?: { error?: string };
  error?: { code: number; message: string };
  type?: 'warning' | 'deprecation';
  message?: string;
}

export interface DeploymentSummary {
  name: string;
  cloud_config: 'none' | 'outdated' | 'latest';
  releases: { name: string; version: string }[];
  stemcells: { name: string; version: string }[];
  teams: string[];
  locked?: boolean;
}

export interface Instance {
  agent_id: string | null;
  cid: string | null;
  job: string;
  index: number;
  id: string;
  az: string | null;
  ips: string[];
  vm_created_at: string | null;
  expects_vm?: boolean;
  active?: boolean;
}

export interface ErrandResult {
  instance: { group: string; id: string };
  errand_name: string;
  exit_code: number;
  stdout: string;
  stderr: string;
  logs: { blobstore_id: string; sha1: string };
}

export interface DirectorConfig {
  id: string;
  name: string;
  type: string;
  content: string;
  created_at: string;
  deleted?: boolean;
}

export interface Stemcell {
  name: string;
  version: string;
  operating_system: string;
  cid: string;
  deployments: { name: string }[];
}

export interface Release {
  name: string;
  release_versions: {
    version: string;
    commit_hash: string;
    uncommitted_changes: boolean;
    currently_deployed: boolean;
    job_names: string[];
  }[];
}

export type ManifestDiff = { context: Record<string, unknown>; diff: [string, 'added' | 'removed' | null][] };
