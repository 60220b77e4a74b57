import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { httpDate } from "./http-date.js";

test("httpDate equals Date's UTC string of the whole second, memoised or not", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
      assert.equal(httpDate(ms), new Date(Math.floor(ms / 1000) * 1000).toUTCString());
      assert.equal(httpDate(ms), httpDate(ms - (ms % 1000)));
    }),
    { numRuns: 200, seed: 7 },
  );
});
