import { test } from "node:test";
import assert from "node:assert/strict";
import { formatReport } from "./fault-report.js";
import { planVerdict, type FaultRunResult } from "./fault-run.js";

function result(linearizable: boolean | "unknown", passed: boolean): FaultRunResult {
  return {
    plan: "short",
    seed: 1,
    nodes: 3,
    faults: ["kill"],
    timeline: [],
    errors: [],
    eventual: { writes: 10, acknowledged: 10, failed: 0, unknown: 0, lost: 0, resurrected: 0, phantoms: 0, findings: [], reads: { ok: 1, failed: 0 } },
    convergenceMs: 5,
    strong: { operations: 10, ok: 8, failed: 0, unknown: 2, linearizable, detail: "search budget (20000000 steps per key) spent on key st-5" },
    teeth: { acknowledged: 10, lost: 3 },
    passed,
    durationMs: 1000,
    nodeLogs: {},
  } as FaultRunResult;
}

test("an undecided strong history is reported as UNKNOWN, not PASS, and does not count as passed", () => {
  const unknown = result("unknown", false);
  assert.equal(planVerdict(unknown), "UNKNOWN");
  const text = formatReport([unknown], []);
  assert.match(text, /seed 1: UNKNOWN \(/);
  assert.match(text, /linearizable: unknown \(search budget/);
  assert.match(text, /0 of 1 plans passed \(1 UNKNOWN/);
  assert.equal(planVerdict(result(true, true)), "PASS");
  assert.equal(planVerdict(result(false, false)), "FAIL");
  assert.match(formatReport([result(true, true)], []), /seed 1: PASS \(.*\n(.*\n)*1 of 1 plans passed$/);
});
