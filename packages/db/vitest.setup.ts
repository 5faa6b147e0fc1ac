/**
 * Runs before every test file: registers the PGlite worker that vitest.globalSetup.ts bundled from the
 * sources, so any `openDatabase()` under test (in any package) can start its worker thread.
 */
import { inject } from 'vitest';
import { usePGliteWorkerBundle } from './src/testing/index.js';
// Type only (erased): the global setup declares what it provides.
import type {} from './vitest.globalSetup.js';

usePGliteWorkerBundle(inject('pgliteWorkerBundle'));
