import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SeededRandom } from "../runtime/seeded-random.js";
import { AssertionError } from "../assert.js";
import { isValidPartitionCount, partitionCountDefault, partitionOf, partitionOfPosition, ringPosition } from "./partition-hash.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Pearson's chi-square statistic of `counts` against a uniform spread. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + ((c - expected) * (c - expected)) / expected, 0);
}

/** The chi-square value a uniform spread exceeds with probability 0.001 (Wilson-Hilferty). */
function chiSquareCritical(degreesOfFreedom: number): number {
  const z = 3.09;
  const k = degreesOfFreedom;
  return k * Math.pow(1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k)), 3);
}

function spread(keys: Iterable<Uint8Array>, partitionCount: number): number[] {
  const counts = new Array<number>(partitionCount).fill(0);
  for (const key of keys) counts[partitionOf(key, partitionCount)]!++;
  return counts;
}

/** At least 25 keys expected per partition keeps the chi-square approximation sound. */
const keysFor = (partitionCount: number): number => Math.min(partitionCount * 100, 102_400);

function* randomKeys(seed: number, count: number): Iterable<Uint8Array> {
  const random = new SeededRandom(seed);
  for (let i = 0; i < count; i++) yield random.bytes(8 + random.int(32)); // long enough that keys are distinct
}

function* sequentialKeys(prefix: string, count: number): Iterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield utf8(`${prefix}${i}`);
}

test("partitionOf is the top bits of the key's ring position", () => {
  const key = utf8("cart:42");
  const position = ringPosition(key);
  assert.equal(partitionOf(key, 256), position >>> 24);
  assert.equal(partitionOf(key, 2), position >>> 31);
  assert.equal(partitionOf(key, 4096), position >>> 20);
});

test("partitionOfPosition maps the ends of the hash space to the first and last partition", () => {
  assert.equal(partitionOfPosition(0, 64), 0);
  assert.equal(partitionOfPosition(0xffffffff, 64), 63);
  assert.equal(partitionOfPosition(0x80000000, 2), 1);
  assert.equal(partitionOfPosition(0x7fffffff, 2), 0);
});

test("a ring of one partition puts every key in partition 0", () => {
  for (const key of sequentialKeys("k", 100)) assert.equal(partitionOf(key, 1), 0);
});

test("partitionOf rejects partition counts that are not powers of two in range", () => {
  for (const bad of [0, 3, 48, 255, 8192, -4, 1.5, Number.NaN]) {
    assert.equal(isValidPartitionCount(bad), false, `${bad}`);
    assert.throws(() => partitionOf(utf8("k"), bad), AssertionError);
  }
  assert.equal(isValidPartitionCount(partitionCountDefault), true);
});

test("doubling the partition count splits each partition in two (keys stay in the same half)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 11 }), (key, bits) => {
      const count = 2 ** bits;
      assert.equal(partitionOf(key, count * 2) >>> 1, partitionOf(key, count));
    }),
    { seed: 0x5107, numRuns: 200 },
  );
});

for (const partitionCount of [64, 256, 4096]) {
  test(`random keys spread evenly over ${partitionCount} partitions (chi-square, p = 0.001)`, () => {
    const counts = spread(randomKeys(partitionCount, keysFor(partitionCount)), partitionCount);
    const statistic = chiSquare(counts);
    assert.ok(statistic < chiSquareCritical(partitionCount - 1), `chi-square ${statistic.toFixed(1)} over ${partitionCount - 1} degrees of freedom`);
  });

  test(`sequential keys "user:0".."user:N" spread evenly over ${partitionCount} partitions`, () => {
    const counts = spread(sequentialKeys("user:", keysFor(partitionCount)), partitionCount);
    const statistic = chiSquare(counts);
    assert.ok(statistic < chiSquareCritical(partitionCount - 1), `chi-square ${statistic.toFixed(1)} over ${partitionCount - 1} degrees of freedom`);
  });
}

test("the chi-square check can fail: a skewed spread is rejected", () => {
  // Guards the checks above against being vacuous: a spread with a few hot and cold partitions,
  // as a hash that ignored some key bytes would give, fails the same bound.
  const counts = new Array<number>(256).fill(100);
  counts[0] = 400;
  counts[1] = 0;
  counts[2] = 0;
  counts[3] = 0;
  assert.ok(chiSquare(counts) > chiSquareCritical(255), `chi-square ${chiSquare(counts)} passed`);
});
