import { test } from "node:test";
import assert from "node:assert/strict";
import { strongScenario } from "./strong-scenario.js";
import { strongSeedFailures } from "./strong-seeds.js";

// The strong path end to end under each seed's swarm of faults (issue 4, simulator bullet).
// `npm test` runs 200 seeds, split over strong-scenario-seeds.test.ts (0-99) and
// strong-scenario-seeds-2.test.ts (100-199) so the runner can run the halves side by side;
// `npm run sim -- --scenario strong --seeds N` runs more.

test("the workload on one atomic copy is linearizable on seeds 0-9, failures and unknown outcomes included", async () => {
  assert.deepEqual(await strongSeedFailures(0, 10, { register: "single-copy" }), []);
});

test("one atomic copy answering stale reads is caught with a counterexample", async () => {
  for (const seed of [0, 1, 2]) {
    const result = await strongScenario(seed, { register: "single-copy-stale-reads" });
    assert.equal(result.ok, false, `seed ${seed}: stale reads passed the checker (${result.summary})`);
    assert.match(result.ok ? "" : result.reason, /^not linearizable \(register\): key "k\d+\.\d+"/);
  }
});
