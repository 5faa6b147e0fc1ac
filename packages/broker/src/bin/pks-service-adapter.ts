#!/usr/bin/env node
/**
 * `pks-service-adapter <subcommand>`: the service adapter as ODB runs it (`use_stdin: true`): one JSON
 * document on stdin, the answer on stdout, ODB's exit code. `PKS_ADAPTER_STATE_DIR` lets it remember
 * bindings between runs (exit codes 41 and 49).
 */
import { runAdapterCommand } from '../adapter/command.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const run = await runAdapterCommand(process.argv[2], await readStdin(), {
  stateDir: process.env.PKS_ADAPTER_STATE_DIR || undefined,
});
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
process.exitCode = run.exitCode;
