import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member } from "./member.js";
import { ringLeader } from "./ring-leader.js";

const m = (id: string, state: Member["state"]): Member => ({ id, address: { host: id, peerPort: 1, clientPort: 2 }, state, incarnation: 0 });

test("the ring leader is the smallest up member, whatever the others' states", () => {
  assert.equal(ringLeader([m("n1", "down"), m("n3", "up"), m("n2", "suspect"), m("n0", "joining"), m("n4", "up")]), "n3");
});

test("while nobody is up, the smallest joining member leads (a booting cluster)", () => {
  assert.equal(ringLeader([m("n3", "joining"), m("n2", "joining"), m("n1", "leaving")]), "n2");
});

test("a cluster with nobody up or joining has no ring leader", () => {
  assert.equal(ringLeader([m("n1", "down"), m("n2", "leaving")]), undefined);
});
