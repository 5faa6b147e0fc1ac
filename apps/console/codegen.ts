import type { CodegenConfig } from '@graphql-codegen/cli';

// Types the console's operations (graphql/operations/console.graphql) against the API's schema into
// src/gql/. Run `npm run generate:operations` (in apps/console) after changing either file;
// src/gql.test.ts regenerates in memory and fails when the committed output is stale.
const config: CodegenConfig = {
  schema: '../../graphql/schema.graphql',
  documents: ['../../graphql/operations/console.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      // Pages read whole results; fragments are for reuse, not masking.
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        strictScalars: true,
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
        enumsAsTypes: true,
        skipTypename: true,
      },
    },
  },
};

export default config;
