import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member, MemberState } from "../membership/member.js";
import { claimInitial } from "../ring/claim.js";
import { partitionShares } from "../ring/ring-state.js";
import { claimRingHook } from "./claim-ring.js";

const member = (id: string, state: MemberState): Member => ({ id, address: { host: "127.0.0.1", peerPort: 9000, clientPort: 8000 }, state, incarnation: 0 });
const hook = claimRingHook({ partitionCount: 64 });
const ringOf = (...ids: string[]) => {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  return claimed.ring;
};

test("a joining member is claimed into the ring at once, with a higher version and a fair share", () => {
  const next = hook(ringOf("n1", "n2"), [member("n1", "up"), member("n2", "up"), member("n3", "joining")]);
  assert.ok(next !== undefined);
  assert.equal(next.version, 2);
  assert.deepEqual([...partitionShares(next).entries()].map(([id, n]) => `${id}:${n >= 21 ? "fair" : n}`), ["n1:fair", "n2:fair", "n3:fair"]);
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
