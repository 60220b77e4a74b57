import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { reconnectDelayMs } from "./reconnect-backoff.js";
import { SeededRandom } from "../runtime/seeded-random.js";

const options = { backoffBaseMs: 50, backoffMaxMs: 5000 };

test("reconnect delay stays between half and all of the capped exponential delay", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer(), (failures, seed) => {
      const delay = reconnectDelayMs(failures, options, new SeededRandom(seed));
      const nominal = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** (failures - 1));
      assert.ok(delay >= nominal / 2 - 1 && delay <= nominal, `delay ${delay} for nominal ${nominal}`);
    }),
    { seed: 7, numRuns: 200 },
  );
});

test("reconnect delay grows with failures until the cap", () => {
  const fixed = { next: () => 0, int: () => 0, bytes: (n: number) => new Uint8Array(n) };
  const delays = [1, 2, 3, 4, 10, 100].map((f) => reconnectDelayMs(f, options, fixed));
  assert.deepEqual(delays, [25, 50, 100, 200, 2500, 2500]);
});

test("reconnect delays are jittered, so peers do not redial in lockstep", () => {
  const random = new SeededRandom(42);
  const delays = new Set(Array.from({ length: 20 }, () => reconnectDelayMs(6, options, random)));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
});
