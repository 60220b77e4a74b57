import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import type { RingState } from "../ring/ring-state.js";
import { encodeItemKey } from "../storage/item-key.js";
import { ringStrongPlacement } from "./ring-strong-placement.js";

const encoder = new TextEncoder();

function claimedRing(ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

test("a key's acceptors are the n distinct owners clockwise from its partition key's partition", () => {
  const ring = claimedRing(["n1", "n2", "n3", "n4", "n5"]);
  const placement = ringStrongPlacement(() => ring);
  for (const name of ["k0.0", "k1.3", "user:42", "k.final"]) {
    const partitionKey = encoder.encode(name);
    const placed = placement.acceptorsFor(encodeItemKey(2, partitionKey, encoder.encode("sort")), 3);
    assert.ok(placed !== undefined);
    assert.equal(placed.previous, undefined);
    assert.equal(placed.acceptors.length, 3);
    assert.equal(new Set(placed.acceptors).size, 3);
    // The walk starts at the owner of the partition the partition key (not the sort key) hashes to.
    assert.equal(placed.acceptors[0], ring.owners[partitionOf(partitionKey, ring.partitionCount)]);
  }
});

test("items of one partition key share their acceptors whatever their sort keys", () => {
  const ring = claimedRing(["n1", "n2", "n3", "n4"]);
  const placement = ringStrongPlacement(() => ring);
  const a = placement.acceptorsFor(encodeItemKey(2, encoder.encode("k"), encoder.encode("x")), 3);
  const b = placement.acceptorsFor(encodeItemKey(2, encoder.encode("k")), 3);
  assert.deepEqual(a, b);
});

test("a node without a ring cannot place keys, and a small cluster gives every member", () => {
  assert.equal(ringStrongPlacement(() => undefined).acceptorsFor(encodeItemKey(2, encoder.encode("k")), 3), undefined);
  const small = claimedRing(["n1", "n2"]);
  const placed = ringStrongPlacement(() => small).acceptorsFor(encodeItemKey(2, encoder.encode("k")), 3);
  assert.deepEqual([...(placed?.acceptors ?? [])].sort(), ["n1", "n2"]);
});
