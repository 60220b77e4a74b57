import { test, after } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../testing/eventually.js";
import { leavingMetaKey } from "./node-cluster.js";
import { ringOf, send, settled, TestNodeGroup } from "./node-group.test-support.js";
import { startTestNode, type TestNode } from "./test-node.js";

// A leave resumed after a restart (issue 6): on in-process nodes over real TCP, a node told to
// leave is killed in the step before it announces "leaving" (handing its hints on), after its
// ring settled without it; restarted over the same storage, it finishes the leave and exits
// instead of staying on unplaced (or being claimed back in as a joining node).

const group = new TestNodeGroup();
const restarted: TestNode[] = [];
after(async () => {
  await Promise.all(restarted.map((t) => t.close().catch(() => undefined)));
  await group.closeAll();
});

test("a leaver killed while handing its hints on and restarted over the same storage finishes the leave", async () => {
  const a = await group.start("a");
  const b = await group.start("b", { seed: a });
  const c = await group.start("c", { seed: a });
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });

  // The fault: c's hint drain never ends, as if the process died in it.
  let draining = false;
  c.node.items.delivery.drain = () => {
    draining = true;
    return new Promise(() => undefined);
  };
  assert.equal((await send("POST", `${a.url}/v1/cluster/plan`, { leave: "c" })).status, 200);
  const committed = await send("POST", `${a.url}/v1/cluster/commit`);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  await eventually("c in the step before leaving", () => draining, { deadlineMs: 30_000 });
  assert.ok(c.storage.get(leavingMetaKey) !== undefined, "c marked its leave durably before handing hints on");
  assert.ok(!ringOf(c).members.some((m) => m.id === "c") && ringOf(c).previous === undefined, "c holds the settled ring without itself");
  const storage = c.storage;
  await group.stop(c);

  const again = await startTestNode({ storage, config: { nodeId: "c", join: [`127.0.0.1:${a.node.peerPort}`] } });
  restarted.push(again);
  let left = false;
  void again.node.left.then(() => (left = true));
  await eventually("the restarted c to finish its leave", () => left, { deadlineMs: 30_000 });
  await eventually("a and b to see c leaving", () => [a, b].every((t) => t.node.cluster.membership.member("c")?.state === "leaving"), { deadlineMs: 30_000 });
  assert.ok(settled([a, b], 2), "the ring of a and b stayed settled");
  assert.deepEqual(ringOf(a).members.map((m) => m.id).sort(), ["a", "b"], "c was not claimed back in");
});
