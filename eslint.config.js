// ESLint flat config. Two jobs: keep TypeScript honest (floating promises are bugs in a
// replicated store), and keep the deterministic core deterministic (DESIGN.md, "the runtime
// seam"): nothing in a core folder may reach the clock, randomness, timers, sockets or files
// except through the Runtime it was given.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Folders whose code must run unchanged inside the simulator. */
export const coreFolders = [
  "ring",
  "membership",
  "versioning",
  "coordinator",
  "replica",
  "handoff",
  "anti-entropy",
  "paxos",
  "catalog",
  "checker",
  "cache",
  "queue",
];

const seamMessage = "core code is deterministic: use the Runtime (clock, timers, random, network, storage) instead";

export const coreRestrictions = {
  "no-restricted-globals": [
    "error",
    ...["Date", "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "queueMicrotask", "performance", "process", "fetch", "crypto"].map((name) => ({
      name,
      message: `${name} in a core folder: ${seamMessage}`,
    })),
  ],
  "no-restricted-properties": [
    "error",
    { object: "Math", property: "random", message: `Math.random in a core folder: ${seamMessage}` },
    { object: "process", property: "hrtime", message: `process.hrtime in a core folder: ${seamMessage}` },
    { object: "globalThis", property: "Date", message: `Date in a core folder: ${seamMessage}` },
    { object: "globalThis", property: "setTimeout", message: `setTimeout in a core folder: ${seamMessage}` },
  ],
  "no-restricted-imports": [
    "error",
    {
      paths: [
        "net", "node:net", "fs", "node:fs", "fs/promises", "node:fs/promises", "http", "node:http",
        "https", "node:https", "dgram", "node:dgram", "timers", "node:timers", "timers/promises",
        "node:timers/promises", "child_process", "node:child_process", "worker_threads", "node:worker_threads",
        "lmdb", "undici",
      ].map((name) => ({ name, message: `${name} in a core folder: ${seamMessage}` })),
    },
  ],
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "bench/results/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: {
        // The probes are virtual files the seam lint test (src/lint-seam.test.ts) lints.
        projectService: { allowDefaultProject: ["src/*/violation-probe.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", name: ["test", "it", "describe", "suite", "before", "after", "beforeEach", "afterEach"], package: "node:test" }] },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["**/*.{js,mjs}"],
    languageOptions: { globals: { console: "readonly", process: "readonly", URL: "readonly" } },
  },
  {
    files: coreFolders.map((f) => `src/${f}/**/*.ts`),
    ignores: ["**/*.test.ts"],
    rules: coreRestrictions,
  },
);
