import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { claimInitial, claimJoin } from "./claim.js";
import { movedPartitionCount, ringDiff } from "./ring-diff.js";
import { ringState, type RingState } from "./ring-state.js";

function ringOf(owners: string, version = 1): RingState {
  const members = [...new Set(owners)].sort().map((id) => ({ id }));
  return ringState({ version, partitionCount: owners.length, owners: [...owners], members });
}

test("ringDiff lists the partitions that change owner, ascending, with both owners", () => {
  assert.deepEqual(ringDiff(ringOf("abab"), ringOf("abcb", 2)), [{ partition: 2, from: "a", to: "c" }]);
  assert.deepEqual(ringDiff(ringOf("abcd"), ringOf("bacd", 2)), [
    { partition: 0, from: "a", to: "b" },
    { partition: 1, from: "b", to: "a" },
  ]);
});

test("identical owners mean nothing to transfer, whatever the versions", () => {
  assert.deepEqual(ringDiff(ringOf("abab"), ringOf("abab", 7)), []);
  assert.equal(movedPartitionCount(ringOf("abab"), ringOf("abab", 7)), 0);
});

test("ringDiff asserts when the partition counts differ", () => {
  assert.throws(() => ringDiff(ringOf("ab"), ringOf("abab")), AssertionError);
  assert.throws(() => movedPartitionCount(ringOf("ab"), ringOf("abab")), AssertionError);
});

test("law: applying the transfers to the old owners gives the new owners, and the count matches", () => {
  fc.assert(
    fc.property(fc.constantFrom(16, 64, 256), fc.integer({ min: 1, max: 12 }), (partitionCount, size) => {
      const members = Array.from({ length: size }, (_, i) => ({ id: `node-${i}` }));
      const before = claimInitial(members, { partitionCount });
      assert.ok(before.ok, "claim");
      const after = claimJoin(before.ring, { id: "newcomer" });
      assert.ok(after.ok, "join");
      const owners = [...before.ring.owners];
      const transfers = ringDiff(before.ring, after.ring);
      for (const t of transfers) {
        assert.equal(owners[t.partition], t.from);
        owners[t.partition] = t.to;
      }
      assert.deepEqual(owners, after.ring.owners);
      assert.equal(movedPartitionCount(before.ring, after.ring), transfers.length);
    }),
    { seed: 0xd1ff, numRuns: 100 },
  );
});
