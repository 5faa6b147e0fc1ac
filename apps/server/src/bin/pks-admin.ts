#!/usr/bin/env node
import { runAdminCli } from '../admin/index.js';

// The only place that touches the real process: its arguments, environment and streams.
process.exitCode = await runAdminCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
