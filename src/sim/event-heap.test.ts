import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EventHeap } from "./event-heap.js";

test("event heap pops events in (time, seq) order whatever the insertion order", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 50 }), (times, dropSeqs) => {
      const heap = new EventHeap<{ timeMs: number; seq: number }>();
      times.forEach((timeMs, seq) => heap.push({ timeMs, seq }));
      const drop = new Set(dropSeqs);
      heap.removeWhere((e) => drop.has(e.seq));
      const out: Array<{ timeMs: number; seq: number }> = [];
      for (let e = heap.pop(); e !== undefined; e = heap.pop()) out.push(e);
      const expected = times
        .map((timeMs, seq) => ({ timeMs, seq }))
        .filter((e) => !drop.has(e.seq))
        .sort((a, b) => a.timeMs - b.timeMs || a.seq - b.seq);
      assert.deepEqual(out, expected);
    }),
    { numRuns: 200 },
  );
});
