#!/usr/bin/env node
import { availableRoles } from '../availableRoles.js';
import { runServerCli } from '../cli.js';

// The only place that touches the real process: its arguments, environment, streams and signals.
const exitCode = await runServerCli(process.argv.slice(2), availableRoles, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  waitForStop: () =>
    new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        process.stderr.write(`\n${signal} received: draining (press Ctrl-C again to force)\n`);
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
    }),
});
process.exitCode = exitCode;
