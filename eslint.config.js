// ESLint (flat config): `npm run lint`. The browser modules under web/static/js are
// served as they are (no bundler), so they are linted as browser ES modules; the tests
// run under Node.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    ignores: ["node_modules/", ".venv/", "web/static/vendor/", "build/", "var/", "recordings/"],
  },
  js.configs.recommended,
  {
    files: ["web/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
  },
  {
    files: ["tests/**/*.{js,mjs}", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.node,
    },
  },
];
