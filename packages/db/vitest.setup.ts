/**
 * Runs before every test file: registers the PGlite worker that vitest.globalSetup.ts bundled from the
 * sources, so any `openDatabase()` under test (in any package) can start its worker thread. It imports
 * this package's own module, the one `@openpks/db` resolves to under vitest, and not the testing door,
 * which would load PGlite and pg into every test file, the console's included.
 */
import { inject } from 'vitest';
import { useWorkerBundle } from './src/workerDatabase.js';
// Type only (erased): the global setup declares what it provides.
import type {} from './vitest.globalSetup.js';

useWorkerBundle(inject('pgliteWorkerBundle'));
