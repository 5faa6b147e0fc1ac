import type { CodegenConfig } from '@graphql-codegen/cli';

// Types the CLI's operations (graphql/operations/cli.graphql) against the API's schema into src/gql/.
// Run `npm run generate:operations` (in apps/cli) after changing either file; src/gql.test.ts regenerates
// in memory and fails when the committed output is stale. Paths are relative to apps/cli.
const config: CodegenConfig = {
  schema: '../../graphql/schema.graphql',
  documents: ['../../graphql/operations/cli.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      // The CLI reads whole results, not per-component slices: fragments are for reuse, not masking.
      presetConfig: { fragmentMasking: false },
      config: {
        // The CLI posts query strings; string documents need no graphql runtime to print an AST.
        documentMode: 'string',
        useTypeImports: true,
        // NodeNext ESM needs the extension on relative imports.
        importExtension: '.js',
        strictScalars: true,
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
        enumsAsTypes: true,
        skipTypename: true,
      },
    },
  },
};

export default config;
