#!/usr/bin/env node
// Committed, not built: npm links a workspace's bin only if its file exists at install time, and dist/
// is built after `npm install`. So the first install of a fresh clone links this launcher.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin/pks-admin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'pks-admin is not built yet: run `npm run build` (or `npm start`) in the openpks checkout.\n',
  );
  process.exit(1);
}
await import(built.href);
