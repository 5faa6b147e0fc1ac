#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { runCli } from '../cli.js';

// The only place that touches the real process: its arguments, environment, streams and signals.

// Installed before anything runs: --wait holds a WebSocket open, and Ctrl-C must only detach from it (the
// operation goes on; PKS has no cancel-cluster), saying how to keep watching. 130 = ended by SIGINT.
// A --watch asks to be stopped instead (`stop`): it closes its socket and exits 0, as `kubectl get -w`
// does; a second Ctrl-C, should closing hang, still ends the process.
const hints: { hint: string; stop?: (() => void) | undefined }[] = [];
let stopping = false;
process.on('SIGINT', () => {
  const top = hints.at(-1);
  if (top?.stop && !stopping) {
    stopping = true;
    if (top.hint) process.stderr.write(`\n${top.hint}\n`);
    top.stop();
    return;
  }
  process.stderr.write(top?.hint ? `\n${top.hint}\n` : '\n');
  process.exit(130);
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  stdoutIsTty: Boolean(process.stdout.isTTY),
  stderrIsTty: Boolean(process.stderr.isTTY),
  ask: (question, options) => ask(question, options?.secret ?? false),
  onInterrupt: (hint, stop) => {
    const entry = { hint, stop };
    hints.push(entry);
    return () => {
      const at = hints.lastIndexOf(entry);
      if (at >= 0) hints.splice(at, 1);
    };
  },
});

function ask(question: string, secret: boolean): Promise<string | undefined> {
  if (!process.stdin.isTTY) return readPipedLine(question);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // A terminal in raw mode turns Ctrl-C into a keypress; make it the signal it was meant to be.
  rl.on('SIGINT', () => process.emit('SIGINT'));
  if (secret) {
    // Echo nothing while a password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) process.stderr.write(question);
    };
  }
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      if (secret) process.stderr.write('\n');
      resolve(answer);
    }),
  );
}

/** A piped answer (`yes | pks delete-cluster x`) counts; no stdin at all means there is no one to ask. */
function readPipedLine(question: string): Promise<string | undefined> {
  if (process.stdin.readableEnded || process.stdin.destroyed) return Promise.resolve(undefined);
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, terminal: false });
  return new Promise((resolve) => {
    let done = false;
    rl.once('line', (line) => {
      done = true;
      // A piped answer is not echoed; end the prompt's line so the output after it starts clean.
      process.stderr.write('\n');
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!done) resolve(undefined);
    });
  });
}
