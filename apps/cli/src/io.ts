/** The process as the commands see it: streams, environment and a prompt; tests pass their own. */
export interface Io {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  /** Reads one answer from the user (undefined when there is no terminal to ask). */
  ask(question: string, options?: { secret?: boolean }): Promise<string | undefined>;
  /**
   * While the returned disposer is not called, Ctrl-C prints `hint` and ends the process without touching
   * the operation (a `--wait` only watches). With `stop`, Ctrl-C calls it instead and the command ends on
   * its own terms (a `--watch` ends with exit 0); a second Ctrl-C ends the process all the same. Absent
   * where there is no process to interrupt (tests).
   */
  onInterrupt?(hint: string, stop?: () => void): () => void;
}
