import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultRegressionFile, loadRegressionSeeds, replayCommand, runSeeds } from "./run-seeds.js";
import type { Scenario } from "./scenario.js";
import { defaultScenarioName, scenarios } from "./scenarios.js";

const flaky: Scenario = async (seed) => {
  if (seed === 3) return { ok: false, reason: "lost an acknowledged write", traceHash: "abc", summary: "3 nodes" };
  if (seed === 4) throw new Error("replica exploded");
  return { ok: true, traceHash: `h${seed}`, summary: "fine" };
};

test("run-seeds prints each failing seed with its reason and the command that replays it", async () => {
  const lines: string[] = [];
  const report = await runSeeds({ scenarioName: "ping", scenario: flaky, seeds: [1, 2, 3, 4, 5], log: (l) => lines.push(l) });
  assert.equal(report.ran, 5);
  assert.equal(report.passed, 3);
  assert.deepEqual(report.failures.map((f) => f.seed), [3, 4]);
  assert.ok(lines.includes("seed 3 failed: lost an acknowledged write"));
  assert.ok(lines.includes("seed 4 failed: Error: replica exploded"), "a thrown scenario counts as a failure");
  assert.ok(lines.includes("  replay: npm run sim -- --seed 3"));
});

test("run-seeds runs the scenario's regression seeds first and can stop at the first failure", async () => {
  const ran: number[] = [];
  const recording: Scenario = async (seed) => {
    ran.push(seed);
    return flaky(seed);
  };
  const regressions = [{ scenario: "ping", seed: 9 }, { scenario: "other", seed: 8 }, { scenario: "ping", seed: 3 }];
  const report = await runSeeds({ scenarioName: "ping", scenario: recording, seeds: [1, 2], regressions, failFast: true });
  assert.deepEqual(ran, [9, 3]);
  assert.equal(report.failures.length, 1);
});

test("the replay command names the scenario unless it is the default", () => {
  assert.equal(replayCommand("cluster", 7, false), "npm run sim -- --seed 7 --scenario cluster");
  assert.equal(replayCommand("ping", 7), "npm run sim -- --seed 7");
});

test("the committed regression list loads, and a malformed one is refused", () => {
  assert.ok(Array.isArray(loadRegressionSeeds(defaultRegressionFile())));
  const dir = mkdtempSync(join(tmpdir(), "shoal-sim-"));
  try {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ scenario: "ping", seed: "x" }]));
    assert.throws(() => loadRegressionSeeds(bad), /bad regression entry/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the default scenario passes a bounded run of seeds, deterministically", async () => {
  const scenario = scenarios.get(defaultScenarioName)!;
  const seeds = [0, 1, 2, 3, 4, 5, 6, 7];
  const first = await runSeeds({ scenarioName: defaultScenarioName, scenario, seeds, regressions: loadRegressionSeeds() });
  assert.deepEqual(first.failures, []);
  const again = await runSeeds({ scenarioName: defaultScenarioName, scenario, seeds: [5] });
  assert.deepEqual(again.traceHashes, first.traceHashes.filter(([seed]) => seed === 5));
});
