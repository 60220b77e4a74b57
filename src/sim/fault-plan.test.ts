import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { faultKinds, planFaults } from "./fault-plan.js";

const nodeIds = ["n1", "n2", "n3", "n4", "n5"];

test("a fault plan is a pure function of its seed", () => {
  assert.deepEqual(planFaults(9, { nodeIds, safetyPhaseMs: 5000 }), planFaults(9, { nodeIds, safetyPhaseMs: 5000 }));
});

test("different seeds turn different subsets of faults on (swarm testing)", () => {
  const subsets = new Set<string>();
  const seen = new Set<string>();
  for (let seed = 0; seed < 100; seed++) {
    const plan = planFaults(seed, { nodeIds, safetyPhaseMs: 5000 });
    subsets.add(plan.enabled.join(","));
    for (const kind of plan.enabled) seen.add(kind);
  }
  assert.ok(subsets.size > 50, `only ${subsets.size} distinct subsets`);
  assert.deepEqual([...seen].sort(), [...faultKinds].sort());
});

test("a plan only uses the kinds it is allowed", () => {
  for (let seed = 0; seed < 50; seed++) {
    const plan = planFaults(seed, { nodeIds, safetyPhaseMs: 5000, kinds: ["crash", "loss"] });
    assert.ok(plan.enabled.every((k) => k === "crash" || k === "loss"));
    assert.ok(plan.events.every((e) => e.kind === "crash" || e.kind === "restart"));
    if (!plan.enabled.includes("loss")) assert.equal(plan.network.lossProbability, 0);
  }
});

test("fault events stay inside the safety phase, in order, and never crash more than crashedMax at once", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 7 }), (seed, size) => {
      const ids = nodeIds.concat(["n6", "n7"]).slice(0, size);
      const crashedMax = Math.max(1, Math.floor((size - 1) / 2));
      const plan = planFaults(seed, { nodeIds: ids, safetyPhaseMs: 10_000 });
      let previousMs = 0;
      const down = new Set<string>();
      let cloggedOrCut = 0;
      for (const event of plan.events) {
        assert.ok(event.atMs >= previousMs && event.atMs <= 10_000, `event at ${event.atMs}`);
        previousMs = event.atMs;
        if (event.kind === "crash") down.add(event.nodeId);
        if (event.kind === "restart") down.delete(event.nodeId);
        assert.ok(down.size <= crashedMax, `${down.size} nodes down at once`);
        if (event.kind === "clogLink") cloggedOrCut++;
        if (event.kind === "unclogLink") cloggedOrCut--;
      }
      assert.equal(down.size, 0, "every crashed node is restarted within the phase");
      assert.equal(cloggedOrCut, 0, "every clogged link is unclogged within the phase");
    }),
    { numRuns: 200 },
  );
});

test("a plan's parameters stay within their bounds", () => {
  for (let seed = 0; seed < 200; seed++) {
    const plan = planFaults(seed, { nodeIds, safetyPhaseMs: 5000 });
    assert.ok(plan.network.lossProbability <= 0.2 && plan.network.duplicateProbability <= 0.1);
    assert.ok(plan.network.delayMinMs <= plan.network.delayMaxMs);
    for (const e of plan.events) {
      if (e.kind === "clockJump") assert.ok(Math.abs(e.deltaMs) <= 2000);
      if (e.kind === "clockDrift") assert.ok(Math.abs(e.driftPpm) <= 200);
      if (e.kind === "bridge") assert.ok(!e.left.includes(e.bridgeNode) && !e.right.includes(e.bridgeNode) && e.left.length > 0 && e.right.length > 0);
    }
  }
});
