import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroup, benchMainPath, waitForExit } from "./shoal-process.js";

/**
 * `npm run bench -- --dynamodb --quick` against one Shoal node and dynalite produces figures:
 * every scenario of both systems ran operations without errors and has latencies, the table and
 * the target lines are printed, and the JSON file holds the rows. It asserts that numbers exist,
 * never what they are.
 */
const group = new ProcessGroup();
after(() => group.cleanUp());

interface SummaryRow {
  system: string;
  scenario: { id: string };
  concurrency: number;
  median: { ops: number; errors: number; firstError: string | null; opsPerSec: number; latency: { p50Us: number; p999Us: number; maxUs: number } };
}

const scenarioIds = ["get", "get-consistent", "put", "query", "sdk-get", "sdk-put"];

test("the quick DynamoDB benchmark against one Shoal node and dynalite prints a table and writes a results file with numbers", async () => {
  const resultsDir = group.tempDir("shoal-dynamodb-bench-smoke-");
  const args = ["--dynamodb", "--quick", "--systems", "shoal,dynalite", "--duration-s", "0.15", "--warmup-s", "0.05", "--keys", "100", "--results-dir", resultsDir];
  const child = spawn(process.execPath, [benchMainPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exit = await waitForExit(group, child, 120_000);
  assert.equal(exit.code, 0, `stdout: ${stdout}\nstderr: ${stderr}`);
  for (const system of ["Shoal, 1 node", "dynalite"]) {
    assert.match(stdout, new RegExp(`\\| ${system} \\| PutItem \\| 64 \\| \\d[\\d.]*k? \\| 1 run \\| [\\d.]+ (µs|ms) \\|`));
    assert.match(stdout, new RegExp(`\\| ${system} \\| SDK GetItem \\(eventual\\) \\| 1 \\| \\d[\\d.]*k? \\|`));
  }
  assert.match(stdout, /\| PutItem \| 64 \| \d+\.\d\d \| \d+\.\d\d \| n\/a \| n\/a \|/);
  assert.match(stdout, /- (MET|MISSED): single-node PutItem >= 3x dynalite ops\/s \(\d+\.\d\dx/);
  assert.match(stdout, /- (MET|MISSED): single-node GetItem \(eventual\) p99.9 below dynalite's/);

  const files = readdirSync(resultsDir).filter((name) => name.endsWith("-dynamodb.json"));
  assert.equal(files.length, 1);
  const results = JSON.parse(readFileSync(join(resultsDir, files[0]!), "utf8")) as { summary: SummaryRow[] };
  for (const system of ["shoal", "dynalite"]) {
    assert.deepEqual(results.summary.filter((row) => row.system === system).map((row) => row.scenario.id).sort(), scenarioIds);
  }
  for (const row of results.summary) {
    const where = `${row.system} ${row.scenario.id}`;
    assert.equal(row.median.errors, 0, `${where} had errors: ${row.median.firstError}`);
    assert.ok(row.median.ops > 0 && row.median.opsPerSec > 0, `${where} ran no operations`);
    assert.ok(row.median.latency.p50Us > 0 && row.median.latency.maxUs >= row.median.latency.p999Us, `${where} has no latencies`);
  }
});
