import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { ESLint } from 'eslint';
import { buildSchema, parse, validate } from 'graphql';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import * as generated from './gql/graphql.js';

const cliDir = fileURLToPath(new URL('../', import.meta.url));
const gqlDir = fileURLToPath(new URL('./gql/', import.meta.url));
const repo = new URL('../../../', import.meta.url);

// codegen.ts sits outside src (tsconfig's rootDir), so it is loaded by path rather than imported.
const codegenPath = fileURLToPath(new URL('../codegen.ts', import.meta.url));
const loadConfig = async () => ((await import(codegenPath)) as { default: CodegenConfig }).default;

describe('src/gql (GraphQL Code Generator output for graphql/operations/cli.graphql)', () => {
  it('is what codegen.ts generates now (run `npm run generate:operations -w @openpks/cli` when it fails)', async () => {
    const files = (await generate({ ...(await loadConfig()), cwd: cliDir, silent: true }, false)) as {
      filename: string;
      content: string;
    }[];
    const fresh = new Map<string, string>();
    const eslint = new ESLint({ cwd: fileURLToPath(repo), fix: true });
    for (const f of files) {
      const path = fileURLToPath(new URL(f.filename, `file://${cliDir}`));
      // The npm script lets eslint drop the preset's needless `eslint-disable` lines (lint allows no
      // warnings), then formats with the repo's prettier config; do the same here.
      const [linted] = await eslint.lintText(f.content, { filePath: path });
      const fixed = linted?.output ?? f.content;
      fresh.set(path, await format(fixed, { ...(await resolveConfig(path)), filepath: path }));
    }
    const committed = readdirSync(gqlDir).map((name) => `${gqlDir}${name}`);
    expect([...fresh.keys()].sort()).toEqual(committed.sort());
    for (const [path, content] of fresh) expect(readFileSync(path, 'utf8'), path).toBe(content);
  }, 60_000);

  it('holds only documents valid against graphql/schema.graphql', () => {
    const schema = buildSchema(readFileSync(new URL('graphql/schema.graphql', repo), 'utf8'));
    const documents = Object.entries(generated).filter(
      ([name]) => name.endsWith('Document') && name !== 'TypedDocumentString',
    );
    expect(documents.length).toBeGreaterThanOrEqual(20);
    for (const [name, doc] of documents) {
      expect(
        validate(schema, parse(String(doc))).map((e) => `${name}: ${e.message}`),
        name,
      ).toEqual([]);
    }
  });
});
