import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroup, benchMainPath, waitForExit } from "./shoal-process.js";

/**
 * `npm run bench --quick` against Shoal alone produces figures: every scenario ran operations and
 * has latencies, and the JSON file holds them. It asserts that numbers exist, never what they are.
 */
const group = new ProcessGroup();
after(() => group.cleanUp());

interface SummaryRow {
  system: string;
  op: string;
  concurrency: number;
  median: { ops: number; errors: number; opsPerSec: number; latency: { p50Us: number; p999Us: number; maxUs: number } };
}

test("the quick benchmark against Shoal alone prints a table and writes a results file with numbers", async () => {
  const resultsDir = group.tempDir("shoal-bench-smoke-");
  const args = ["--quick", "--systems", "shoal", "--duration-s", "0.3", "--warmup-s", "0.1", "--value-bytes", "100", "--keys", "200", "--results-dir", resultsDir];
  const child = spawn(process.execPath, [benchMainPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exit = await waitForExit(group, child, 180_000);
  assert.equal(exit.code, 0, stderr);
  assert.match(stdout, /\| Shoal \(native REST, LMDB\) \| GET \| 100 B \| 64 \|/);

  const files = readdirSync(resultsDir).filter((name) => name.endsWith("-single-node.json"));
  assert.equal(files.length, 1);
  const results = JSON.parse(readFileSync(join(resultsDir, files[0]!), "utf8")) as { summary: SummaryRow[] };
  assert.deepEqual(results.summary.map((row) => `${row.system} ${row.op} ${row.concurrency}`).sort(), ["shoal get 1", "shoal get 64", "shoal put 1", "shoal put 64"]);
  for (const row of results.summary) {
    assert.ok(row.median.ops > 0 && row.median.opsPerSec > 0, `${row.op} x${row.concurrency} ran no operations`);
    assert.equal(row.median.errors, 0, `${row.op} x${row.concurrency} had errors`);
    assert.ok(row.median.latency.p50Us > 0 && row.median.latency.maxUs >= row.median.latency.p999Us);
  }
});
