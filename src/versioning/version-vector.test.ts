import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  concurrent,
  counterOf,
  coversDot,
  descends,
  dominates,
  mergeVersionVectors,
  versionVectorError,
  type VersionVector,
} from "./version-vector.js";

const runs = { seed: 0x5eed_0001, numRuns: 200 };

/** Canonical vectors over a few node ids, so that overlaps are common. */
const versionVectorArb: fc.Arbitrary<VersionVector> = fc
  .dictionary(fc.constantFrom("a", "b", "c", "d", "node-7", "é"), fc.integer({ min: 1, max: 6 }), { maxKeys: 6 })
  .map((counters) => Object.entries(counters).sort(([x], [y]) => (x < y ? -1 : 1)));

test("descends compares counters pointwise, treating a missing id as zero", () => {
  const a: VersionVector = [["a", 2], ["b", 1]];
  assert.equal(descends(a, [["a", 2]]), true);
  assert.equal(descends(a, [["a", 3]]), false);
  assert.equal(descends(a, [["c", 1]]), false);
  assert.equal(descends(a, []), true);
  assert.equal(descends([], a), false);
  assert.equal(dominates(a, [["b", 1]]), true);
  assert.equal(dominates(a, a), false);
  assert.equal(concurrent([["a", 1]], [["b", 1]]), true);
  assert.equal(counterOf(a, "b"), 1);
  assert.equal(counterOf(a, "z"), 0);
  assert.equal(coversDot(a, ["a", 2]), true);
  assert.equal(coversDot(a, ["a", 3]), false);
});

test("versionVectorError names unsorted, duplicate and zero entries", () => {
  assert.equal(versionVectorError([["a", 1], ["b", 2]]), undefined);
  assert.match(versionVectorError([["b", 1], ["a", 2]])!, /strictly ascending/);
  assert.match(versionVectorError([["a", 1], ["a", 2]])!, /strictly ascending/);
  assert.match(versionVectorError([["a", 0]])!, /counter 0/);
  assert.match(versionVectorError([["", 1]])!, /node id/);
  assert.match(versionVectorError([["a", 1.5]])!, /counter 1.5/);
});

test("merge is commutative, associative and idempotent", () => {
  fc.assert(
    fc.property(versionVectorArb, versionVectorArb, versionVectorArb, (a, b, c) => {
      assert.deepEqual(mergeVersionVectors(a, b), mergeVersionVectors(b, a));
      assert.deepEqual(mergeVersionVectors(mergeVersionVectors(a, b), c), mergeVersionVectors(a, mergeVersionVectors(b, c)));
      assert.deepEqual(mergeVersionVectors(a, a), a);
    }),
    runs,
  );
});

test("merge is the least upper bound and stays canonical", () => {
  fc.assert(
    fc.property(versionVectorArb, versionVectorArb, versionVectorArb, (a, b, c) => {
      const merged = mergeVersionVectors(a, b);
      assert.equal(versionVectorError(merged), undefined);
      assert.ok(descends(merged, a) && descends(merged, b));
      if (descends(c, a) && descends(c, b)) assert.ok(descends(c, merged));
    }),
    runs,
  );
});

test("descends is a partial order and dominates its strict part", () => {
  fc.assert(
    fc.property(versionVectorArb, versionVectorArb, (a, b) => {
      assert.ok(descends(a, a));
      if (descends(a, b) && descends(b, a)) assert.deepEqual(a, b);
      assert.equal(dominates(a, b), descends(a, b) && !descends(b, a));
      assert.equal(concurrent(a, b), !descends(a, b) && !descends(b, a));
      assert.ok(!(dominates(a, b) && dominates(b, a)));
    }),
    runs,
  );
});
