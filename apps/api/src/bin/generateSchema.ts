// Writes graphql/schema.graphql from the resolver classes: `npm run generate:schema -w @openpks/api`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printApiSchema } from '../graphql/schema.js';

const target = fileURLToPath(new URL('../../../../graphql/schema.graphql', import.meta.url));
writeFileSync(target, await printApiSchema());
console.log(`wrote ${target}`);
