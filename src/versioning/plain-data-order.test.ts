import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { comparePlainData } from "./plain-data-order.js";

const runs = { seed: 0x5eed_0020, numRuns: 200 };
const sign = (n: number): number => Math.sign(n);

const { plain } = fc.letrec((tie) => ({
  plain: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -2, max: 2 }),
    fc.double({ noDefaultInfinity: true }),
    fc.string({ unit: fc.constantFrom("a", "b", "é"), maxLength: 3 }),
    fc.uint8Array({ max: 2, maxLength: 3 }),
    fc.array(tie("plain"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("k", "l", "é"), tie("plain"), { maxKeys: 3 }),
  ),
}));

test("comparePlainData is a total order: antisymmetric, transitive, reflexive", () => {
  fc.assert(
    fc.property(plain, plain, plain, (a, b, c) => {
      assert.equal(comparePlainData(a, a), 0);
      assert.equal(sign(comparePlainData(a, b)) + sign(comparePlainData(b, a)), 0);
      if (comparePlainData(a, b) <= 0 && comparePlainData(b, c) <= 0) assert.ok(comparePlainData(a, c) <= 0);
    }),
    runs,
  );
});

// Same-shaped pairs, so that "equal keys, different values" and the like are common.
const pairArb = fc.oneof(
  fc.tuple(plain, plain),
  fc.tuple(fc.dictionary(fc.constantFrom("k", "l"), plain, { maxKeys: 2 }), fc.dictionary(fc.constantFrom("k", "l"), plain, { maxKeys: 2 })),
  fc.tuple(fc.array(plain, { maxLength: 2 }), fc.array(plain, { maxLength: 2 })),
);

test("comparePlainData calls values equal exactly when they are structurally equal", () => {
  fc.assert(
    fc.property(pairArb, ([a, b]) => {
      const copy: unknown = structuredClone(a);
      assert.equal(comparePlainData(a, copy), 0);
      let deepEqual = true;
      try {
        // Cloning gives null-prototype objects the ordinary prototype, which MessagePack ignores too.
        assert.deepStrictEqual(structuredClone(a), structuredClone(b));
      } catch {
        deepEqual = false;
      }
      // deepStrictEqual tells 0 from -0; the order, like MessagePack integers, does not.
      if (!Object.is(a, -0) && !Object.is(b, -0)) assert.equal(comparePlainData(a, b) === 0, deepEqual || (a === 0 && b === 0));
    }),
    runs,
  );
});

test("comparePlainData orders objects by content, not by key insertion order", () => {
  assert.equal(comparePlainData({ a: 1, b: [2] }, { b: [2], a: 1 }), 0);
  assert.ok(comparePlainData({ a: 1 }, { a: 2 }) < 0);
  assert.ok(comparePlainData(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])) < 0);
  assert.ok(comparePlainData(null, false) < 0 && comparePlainData("z", new Uint8Array()) < 0);
  assert.ok(comparePlainData(Number.NaN, -1) < 0 && comparePlainData(Number.NaN, Number.NaN) === 0);
  assert.ok(comparePlainData(2n, 3) < 0 && comparePlainData(4n, 3) > 0);
  assert.equal(comparePlainData(Buffer.from([7]), new Uint8Array([7])), 0);
});

test("comparePlainData refuses values that are not plain data", () => {
  assert.throws(() => comparePlainData(new Map(), new Map()), AssertionError);
  assert.throws(() => comparePlainData(new Date(0), {}), AssertionError);
});
