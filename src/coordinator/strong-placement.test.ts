import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial, reclaim } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringSettled, ringTransition, type RingState } from "../ring/ring-state.js";
import { encodeItemKey } from "../storage/item-key.js";
import { ringStrongPlacement, strongAcceptors } from "./strong-placement.js";

const encoder = new TextEncoder();
const ids = (count: number, from = 0) => Array.from({ length: count }, (_, i) => ({ id: `n${from + i}` }));

function claimed(count: number, partitionCount = 32): RingState {
  const ring = claimInitial(ids(count), { partitionCount });
  assert.ok(ring.ok);
  return ring.ring;
}

function joined(ring: RingState, count: number): RingState {
  const next = reclaim(ring, ids(count));
  assert.ok(next.ok);
  return ringTransition(ring, next.ring);
}

test("on a settled ring a key's acceptors are its n primaries and there is no previous set", () => {
  const ring = claimed(4);
  const key = encodeItemKey(2, encoder.encode("user:1"), encoder.encode("s"));
  const placed = ringStrongPlacement(() => ring).acceptorsFor(key, 3);
  assert.deepEqual(placed, { acceptors: preferenceList(ring, partitionOf(encoder.encode("user:1"), ring.partitionCount), 3), ringVersion: ring.version });
});

test("the placement names the ring version its acceptors come from, and this node's version for its acceptor's fence", () => {
  let ring = claimed(3);
  const placement = ringStrongPlacement(() => ring);
  const key = encodeItemKey(2, encoder.encode("user:1"), encoder.encode("s"));
  assert.equal(placement.acceptorsFor(key, 3)?.ringVersion, ring.version);
  assert.equal(placement.ringVersion?.(), ring.version);
  ring = joined(ring, 4);
  assert.equal(placement.acceptorsFor(key, 3)?.ringVersion, ring.version);
  assert.equal(placement.ringVersion?.(), ring.version);
});

test("while a 3 -> 4 join moves partitions, a moved key's acceptors are the new list and its previous set the old list", () => {
  const before = claimed(3);
  const ring = joined(before, 4);
  let movedSeen = 0;
  for (let p = 0; p < ring.partitionCount; p++) {
    const placed = strongAcceptors(ring, p, 3);
    const was = preferenceList(before, p, 3);
    assert.deepEqual(placed.acceptors, preferenceList(ring, p, 3));
    if (placed.previous === undefined) {
      assert.deepEqual([...placed.acceptors].sort(), [...was].sort(), `partition ${p} moved but has no previous set`);
    } else {
      movedSeen++;
      assert.deepEqual(placed.previous, was);
    }
  }
  assert.ok(movedSeen > 0, "a join moved no replica set: the test shows nothing");
  assert.equal(strongAcceptors(ringSettled(ring), 0, 3).previous, undefined);
});

test("for any join or leave, every partition's acceptor sets are the new list plus the old one exactly when they differ", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), (size, nextSize, n) => {
      const before = claimed(size, 16);
      const next = reclaim(before, ids(nextSize));
      assert.ok(next.ok);
      const ring = ringTransition(before, next.ring);
      for (let p = 0; p < ring.partitionCount; p++) {
        const placed = strongAcceptors(ring, p, n);
        const was = preferenceList(before, p, n);
        const differs = was.length !== placed.acceptors.length || was.some((id) => !placed.acceptors.includes(id));
        assert.equal(placed.previous !== undefined, differs);
        if (differs) assert.deepEqual(placed.previous, was);
        assert.ok(placed.acceptors.length === Math.min(n, nextSize));
      }
    }),
    { numRuns: 100, seed: 6 },
  );
});
