import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { claimInitial, claimJoin } from "./claim.js";
import { movedPartitionCount, replicaChanges, ringDiff } from "./ring-diff.js";
import { preferenceList } from "./preference-list.js";
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

test("replicaChanges names the nodes that join and leave each partition's replica set", () => {
  // d takes partition 2 from c. With n = 3, d joins every list that now reaches partition 2
  // before a third distinct owner: partitions 0..2, and 6 and 7 through the wrap past 0; c
  // leaves those lists, as its next partition (5) is too far along.
  const before = ringOf("abcabcab");
  const after = ringOf("abdabcab", 2);
  assert.deepEqual(
    replicaChanges(before, after, 3),
    [0, 1, 2, 6, 7].map((partition) => ({ partition, added: ["d"], removed: ["c"] })),
  );
});

test("replicaChanges with n = 1 is ringDiff", () => {
  const before = ringOf("abcabcab");
  const after = ringOf("abdabcdb", 2);
  assert.deepEqual(
    replicaChanges(before, after, 1),
    ringDiff(before, after).map((t) => ({ partition: t.partition, added: [t.to], removed: [t.from] })),
  );
});

test("law: each partition's new replica set is the old one minus removed plus added", () => {
  fc.assert(
    fc.property(fc.constantFrom(16, 64, 256), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), (partitionCount, size, n) => {
      const members = Array.from({ length: size }, (_, i) => ({ id: `node-${i}` }));
      const before = claimInitial(members, { partitionCount });
      assert.ok(before.ok, "claim");
      const after = claimJoin(before.ring, { id: "newcomer" });
      assert.ok(after.ok, "join");
      const changes = new Map(replicaChanges(before.ring, after.ring, n).map((c) => [c.partition, c]));
      for (let p = 0; p < partitionCount; p++) {
        const change = changes.get(p) ?? { added: [] as string[], removed: [] as string[] };
        const expected: Set<string> = new Set(preferenceList(before.ring, p, n).filter((id) => !change.removed.includes(id)).concat(change.added));
        assert.deepEqual(new Set(preferenceList(after.ring, p, n)), expected);
      }
    }),
    { seed: 0x4e71, numRuns: 60 },
  );
});
