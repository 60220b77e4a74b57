import { test } from "node:test";
import assert from "node:assert/strict";
import { strongSeedFailures } from "./strong-seeds.js";

// A quarter of the 200 strong seeds `npm test` runs (see strong-scenario.test.ts).
test("CASPaxos stays linearizable under faults and answers again after healing on seeds 150-199", async () => {
  assert.deepEqual(await strongSeedFailures(150, 200), []);
});
