#!/usr/bin/env node
import { availableRoles } from '../availableRoles.js';
import { runServerCli } from '../cli.js';

// The only place that touches the real process: its arguments, environment, streams and signals.

// Signals are taken from the first moment, not once the roles are up: Node's default for SIGINT kills
// the process on the spot, and a Ctrl-C during start-up (initdb, migrations, key generation) would cut
// a write in half. A signal then stops the roles as soon as they are up; a second one forces the exit.
let started = false;
const stopRequested = new Promise<string>((resolve) => {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(
      started
        ? `\n${signal} received: draining (press Ctrl-C again to force)\n`
        : `\n${signal} received during start-up: stopping once the roles are up (press Ctrl-C again to force)\n`,
    );
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
    const deadline = setTimeout(() => {
      process.stderr.write('pks-server: roles did not stop within 30 s; exiting\n');
      process.exit(1);
    }, 30_000);
    deadline.unref();
    resolve(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
});

const exitCode = await runServerCli(process.argv.slice(2), availableRoles, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  waitForStop: () => {
    started = true;
    return stopRequested;
  },
});
process.exitCode = exitCode;
