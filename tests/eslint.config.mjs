// ESLint flat config for the project's JavaScript: the dashboard's ES modules
// (web/js, browser globals) and the node:test files (tests, node globals).
// It lives in tests/ so its imports resolve from tests/node_modules; run it
// from the repository root with `--config tests/eslint.config.mjs` (as
// scripts/check/eslint.sh does), which makes the patterns below relative to
// the root.
import js from '@eslint/js';
import globals from 'globals';

const rules = {
    ...js.configs.recommended.rules,
    'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'all', ignoreRestSiblings: true }],
    'no-var': 'error',
    'prefer-const': ['error', { destructuring: 'all' }],
    eqeqeq: ['error', 'always', { null: 'ignore' }],
    'no-shadow-restricted-names': 'error',
    'no-implicit-coercion': ['error', { allow: ['!!', '+'] }],
    'no-return-assign': 'error',
    'no-throw-literal': 'error',
};

export default [
    { ignores: ['**/node_modules/**', 'build*/**'] },
    {
        files: ['web/js/**/*.js'],
        languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.browser } },
        rules,
    },
    {
        files: ['tests/**/*.mjs'],
        languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
        rules,
    },
    {
        // page.evaluate() callbacks run in the browser
        files: ['tests/browser/**/*.mjs', 'tests/bench/browser_*.mjs'],
        languageOptions: { globals: { ...globals.browser } },
    },
];
