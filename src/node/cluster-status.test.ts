import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member, MemberState } from "../membership/member.js";
import { movingPartitionCount } from "../handoff/ownership-plan.js";
import { claimInitial, reclaim } from "../ring/claim.js";
import { ringSettled, ringTransition } from "../ring/ring-state.js";
import { clusterStatus } from "./cluster-status.js";

const member = (id: string, state: MemberState, port: number, host = "127.0.0.1"): Member => ({ id, address: { host, peerPort: port + 1000, clientPort: port }, state, incarnation: 1 });

test("the status lists each member with its addresses, state and owned partitions, and the ring version", () => {
  const claimed = claimInitial([{ id: "a" }, { id: "b" }], { partitionCount: 16 });
  assert.ok(claimed.ok);
  const status = clusterStatus("a", [member("a", "up", 8000), member("b", "suspect", 8001), member("c", "joining", 8002, "::1")], claimed.ring);
  assert.deepEqual(status, {
    self: "a",
    ringVersion: 1,
    partitionCount: 16,
    members: [
      { id: "a", address: "127.0.0.1:9000", clientUrl: "http://127.0.0.1:8000", state: "up", partitions: 8 },
      { id: "b", address: "127.0.0.1:9001", clientUrl: "http://127.0.0.1:8001", state: "suspect", partitions: 8 },
      { id: "c", address: "[::1]:9002", clientUrl: "http://[::1]:8002", state: "joining", partitions: 0 },
    ],
    pendingTransfers: 0,
  });
});

test("without a ring the version is 0 and nobody owns partitions; ring members the view lacks are listed down", () => {
  assert.equal(clusterStatus("a", [member("a", "joining", 8000)], undefined).ringVersion, 0);
  const claimed = claimInitial([{ id: "a" }, { id: "z" }], { partitionCount: 16 });
  assert.ok(claimed.ok);
  const status = clusterStatus("a", [member("a", "up", 8000)], claimed.ring);
  assert.deepEqual(status.members.map((m) => `${m.id}:${m.state}:${m.partitions}`), ["a:up:8", "z:down:8"]);
  assert.equal(status.members.reduce((sum, m) => sum + m.partitions, 0), 16);
});

test("while the ring is in transition, pendingTransfers counts the partitions still moving; a settled ring has none", () => {
  const before = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(before.ok);
  const after = reclaim(before.ring, [{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }]);
  assert.ok(after.ok);
  const moving = ringTransition(before.ring, after.ring);
  const members = ["a", "b", "c", "d"].map((id, i) => member(id, "up", 8000 + i));
  const status = clusterStatus("a", members, moving, 3);
  assert.equal(status.pendingTransfers, movingPartitionCount(moving, 3));
  assert.ok(status.pendingTransfers > 0 && status.pendingTransfers <= 16, `pending ${status.pendingTransfers}`);
  assert.equal(clusterStatus("a", members, ringSettled(moving), 3).pendingTransfers, 0);
});
