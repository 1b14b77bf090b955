// ESLint for the live lab's native ES modules (lab/), their unit tests, and the book's own page
// scripts (book/_static/*.js) (`make lint`).
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['lab/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.worker },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_' }],
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: 'error',
      'max-lines': ['error', { max: 300 }],
    },
  },
  {
    files: ['book/_static/selfcheck.js', 'book/_static/theme_a11y.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
    rules: { 'prefer-const': 'error', 'no-var': 'error', eqeqeq: 'error' },
  },
  {
    files: ['lab/test/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
];
