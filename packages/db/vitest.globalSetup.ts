/**
 * Bundles the PGlite worker thread's entry (`src/pgliteWorker.ts`) from the current sources before the
 * tests start. Tests run TypeScript sources through vitest's aliases, but a worker thread is a plain
 * Node isolate that cannot load `.ts`; the bundle takes the same aliases (so `@openpks/domain` is its
 * sources too, never a stale build) and leaves node_modules packages external. It is written under
 * node_modules, so Node resolves `pg` and `@electric-sql/pglite` from it, and removed afterwards. Its path
 * reaches every test file through vitest's provide/inject (vitest.setup.ts), not through the environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';

/** The name under which the bundle's path is provided to the test files (vitest.setup.ts injects it). */
export const PGLITE_WORKER_BUNDLE = 'pgliteWorkerBundle';

declare module 'vitest' {
  export interface ProvidedContext {
    [PGLITE_WORKER_BUNDLE]: string;
  }
}

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
  project.provide(PGLITE_WORKER_BUNDLE, path.join(outDir, 'pgliteWorker.mjs'));
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
