import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member, MemberState } from "../membership/member.js";
import { claimInitial } from "../ring/claim.js";
import { partitionShares, ringSettled } from "../ring/ring-state.js";
import { claimRingHook } from "./claim-ring.js";

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
