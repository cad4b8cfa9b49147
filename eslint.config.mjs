// One flat ESLint config for the whole monorepo: TypeScript on the server, the e2e tests and scripts,
// TypeScript + Vue in both clients and their shared package. `npm run lint` runs it with zero warnings allowed.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

// The npm workspaces (the root package.json's "workspaces"). A workspace uses another one only through its package
// name and exports (`@streamspace/client-shared/auth`), never by a relative path into its folder, and the two apps
// never use each other at all: what both need lives in client-shared.
const WORKSPACES = ['server', 'client-shared', 'client-admin', 'client-portal', 'e2e'];
const INTO_A_WORKSPACE = `^(\\.\\./)+(${WORKSPACES.join('|')})(/|$)`;
const crossWorkspaceImports = [
  {
    regex: INTO_A_WORKSPACE,
    message: 'A relative import into another workspace: import it by its package name (e.g. @streamspace/client-shared/...).',
  },
  {
    group: ['@streamspace/client-admin', '@streamspace/client-admin/**', '@streamspace/client-portal', '@streamspace/client-portal/**'],
    message: 'Apps never import each other: move what both need into @streamspace/client-shared.',
  },
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/dist-ide/**', '**/artifacts/**', '**/coverage/**', '.streamspace/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,cts}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // type-graphql and TypeORM decorators take `() => Type` thunks and Function types by design.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.{ts,mts,cts,vue,js,cjs,mjs}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: crossWorkspaceImports }],
      // no-restricted-imports does not look at import(): the routers load their pages that way.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression > Literal[value=/${INTO_A_WORKSPACE.replaceAll('/', '\\/')}/]`,
          message: 'A relative import() into another workspace: import it by its package name.',
        },
      ],
    },
  },
  {
    // A client's sources sit at most three folders deep (src/modules/<feature>/), so climbing three levels leaves the
    // workspace: whatever it reaches is another workspace's or the repository's.
    files: ['client-admin/src/**/*.{ts,vue}', 'client-portal/src/**/*.{ts,vue}', 'client-shared/src/**/*.{ts,vue}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...crossWorkspaceImports,
            { regex: '^(\\.\\./){3,}', message: 'This relative import leaves the client workspace: import other workspaces by package name.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // chai assertions are expressions (`expect(x).to.be.true`).
    files: ['**/test/**/*.ts', '**/*.test.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['client-admin/**/*.{ts,vue}', 'client-portal/**/*.{ts,vue}', 'client-shared/**/*.{ts,vue}'],
    languageOptions: {
      globals: { ...globals.browser },
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
    rules: {
      // Vuetify's slot syntax (`#item.name`) and single-word route pages are idiomatic here.
      'vue/valid-v-slot': ['error', { allowModifiers: true }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/block-order': ['error', { order: ['script', 'template', 'style'] }],
    },
  },
);
