import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member, MemberState } from "../membership/member.js";
import { claimInitial } from "../ring/claim.js";
import { planRing } from "../ring/ring-plan.js";
import { partitionShares, ringSettled, ringsEqual } from "../ring/ring-state.js";
import { claimRingHook, pendingChanges } from "./claim-ring.js";

const member = (id: string, state: MemberState): Member => ({ id, address: { host: "127.0.0.1", peerPort: 9000, clientPort: 8000 }, state, incarnation: 0 });
const hook = claimRingHook({ partitionCount: 64, transitions: true });
const ringOf = (...ids: string[]) => {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  return claimed.ring;
};

test("a joining member is claimed into a ring in transition, with a higher version, a fair share and the old owners kept", () => {
  const next = hook(ringOf("n1", "n2"), [member("n1", "up"), member("n2", "up"), member("n3", "joining")]);
  assert.ok(next !== undefined);
  assert.equal(next.version, 2);
  assert.deepEqual([...partitionShares(next).entries()].map(([id, n]) => `${id}:${n >= 21 ? "fair" : n}`), ["n1:fair", "n2:fair", "n3:fair"]);
  assert.deepEqual(next.previous?.owners, ringOf("n1", "n2").owners);
  assert.deepEqual(next.previous?.members.map((m) => m.id), ["n1", "n2"]);
});

test("while a ring is in transition further joins and leaves wait; once settled, the next change goes ahead", () => {
  const moving = hook(ringOf("n1", "n2"), [member("n1", "up"), member("n2", "up"), member("n3", "joining")]);
  assert.ok(moving?.previous !== undefined);
  const members = [member("n1", "up"), member("n2", "leaving"), member("n3", "up"), member("n4", "joining")];
  assert.equal(hook(moving, members), undefined);
  const settled = ringSettled(moving);
  const next = hook(settled, members);
  assert.deepEqual(next?.members.map((m) => m.id), ["n1", "n3", "n4"]);
  assert.equal(next?.version, settled.version + 1);
  assert.deepEqual(next?.previous?.members.map((m) => m.id), ["n1", "n2", "n3"]);
});

test("suspect and down members keep their partitions: a failure changes no ring", () => {
  assert.equal(hook(ringOf("n1", "n2", "n3"), [member("n1", "up"), member("n2", "suspect"), member("n3", "down")]), undefined);
});

test("a leaving member is claimed away", () => {
  const next = hook(ringOf("n1", "n2", "n3"), [member("n1", "up"), member("n2", "up"), member("n3", "leaving")]);
  assert.deepEqual(next?.members.map((m) => m.id), ["n1", "n2"]);
});

test("without a ring, the live members get a first ring of the configured partition count", () => {
  const first = hook(undefined, [member("n2", "joining"), member("n1", "joining"), member("n9", "down")]);
  assert.deepEqual(first?.members.map((m) => m.id), ["n1", "n2"]);
  assert.equal(first?.partitionCount, 64);
  assert.equal(first?.version, 1);
});

test("without transitions (a node that runs no ownership transfer) the new ring replaces the old at once", () => {
  const next = claimRingHook({ partitionCount: 64 })(ringOf("n1", "n2"), [member("n1", "up"), member("n2", "up"), member("n3", "joining")]);
  assert.deepEqual(next?.members.map((m) => m.id), ["n1", "n2", "n3"]);
  assert.equal(next?.previous, undefined);
});

// The ring race (strong simulator seed 68, eventual seed 1709): a replace committed at one
// leader, and a second leader (another view) still on the commit's base ring that sees the
// replacement node "joining". Both publish ring v+1; gossip keeps the smaller origin's.
test("a second leader on the commit's base ring builds the committed replace, not a plain join: both publish the same ring", () => {
  const base = ringOf("n1", "n2", "n3", "n4");
  const committed = [{ replace: ["n1", "n5"] as const }];
  const members = [member("n1", "suspect"), member("n2", "up"), member("n3", "up"), member("n4", "up"), member("n5", "joining")];
  const atCommitter = planRing(base, committed);
  assert.ok(atCommitter.ok);
  const withoutPlan = hook(base, members);
  assert.deepEqual(withoutPlan?.members.map((m) => m.id), ["n1", "n2", "n3", "n4", "n5"], "the race as it was: the dead n1 stays placed");
  const second = claimRingHook({ partitionCount: 64, transitions: true, committed: () => committed })(base, members);
  assert.ok(second !== undefined);
  assert.ok(ringsEqual(second, atCommitter.ring), "the same version with the same contents, whoever publishes it");
});

