import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes } from "./byte-order.js";
import { SortedByteMap } from "./sorted-byte-map.js";

// Enough keys that chunks split (past 512 entries) and empty out again.
const key = fc.integer({ min: 0, max: 3000 }).map((n) => Uint8Array.of(n >> 8, n & 0xff));
const op = fc.tuple(fc.boolean(), key);

test("the sorted map agrees with a model map after many inserts and deletes, across chunk splits", () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 500, maxLength: 4000 }), (ops) => {
      const map = new SortedByteMap();
      const model = new Map<string, Uint8Array>();
      for (const [isPut, k] of ops) {
        const name = String(k);
        const expected = model.get(name);
        if (isPut) {
          assert.deepEqual(map.set(k, k), expected);
          model.set(name, k);
        } else {
          assert.deepEqual(map.delete(k), expected);
          model.delete(name);
        }
      }
      const sorted = [...model.values()].sort(compareBytes);
      assert.equal(map.size, sorted.length);
      assert.deepEqual([...map.scan({}, false)].map((e) => e.key), sorted);
      assert.deepEqual([...map.scan({}, true)].map((e) => e.key), [...sorted].reverse());
      for (const k of sorted) assert.equal(map.get(k), k);
    }),
    { seed: 20241122, numRuns: 30 },
  );
});

test("a scan starts at a bound that falls between chunks", () => {
  const map = new SortedByteMap();
  for (let n = 0; n < 2000; n += 2) map.set(Uint8Array.of(n >> 8, n & 0xff), Uint8Array.of(1));
  for (let n = 1; n < 2000; n += 250) {
    const bound = Uint8Array.of(n >> 8, n & 0xff);
    const up = map.scan({ low: { key: bound, inclusive: true } }, false).next().value!;
    assert.deepEqual(up.key, Uint8Array.of((n + 1) >> 8, (n + 1) & 0xff));
    const down = map.scan({ high: { key: bound, inclusive: false } }, true).next().value!;
    assert.deepEqual(down.key, Uint8Array.of((n - 1) >> 8, (n - 1) & 0xff));
  }
});
