import { test } from "node:test";
import assert from "node:assert/strict";
import { describeDynamoSystems, dynamoScenarios, dynamoTargetChecks, formatDynamoRatios, formatDynamoTable, formatDynamoTargets, selectScenarios, summarizeDynamo, type DynamoRunResult, type DynamoScenarioId } from "./dynamodb-benchmark.js";
import type { DynamoSystemName } from "./dynamodb-systems.js";
import type { LoadResult } from "./load-spec.js";

function result(opsPerSec: number, p999Us: number): LoadResult {
  return { ops: Math.round(opsPerSec), errors: 0, firstError: null, durationMs: 1000, opsPerSec, latency: { p50Us: p999Us / 4, p99Us: p999Us / 2, p999Us, maxUs: p999Us, meanUs: p999Us / 4 }, loadCpuPct: 50, serverCpuPct: 90 };
}

function run(system: DynamoSystemName, id: DynamoScenarioId, runNumber: number, opsPerSec: number, p999Us: number): DynamoRunResult {
  const scenario = dynamoScenarios().find((s) => s.id === id)!;
  return { system, scenario, concurrency: scenario.sdk ? 1 : 64, run: runNumber, result: result(opsPerSec, p999Us) };
}

test("the first GetItem scenario selected preloads the kv table; Query always preloads its own", () => {
  const all = selectScenarios(["put", "get", "get-consistent", "query", "sdk-put", "sdk-get"]);
  assert.deepEqual(all.map((s) => [s.id, s.preload]), [["put", false], ["get", true], ["get-consistent", false], ["query", true], ["sdk-put", false], ["sdk-get", false]]);
  const consistentOnly = selectScenarios(["get-consistent", "sdk-get"]);
  assert.deepEqual(consistentOnly.map((s) => [s.id, s.preload]), [["get-consistent", true], ["sdk-get", false]]);
  assert.deepEqual(selectScenarios(["sdk-get"]).map((s) => s.preload), [true]);
});

test("the summary keeps the median run by ops/s with its spread", () => {
  const rows = summarizeDynamo([run("shoal", "put", 1, 900, 5000), run("shoal", "put", 2, 1200, 9000), run("shoal", "put", 3, 1000, 7000)]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.median.opsPerSec, 1000);
  assert.equal(rows[0]!.median.latency.p999Us, 7000);
  assert.deepEqual([rows[0]!.opsPerSecMin, rows[0]!.opsPerSecMax, rows[0]!.runs], [900, 1200, 3]);
  assert.match(formatDynamoTable(rows, 3), /\| Shoal, 1 node \| PutItem \| 64 \| 1000 \| -10%\/\+20% \| 1.75 ms \| 3.50 ms \| 7.00 ms \|/);
  assert.match(formatDynamoTable(rows, 3), /\| 90% \| 50% \|$/m);
  const clientBound = summarizeDynamo([{ ...run("dynalite", "get", 1, 20_000, 3000), result: { ...result(20_000, 3000), loadCpuPct: 97 } }]);
  assert.match(formatDynamoTable(clientBound, 3), /\| dynalite \| GetItem \(eventual\) \|.*\| 97% \(client-bound\) \|$/m);
});

test("targets: 3x dynalite's ops/s and a lower p99.9, single node, PutItem and GetItem; each half judged alone", () => {
  const rows = summarizeDynamo([
    run("shoal", "put", 1, 30_000, 4000),
    run("dynalite", "put", 1, 10_000, 5000),
    run("shoal", "get", 1, 29_000, 6000),
    run("dynalite", "get", 1, 10_000, 5000),
    run("shoal-cluster", "get", 1, 50_000, 1000),
  ]);
  const checks = dynamoTargetChecks(rows);
  assert.deepEqual(checks.map((c) => c.met), [true, true, false, false]);
  const text = formatDynamoTargets(checks);
  assert.match(text, /- MET: single-node PutItem >= 3x dynalite ops\/s \(3.00x: 30.0k vs 10.0k ops\/s\)/);
  assert.match(text, /- MISSED: single-node GetItem \(eventual\) p99.9 below dynalite's \(6.00 ms vs 5.00 ms\)/);
  assert.match(formatDynamoRatios(rows, 3), /\| GetItem \(eventual\) \| 64 \| 2.90 \| 1.20 \| 5.00 \| 0.20 \|/);
});

test("a target whose other side did not run (or ran nothing) is unknown, not met", () => {
  const checks = dynamoTargetChecks(summarizeDynamo([run("shoal", "put", 1, 30_000, 4000), run("shoal", "get", 1, 0, 0), run("dynalite", "get", 1, 10_000, 5000)]));
  assert.deepEqual(checks.map((c) => [c.met, c.value]), [[null, "one side did not run"], [null, "one side did not run"]]);
  assert.match(formatDynamoTargets(checks), /^- \?: single-node PutItem/);
});

test("the systems' description says which driver sent the prepared requests and that dynalite does not fsync", () => {
  const lines = describeDynamoSystems({ systems: ["shoal", "dynalite"], members: 3, dynaliteStore: "leveldb", transport: "raw" }).join("\n");
  assert.match(lines, /through a minimal HTTP\/1.1 client .*`--driver raw`/);
  assert.match(lines, /dynalite [\d.]+ \(npm\): one Node process, LevelDB in a temporary directory .*no fsync/);
  assert.doesNotMatch(lines, /Shoal, 3 nodes/);
  assert.match(describeDynamoSystems({ systems: ["shoal-cluster"], members: 5, dynaliteStore: "memory", transport: "undici" }).join("\n"), /Shoal, 5 nodes: .*through undici \(`--driver undici`\)/s);
});
