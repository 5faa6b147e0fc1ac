import type { Job } from '../manifest/manifest.js';

/** An instance as its VM's agent sees it: where it runs and the jobs (properties already interpolated). */
export interface AgentInstance {
  deployment: string;
  instanceGroup: string;
  index: number;
  uuid: string;
  vmCid: string;
  ip: string;
  jobs: Job[];
}

export interface ErrandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The Director's side of the BOSH agent: apply a spec and start the jobs, drain and stop them, run an
 * errand. The embedded Director's agent is part of the sim (it starts a small Kubernetes API for masters).
 */
export interface Agent {
  start(instance: AgentInstance): Promise<void>;
  /** Drain (unless skipped) and stop the jobs, before the VM is deleted or recreated. */
  stop(instance: AgentInstance, options: { drain: boolean }): Promise<void>;
  runErrand(instance: AgentInstance, errand: string): Promise<ErrandOutcome>;
  /** Releases everything it serves (at director stop). */
  close(): Promise<void>;
}
