// The JavaScript linter's settings (`npx eslint .`, run by scripts/test): ESLint's
// recommended rules over every JavaScript file of the repository, with the globals of both
// places this code runs (pages and Node).
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: [
      '**/node_modules/**',
      'pkg/**',
      'target/**',
      '.tools/**',
      'www/dist/**',
      'www/pkg/**',
      'tests/package/*-app/dist/**',
      'examples/**/dist/**',
      'examples/**/pkg/**',
      'bench/**/pkg/**',
      'bench/**/dist/**',
    ],
  },
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      // `_name` marks a value that is there on purpose and unused.
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
];
