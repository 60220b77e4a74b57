import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RingKeeper } from "./ring-keeper.js";
import { compareRingStamps, parseRingStamp, type RingStamp } from "./ring-record.js";

const stamp = fc.option(fc.record({ version: fc.integer({ min: 0, max: 4 }), origin: fc.constantFrom("n1", "n2", "n3") }), { nil: null });

test("ring stamps are totally ordered: antisymmetric and transitive", () => {
  fc.assert(
    fc.property(stamp, stamp, stamp, (a, b, c) => {
      assert.ok(Math.sign(compareRingStamps(a, b)) === -Math.sign(compareRingStamps(b, a)));
      if (compareRingStamps(a, b) > 0 && compareRingStamps(b, c) > 0) assert.ok(compareRingStamps(a, c) > 0);
    }),
    { numRuns: 200 },
  );
});

test("a higher version wins; at equal versions the smaller origin wins; any ring beats none", () => {
  assert.ok(compareRingStamps({ version: 3, origin: "n9" }, { version: 2, origin: "n1" }) > 0);
  assert.ok(compareRingStamps({ version: 3, origin: "n1" }, { version: 3, origin: "n2" }) > 0);
  assert.ok(compareRingStamps({ version: 0, origin: "n1" }, null) > 0);
  assert.equal(compareRingStamps(null, null), 0);
});

test("a keeper fed the same rings in any order ends with the same ring", () => {
  const records = fc.array(fc.record({ version: fc.integer({ min: 0, max: 4 }), origin: fc.constantFrom("n1", "n2", "n3") }), { minLength: 1, maxLength: 8 })
    .chain((stamps) => fc.tuple(fc.constant(stamps), fc.shuffledSubarray(stamps, { minLength: stamps.length, maxLength: stamps.length })));
  fc.assert(
    fc.property(records, ([stamps, permuted]) => {
      const feed = (list: RingStamp[]) => {
        const keeper = new RingKeeper<{ version: number; by: string }>();
        for (const s of list) keeper.adopt({ ring: { version: s.version, by: s.origin }, origin: s.origin });
        return keeper.record;
      };
      assert.deepEqual(feed(stamps), feed(permuted));
    }),
    { numRuns: 150 },
  );
});

test("a keeper adopts only newer rings and tells its listeners", () => {
  const keeper = new RingKeeper<{ version: number }>();
  const adopted: number[] = [];
  keeper.onAdopt((r) => adopted.push(r.ring.version));
  assert.equal(keeper.adopt({ ring: { version: 2 }, origin: "n2" }), true);
  assert.equal(keeper.adopt({ ring: { version: 1 }, origin: "n1" }), false);
  assert.equal(keeper.adopt({ ring: { version: 2 }, origin: "n3" }), false);
  assert.equal(keeper.adopt({ ring: { version: 2 }, origin: "n1" }), true);
  assert.deepEqual(adopted, [2, 2]);
  assert.deepEqual(keeper.stamp, { version: 2, origin: "n1" });
});

test("parseRingStamp accepts null and stamps, and rejects the rest", () => {
  assert.equal(parseRingStamp(null), null);
  assert.deepEqual(parseRingStamp({ version: 4, origin: "n1" }), { version: 4, origin: "n1" });
  assert.equal(parseRingStamp({ version: -1, origin: "n1" }), undefined);
  assert.equal(parseRingStamp({ version: 1, origin: "" }), undefined);
  assert.equal(parseRingStamp(7), undefined);
});
