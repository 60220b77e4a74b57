import { test } from "node:test";
import assert from "node:assert/strict";
import { alternateRuns, bounded, medianRow, type ProbeRow } from "./probe-runs.js";

test("variants alternate run by run: odd runs in order, even runs reversed", async () => {
  const seen: string[] = [];
  await alternateRuns(3, ["a", "b", "c"], (variant, run, index) => {
    seen.push(`${run}${variant}${index}`);
    return Promise.resolve();
  });
  assert.deepEqual(seen, ["1a0", "1b1", "1c2", "2c2", "2b1", "2a0", "3a0", "3b1", "3c2"]);
});

test("a median row takes the median of every figure and the sum of errors, and keeps extra fields", () => {
  const row = (opsPerSec: number, errors: number, switchesPerOp: number): ProbeRow & { switchesPerOp: number } => ({ root: "r", scenario: "put", opsPerSec, p50Ms: opsPerSec / 10, p999Ms: 1, cpuUsPerOp: 2 * opsPerSec, errors, switchesPerOp });
  const merged = medianRow([row(100, 1, 0.5), row(300, 0, 0.1), row(200, 2, 0.9)]);
  assert.deepEqual(merged, { root: "r", scenario: "put", opsPerSec: 200, p50Ms: 20, p999Ms: 1, cpuUsPerOp: 400, errors: 3, switchesPerOp: 0.5 });
  assert.throws(() => medianRow([]), /no rows/);
});

test("a flag out of bounds names the flag, the bounds and what was given", () => {
  assert.equal(bounded("5", "--runs", 1, 20), 5);
  assert.throws(() => bounded("0", "--runs", 1, 20), /--runs must be a number from 1 to 20; got "0"/);
  assert.throws(() => bounded("x", "--runs", 1, 20), /got "x"/);
});
