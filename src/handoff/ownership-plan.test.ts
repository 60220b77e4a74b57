import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial, reclaim } from "../ring/claim.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringSettled, ringTransition } from "../ring/ring-state.js";
import { incomingPartitions, movingPartitionCount, receivingNodes } from "./ownership-plan.js";

const ids = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `n${i}` }));

function transition(size: number, nextSize: number, partitionCount: number) {
  const before = claimInitial(ids(size), { partitionCount });
  assert.ok(before.ok);
  const after = reclaim(before.ring, ids(nextSize));
  assert.ok(after.ok);
  return { before: before.ring, ring: ringTransition(before.ring, after.ring) };
}

test("a settled ring moves nothing", () => {
  const { ring } = transition(3, 4, 16);
  const settled = ringSettled(ring);
  assert.deepEqual(incomingPartitions(settled, "n3", 3), []);
  assert.deepEqual(receivingNodes(settled, 3), []);
  assert.equal(movingPartitionCount(settled, 3), 0);
});

test("a joining node receives partitions, from their old preference lists, and is among the receiving nodes", () => {
  const { before, ring } = transition(3, 4, 32);
  const incoming = incomingPartitions(ring, "n3", 3);
  assert.ok(incoming.length > 0);
  for (const { partition, sources } of incoming) {
    assert.deepEqual(sources, preferenceList(before, partition, 3));
    assert.ok(preferenceList(ring, partition, 3).includes("n3"));
  }
  assert.ok(receivingNodes(ring, 3).includes("n3"));
});

test("for any join or leave, a node receives a partition exactly when it entered the partition's list for some n, and the counts agree", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 4 }), (size, nextSize, nMax) => {
      const { before, ring } = transition(size, nextSize, 16);
      const receivers = receivingNodes(ring, nMax);
      const moving = new Set<number>();
      for (const { id } of ring.members) {
        const incoming = new Set(incomingPartitions(ring, id, nMax).map((p) => p.partition));
        for (let p = 0; p < ring.partitionCount; p++) {
          let gained = false;
          for (let n = 1; n <= nMax; n++) gained ||= preferenceList(ring, p, n).includes(id) && !preferenceList(before, p, n).includes(id);
          assert.equal(incoming.has(p), gained, `node ${id} partition ${p}`);
          if (gained) moving.add(p);
        }
        assert.equal(receivers.includes(id), incoming.size > 0);
      }
      assert.equal(movingPartitionCount(ring, nMax), moving.size);
    }),
    { numRuns: 60, seed: 8 },
  );
});
