import { test } from "node:test";
import assert from "node:assert/strict";
import { eventualSeedFailures } from "./eventual-seeds.js";

// The second half of the 200 seeds `npm test` runs (see eventual-scenario.test.ts).
test("the eventual scenario loses no acknowledged write and converges on seeds 100-199", async () => {
  assert.deepEqual(await eventualSeedFailures(100, 200), []);
});
