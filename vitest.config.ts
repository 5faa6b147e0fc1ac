import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages by name (and their `/testing` door); point those names at the sources
// so a test never runs against a stale build.
const root = fileURLToPath(new URL('.', import.meta.url));
const alias: { find: RegExp; replacement: string }[] = [];
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(`${root}${group}`)) {
    const src = `${root}${group}/${dir}/src`;
    if (existsSync(`${src}/testing/index.ts`)) {
      alias.push({ find: new RegExp(`^@openpks/${dir}/testing$`), replacement: `${src}/testing/index.ts` });
    }
    if (existsSync(`${src}/index.ts`)) {
      alias.push({ find: new RegExp(`^@openpks/${dir}$`), replacement: `${src}/index.ts` });
    }
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default (cores − 1) is one fork on the 2-core machines CI runs on, which runs all ~140 files
    // one after another (31 min in CI). Most of a file's time is spent waiting on loopback servers and the
    // sim CPI, so two forks on two cores halve the wall time (about 15 min for the suite) without starving.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The PGlite worker thread cannot run TypeScript: bundle it from the sources first.
    globalSetup: ['packages/db/vitest.globalSetup.ts'],
    setupFiles: ['packages/db/vitest.setup.ts'],
  },
});
