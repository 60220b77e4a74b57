import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree, merkleFanOut, merkleLeafSegments, segmentOf } from "./merkle-tree.js";

// The tree's laws: its hashes depend only on the set of (key, version hash) pairs it holds,
// not on the order of updates; an update is the removal of the old pair plus the addition of
// the new one; and a difference shows on exactly the path of the key's segment.

const pairArb = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.uint8Array({ minLength: 8, maxLength: 8 }));

function build(pairs: readonly (readonly [Uint8Array, Uint8Array])[]): MerkleTree {
  const tree = new MerkleTree();
  for (const [key, hash] of pairs) tree.update(key, undefined, hash);
  return tree;
}

function distinctKeys(pairs: [Uint8Array, Uint8Array][]): [Uint8Array, Uint8Array][] {
  const seen = new Set<string>();
  return pairs.filter(([key]) => !seen.has(key.join(",")) && seen.add(key.join(",")) !== undefined);
}

test("the root depends on the pairs held, not on the order they were added", () => {
  fc.assert(
    fc.property(fc.array(pairArb, { maxLength: 40 }).map(distinctKeys), fc.integer(), (pairs, shift) => {
      const rotated = pairs.map((_, i) => pairs[(i + Math.abs(shift)) % pairs.length]!);
      assert.deepEqual(build(pairs).root(), build(rotated).root());
      assert.deepEqual(build(pairs).hashes(2, range(merkleLeafSegments)), build(rotated).hashes(2, range(merkleLeafSegments)));
    }),
    { numRuns: 100, seed: 1 },
  );
});

test("updating a key to a new version equals building with the new version; removing it restores the tree", () => {
  fc.assert(
    fc.property(fc.array(pairArb, { minLength: 1, maxLength: 30 }).map(distinctKeys), fc.uint8Array({ minLength: 8, maxLength: 8 }), (pairs, fresh) => {
      const tree = build(pairs);
      const [key, old] = pairs[0]!;
      tree.update(key, old, fresh);
      assert.deepEqual(tree.root(), build([[key, fresh], ...pairs.slice(1)]).root());
      tree.update(key, fresh, undefined);
      assert.deepEqual(tree.root(), build(pairs.slice(1)).root());
    }),
    { numRuns: 100, seed: 2 },
  );
});

test("a differing key shows in the root, its top segment and its leaf segment only", () => {
  const pairs: [Uint8Array, Uint8Array][] = Array.from({ length: 500 }, (_, i) => [Uint8Array.of(i >> 8, i & 0xff, 7), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, i & 0xff)]);
  const a = build(pairs);
  const b = build(pairs);
  const key = pairs[123]![0];
  b.update(key, pairs[123]![1], Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
  assert.notDeepEqual(a.root(), b.root());
  const differingTops = range(merkleFanOut).filter((i) => !bytesEqual(a.hashes(1, [i]), b.hashes(1, [i])));
  const differingLeaves = range(merkleLeafSegments).filter((i) => !bytesEqual(a.hashes(2, [i]), b.hashes(2, [i])));
  assert.deepEqual(differingLeaves, [segmentOf(key)]);
  assert.deepEqual(differingTops, [segmentOf(key) >>> 5]);
});

test("setLeaf replaces a leaf's hash and keeps the root the XOR of the leaves", () => {
  const tree = build([[Uint8Array.of(1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1)]]);
  const segment = segmentOf(Uint8Array.of(1));
  tree.setLeaf(segment, 0, 0);
  assert.ok(tree.isEmpty());
  assert.deepEqual(tree.root(), new Uint8Array(8));
});

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
