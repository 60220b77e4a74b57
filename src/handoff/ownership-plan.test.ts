import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial, reclaim } from "../ring/claim.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringSettled, ringTransition } from "../ring/ring-state.js";
import { planRing } from "../ring/ring-plan.js";
import { incomingPartitions, lostTablesOfPlan, majorityOf, movingPartitionCount, oldReplicasToRead, receivingNodes, transferOldAcceptors } from "./ownership-plan.js";

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

// Replacing a dead node (paxos/README.md, "Replacing a dead node"): how many old replicas a
// transfer reads, and the old acceptor set its strong read uses.

test("old replicas to read: a majority when nobody departed, ceil(n/2) of the others when some did, lost when fewer are left", () => {
  const none = () => false;
  assert.deepEqual(oldReplicasToRead(["a", "b"], none), { live: ["a", "b"], needed: 2, lost: false });
  assert.deepEqual(oldReplicasToRead(["a", "b", "c"], none), { live: ["a", "b", "c"], needed: 2, lost: false });
  const dead = (...ids: string[]) => (id: string) => ids.includes(id);
  assert.deepEqual(oldReplicasToRead(["a", "b"], dead("a")), { live: ["b"], needed: 1, lost: false }, "n=2: the survivor alone");
  assert.deepEqual(oldReplicasToRead(["a", "b", "c"], dead("c")), { live: ["a", "b"], needed: 2, lost: false });
  assert.deepEqual(oldReplicasToRead(["a", "b", "c", "d"], dead("d")), { live: ["a", "b", "c"], needed: 2, lost: false });
  assert.deepEqual(oldReplicasToRead(["a"], dead("a")), { live: [], needed: 0, lost: true }, "n=1: the dead node held everything");
  assert.deepEqual(oldReplicasToRead(["a", "b"], dead("a", "b")), { live: [], needed: 0, lost: true });
  assert.deepEqual(oldReplicasToRead(["a", "b", "c"], dead("a", "b")), { live: ["c"], needed: 1, lost: true });
});

test("the transfer's old acceptor set: every strict majority of it holds ceil(n/2) old acceptors, so it meets every majority of the old set, and never needs a departed one", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (k, deadFlags) => {
      const previous = Array.from({ length: k }, (_, i) => `n${i}`);
      const departed = (id: string) => deadFlags[Number(id.slice(1))] === true;
      const chosen = transferOldAcceptors(previous, departed);
      const old = oldReplicasToRead(previous, departed);
      const quorum = majorityOf(chosen.length);
      assert.ok(chosen.every((id) => previous.includes(id)));
      if (old.lost) {
        assert.deepEqual(chosen, old.live, "lost: every survivor, best effort");
        return;
      }
      // Any `quorum` of `chosen` meets any majority of `previous`.
      assert.ok(chosen.length === 0 || quorum + majorityOf(k) > k, `k=${k}: ${quorum} of ${chosen.join(",")} may miss a majority of the old set`);
      // The live ones alone reach it.
      assert.ok(chosen.filter((id) => !departed(id)).length >= quorum, `k=${k}: ${chosen.join(",")} needs a departed node`);
      if (!previous.some(departed)) assert.deepEqual(chosen, previous, "nobody departed: the whole set");
    }),
  );
  assert.deepEqual(transferOldAcceptors(["a", "b"], (id) => id === "a"), ["b"]);
  assert.deepEqual(transferOldAcceptors(["a", "b", "c", "d"], (id) => id === "a" || id === "b"), ["b", "c", "d"]);
  assert.deepEqual(transferOldAcceptors(["a", "b", "c"], (id) => id === "a"), ["a", "b", "c"]);
});

test("a plan that replaces or removes a dead node names the tables it would lose data of: n=1 tables, not n=2 or n=3 ones", () => {
  const before = claimInitial(ids(3), { partitionCount: 16 });
  assert.ok(before.ok);
  const planned = planRing(before.ring, [{ replace: ["n2", "n3"] }]);
  assert.ok(planned.ok, !planned.ok ? planned.error : "");
  const tables = [
    { name: "one", n: 1, strong: false },
    { name: "strong1", n: 1, strong: true },
    { name: "two", n: 2, strong: true },
    { name: "three", n: 3, strong: false },
  ];
  const down = (id: string) => id !== "n2";
  assert.deepEqual(lostTablesOfPlan(before.ring, planned.ring, tables, down).map((t) => t.name), ["one", "strong1"]);
  assert.deepEqual(lostTablesOfPlan(before.ring, planned.ring, tables, () => true), [], "a running node is read before it goes");
  const removed = planRing(before.ring, [{ leave: "n2" }]);
  assert.ok(removed.ok);
  assert.deepEqual(lostTablesOfPlan(before.ring, removed.ring, tables, down).map((t) => t.name), ["one", "strong1"], "removing it loses the same");
  const downTwo = (id: string) => id === "n0";
  const both = planRing(before.ring, [{ replace: ["n1", "n3"] }, { replace: ["n2", "n4"] }]);
  assert.ok(both.ok, !both.ok ? both.error : "");
  assert.deepEqual(lostTablesOfPlan(before.ring, both.ring, tables, downTwo).map((t) => t.name), ["one", "strong1", "two", "three"], "two of three dead: n=2 and n=3 lose too");
});
