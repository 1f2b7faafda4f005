// One lint config for the monorepo: typescript-eslint, import cycles, and the rule that the
// browser client imports no Node built-ins and no `ws`.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.test-results/**', 'coverage/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // @converge/conflict is pure: no globals for time or randomness.
    files: ['packages/conflict/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'packages/conflict/src/testing/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'pass time in: @converge/conflict is pure' },
        { object: 'Math', property: 'random', message: 'pass randomness in: @converge/conflict is pure' },
      ],
      'no-restricted-globals': ['error', { name: 'crypto', message: 'pass randomness in' }],
      'import-x/no-nodejs-modules': 'error',
    },
  },
  {
    // The wire contract runs in browsers too.
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'import-x/no-nodejs-modules': 'error' },
  },
  {
    files: ['packages/client/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      'no-restricted-imports': ['error', { paths: [{ name: 'ws', message: 'the client runs in browsers: use the WebSocket global' }] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
