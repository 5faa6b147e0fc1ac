// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.next/**',
      '**/.turbo/**',
      '**/.pks-data/**',
      'coverage/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': [
        'error',
        {
          // One door per package: import a package by its name, never its internals.
          patterns: [
            {
              group: ['@openpks/*/src/*', '@openpks/*/dist/*'],
              message: 'Import the package through its index (its public door).',
            },
            {
              group: ['**/packages/*/src/*', '**/apps/*/src/*'],
              message: 'Import the package by name, not by path into its sources.',
            },
          ],
        },
      ],
    },
  },
  prettier,
);
