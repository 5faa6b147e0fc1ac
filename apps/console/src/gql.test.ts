import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { buildSchema, print, validate, type DocumentNode } from 'graphql';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import * as generated from './gql/graphql';

const consoleDir = fileURLToPath(new URL('../', import.meta.url));
const gqlDir = fileURLToPath(new URL('./gql/', import.meta.url));
const repo = new URL('../../../', import.meta.url);

// codegen.ts sits outside src, so it is loaded by path rather than imported.
const codegenPath = fileURLToPath(new URL('../codegen.ts', import.meta.url));
const loadConfig = async () => ((await import(codegenPath)) as { default: CodegenConfig }).default;

describe('src/gql (GraphQL Code Generator output for graphql/operations/console.graphql)', () => {
  it('is what codegen.ts generates now (run `npm run generate:operations -w @openpks/console` when it fails)', async () => {
    const files = (await generate({ ...(await loadConfig()), cwd: consoleDir, silent: true }, false)) as {
      filename: string;
      content: string;
    }[];
    const fresh = new Map<string, string>();
    for (const f of files) {
      const path = fileURLToPath(new URL(f.filename, `file://${consoleDir}`));
      // The npm script formats the output with the repo's prettier config; do the same here.
      fresh.set(path, await format(f.content, { ...(await resolveConfig(path)), filepath: path }));
    }
    const committed = readdirSync(gqlDir).map((name) => `${gqlDir}${name}`);
    expect([...fresh.keys()].sort()).toEqual(committed.sort());
    for (const [path, content] of fresh) expect(readFileSync(path, 'utf8'), path).toBe(content);
  }, 60_000);

  it('holds only operations valid against graphql/schema.graphql', () => {
    const schema = buildSchema(readFileSync(new URL('graphql/schema.graphql', repo), 'utf8'));
    const documents = Object.entries(generated).filter(([name]) => name.endsWith('Document')) as [
      string,
      DocumentNode,
    ][];
    expect(documents.length).toBeGreaterThanOrEqual(15);
    for (const [name, doc] of documents) {
      expect(
        validate(schema, doc).map((e) => `${name}: ${e.message}`),
        print(doc),
      ).toEqual([]);
    }
  });
});
