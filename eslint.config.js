// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'Core code runs in any runtime: node: imports only in Node entry points.' }] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Node-only entry points, tools, tests and benchmarks may use node: modules.
    files: ['src/node.ts', 'src/link/tun/**', 'src/cli/**', 'src/node/**', '**/*.test.ts', 'test/**', 'bench/**', 'scripts/**', 'examples/**', '*.config.*'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