test("a ring built without the commit wins: once it settles, the leader rebuilds the commit on top of it", () => {
  const base = ringOf("n1", "n2", "n3", "n4");
  const committed = [{ replace: ["n1", "n5"] as const }];
  const members = [member("n1", "down"), member("n2", "up"), member("n3", "up"), member("n4", "up"), member("n5", "up")];
  const claimedIn = hook(base, [...members.slice(0, 4), member("n5", "joining")]);
  assert.ok(claimedIn !== undefined);
  const withCommit = claimRingHook({ partitionCount: 64, transitions: true, committed: () => committed });
  assert.equal(withCommit(claimedIn, members), undefined, "one change at a time: the winner's transition goes first");
  const settled = ringSettled(claimedIn);
  const next = withCommit(settled, members);
  assert.deepEqual(next?.members.map((m) => m.id), ["n2", "n3", "n4", "n5"], "the replace, restated as a leave of n1");
  assert.equal(next?.version, settled.version + 1);
  assert.equal(withCommit(ringSettled(next!), members), undefined, "nothing left to build once the ring shows it");
});

test("committed changes wait for the node they bring in to be live, and go before automatic joins", () => {
  const base = ringOf("n1", "n2", "n3");
  const withCommit = claimRingHook({ partitionCount: 64, transitions: true, committed: () => [{ join: "n4" }] });
  assert.equal(withCommit(base, [member("n1", "up"), member("n2", "up"), member("n3", "up"), member("n5", "joining")]), undefined);
  const next = withCommit(base, [member("n1", "up"), member("n2", "up"), member("n3", "up"), member("n4", "joining"), member("n5", "joining")]);
  assert.deepEqual(next?.members.map((m) => m.id), ["n1", "n2", "n3", "n4"]);
});

test("pendingChanges restates what a settled ring does not show yet", () => {
  const ring = ringOf("n1", "n2", "n3");
  assert.deepEqual(pendingChanges(ring, [{ join: "n3" }, { join: "n4" }]), [{ join: "n4" }]);
  assert.deepEqual(pendingChanges(ring, [{ leave: "n9" }, { leave: "n2" }]), [{ leave: "n2" }]);
  assert.deepEqual(pendingChanges(ring, [{ replace: ["n1", "n4"] }]), [{ replace: ["n1", "n4"] }]);
  assert.deepEqual(pendingChanges(ring, [{ replace: ["n1", "n2"] }]), [{ leave: "n1" }]);
  assert.deepEqual(pendingChanges(ring, [{ replace: ["n9", "n4"] }]), [{ join: "n4" }]);
  assert.deepEqual(pendingChanges(ring, [{ replace: ["n9", "n3"] }]), []);
});

test("the claim hook rebuilding a commit lists as departing the nodes it takes out that this leader believes running", () => {
  const base = ringOf("n1", "n2", "n3", "n4", "n5");
  const members = [member("n1", "down"), member("n2", "up"), member("n3", "up"), member("n4", "up"), member("n5", "up")];
  const withCommit = claimRingHook({ partitionCount: 64, transitions: true, committed: () => [{ replace: ["n1", "n5"] }, { leave: "n4" }] });
  const next = withCommit(base, members);
  assert.deepEqual(next?.members.map((m) => m.id), ["n2", "n3", "n5"]);
  assert.deepEqual(next?.departing, ["n4"], "n1 (dead, its replace restated as a leave) is no departure");
  const leaverSuspect = withCommit(base, members.map((m) => (m.id === "n4" ? member("n4", "suspect") : m)));
  assert.equal(leaverSuspect?.departing, undefined, "a leave of a node suspect is a removal");
});
