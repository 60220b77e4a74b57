import { test } from "node:test";
import assert from "node:assert/strict";
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

// The determinism of the core rests on a lint rule; this proves the rule fires.
const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

async function lintAs(relativePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, relativePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const violations: Array<[string, string]> = [
  ["Date.now", "export const t = Date.now();\n"],
  ["new Date", "export const d = new Date();\n"],
  ["Math.random", "export const r = Math.random();\n"],
  ["setTimeout", "setTimeout(() => undefined, 1);\n"],
  ["setInterval", "setInterval(() => undefined, 1);\n"],
  ["process.hrtime", "export const h = process.hrtime.bigint();\n"],
  ["node:net", 'import { createServer } from "node:net";\nexport const s = createServer;\n'],
  ["node:fs", 'import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n'],
  ["node:http", 'import { request } from "node:http";\nexport const q = request;\n'],
];

for (const [what, code] of violations) {
  test(`the seam lint rule rejects ${what} in a core folder`, async () => {
    const messages = await lintAs("src/ring/violation-probe.ts", code);
    assert.ok(
      messages.some((m) => m.includes("core folder")),
      `expected a seam violation for ${what}, got: ${JSON.stringify(messages)}`,
    );
  });
}

test("the seam lint rule allows the same code outside core folders", async () => {
  const messages = await lintAs("src/runtime/violation-probe.ts", "export const t = Date.now();\n");
  assert.deepEqual(messages.filter((m) => m.includes("core folder")), []);
});

test("the seam lint rule allows core code that uses the runtime", async () => {
  const code = 'import type { Runtime } from "../runtime/runtime.js";\nexport const now = (rt: Runtime): number => rt.clock.nowMs();\n';
  const messages = await lintAs("src/coordinator/violation-probe.ts", code);
  assert.deepEqual(messages, []);
});
