import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial, reclaim } from "../ring/claim.js";
import { ringHash } from "../ring/ring-hash.js";
import { ringTransition, type RingState } from "../ring/ring-state.js";
import { OwnershipLeader } from "./ownership-leader.js";
import { parseTransferDone, transferDoneMessage } from "./ownership-messages.js";
import { receivingNodes } from "./ownership-plan.js";

function moving(): RingState {
  const before = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(before.ok);
  const after = reclaim(before.ring, [{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }]);
  assert.ok(after.ok);
  return ringTransition(before.ring, after.ring);
}

test("the leader settles the ring once, when every receiving node reported for the current version", () => {
  const ring = moving();
  const published: RingState[] = [];
  const leader = new OwnershipLeader({ publishRing: (r) => void published.push(r) });
  const receivers = receivingNodes(ring, 3);
  assert.ok(receivers.length > 0);
  const hash = ringHash(ring);
  leader.reported(ring, receivers[0]!, ring.version - 1, hash, 3);
  leader.reported(ring, "stranger", ring.version, hash, 3);
  leader.reported(ring, receivers[0]!, ring.version, "another-ring", 3);
  assert.deepEqual(leader.reportedNodes(), []);
  for (const id of receivers) {
    assert.equal(published.length, 0, "settled before everyone reported");
    leader.reported(ring, id, ring.version, hash, 3);
  }
  assert.equal(published.length, 1);
  assert.equal(published[0]!.version, ring.version + 1);
  assert.equal(published[0]!.previous, undefined);
  leader.reported(ring, receivers[0]!, ring.version, hash, 3);
  leader.check(ring, 3);
  assert.equal(published.length, 1, "published twice");
});

test("handoff.done parses only well-formed messages", () => {
  assert.deepEqual(parseTransferDone(transferDoneMessage(4)), { type: "handoff.done", ringVersion: 4 });
  for (const bad of [null, 3, { type: "handoff.done" }, { type: "handoff.done", ringVersion: -1 }, { type: "handoff.done", ringVersion: 1.5 }, { type: "other", ringVersion: 1 }]) {
    assert.equal(parseTransferDone(bad), undefined, JSON.stringify(bad));
  }
});

test("a settled ring whose publication came to nothing is published again at the next check", async () => {
  const ring = moving();
  const attempts: RingState[] = [];
  let answer = { ok: false };
  const leader = new OwnershipLeader({ publishRing: (r) => (attempts.push(r), Promise.resolve(answer)) });
  for (const id of receivingNodes(ring, 3)) leader.reported(ring, id, ring.version, ringHash(ring), 3);
  assert.equal(attempts.length, 1);
  await Promise.resolve();
  await Promise.resolve();
  answer = { ok: true };
  leader.check(ring, 3);
  assert.equal(attempts.length, 2, "no majority decided the settled ring: the leader tries again");
  await Promise.resolve();
  await Promise.resolve();
  leader.check(ring, 3);
  assert.equal(attempts.length, 2, "published again after it was decided");
});
