import { test } from "node:test";
import assert from "node:assert/strict";
import { splitPairs } from "./partitions.js";

test("a majority/minority split cuts every link across the halves and none inside them", () => {
  assert.deepEqual(splitPairs([[0, 1], [2, 3, 4]]), [[0, 2], [0, 3], [0, 4], [1, 2], [1, 3], [1, 4]]);
});

test("a bridge split leaves the node in no group linked to both halves", () => {
  const pairs = splitPairs([[0, 1], [3, 4]]);
  assert.equal(pairs.length, 4);
  assert.ok(pairs.every(([a, b]) => a !== 2 && b !== 2));
});

test("isolating one node cuts exactly its links", () => {
  assert.deepEqual(splitPairs([[0], [1, 2]]), [[0, 1], [0, 2]]);
});
