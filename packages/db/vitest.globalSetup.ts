/**
 * Bundles the PGlite worker thread's entry (`src/pgliteWorker.ts`) from the current sources before the
 * tests start. Tests run TypeScript sources through vitest's aliases, but a worker thread is a plain
 * Node isolate that cannot load `.ts`; the bundle takes the same aliases (so `@openpks/domain` is its
 * sources too, never a stale build) and leaves node_modules packages external. It is written under
 * node_modules, so Node resolves `pg` and `@electric-sql/pglite` from it, and removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';

/** `WORKER_ENTRY_VARIABLE` of src/workerDatabase.ts (a test there checks that this run set it). */
const WORKER_ENTRY_VARIABLE = 'OPENPKS_PGLITE_WORKER';

const packageDir = path.dirname(fileURLToPath(import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outDir = path.join(
    packageDir,
    '..',
    '..',
    'node_modules',
    '.cache',
    'openpks-db',
    `worker-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(outDir, { recursive: true });
  await build({
    configFile: false,
    root: packageDir,
    logLevel: 'warn',
    resolve: { alias: project.vite.config.resolve.alias },
    build: {
      ssr: path.join(packageDir, 'src', 'pgliteWorker.ts'),
      outDir,
      emptyOutDir: false,
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      rollupOptions: { output: { format: 'es', entryFileNames: 'pgliteWorker.mjs' } },
    },
  });
  // Test processes are forked after global setup and inherit this.
  process.env[WORKER_ENTRY_VARIABLE] = path.join(outDir, 'pgliteWorker.mjs');
  return async () => {
    delete process.env[WORKER_ENTRY_VARIABLE];
    await rm(outDir, { recursive: true, force: true });
  };
}
