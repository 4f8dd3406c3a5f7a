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
    ignores: ["web/static/js/logic/**"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
  },
  {
    // The pure logic the pages import and Node's test runner loads: no DOM or browser
    // globals (only what both have, such as timers), and relative imports only, since
    // "/static/js/..." exists only behind the server.
    files: ["web/static/js/logic/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals["shared-node-browser"], navigator: "off" },
    },
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^/", message: "logic/ modules import each other by relative path (./x.js)" }] },
      ],
    },
  },
  {
    files: ["tests/**/*.{js,mjs}", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.node,
    },
  },
];
