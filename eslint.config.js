// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    // Plain Node scripts (not type-checked TypeScript) use Node's globals.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The programs' code: ICU collation loads several MiB of tables into a process whose memory
    // is measured against a Go peer (bench/provider-peers). Names here are compared by code unit.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { property: 'localeCompare', message: 'compare by code unit (a < b): ICU collation costs ~4 MiB' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Intl', message: 'ICU data costs megabytes; format by hand' },
      ],
    },
  },
);
