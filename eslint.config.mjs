// Lint with the import boundaries of DESIGN.md §2: only extension/host and extension/main.ts
// may import 'vscode'; common/ and protocol/ import neither Node nor vscode; the webview
// imports only extension/protocol.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const noVscode = { name: 'vscode', message: 'Only extension/host and extension/main.ts may import vscode.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/e2e/cache/**', '.cache/**', '.test-runs/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', { paths: [noVscode] }],
    },
  },
  {
    files: ['extension/host/**/*.ts', 'extension/main.ts', 'test/e2e/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['extension/common/**/*.ts', 'extension/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode, ...nodeBuiltins.map((name) => ({ name, message: 'common/ and protocol/ run in the webview too: no Node.' }))],
          patterns: [{ group: ['**/pool/**', '**/gateway/**', '**/host/**', '**/state/**', '**/config/**'], message: 'common/ and protocol/ depend on nothing else.' }],
        },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode, ...nodeBuiltins.map((name) => ({ name, message: 'The webview runs in a browser.' }))],
          patterns: [{ group: ['../extension/*', '!../extension/protocol', '../extension/*/**', '!../extension/protocol/**'], message: 'The webview imports only extension/protocol.' }],
        },
      ],
    },
  },
);
