import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createTable } from "../api/test-requests.js";
import { encodeItemKey } from "../storage/item-key.js";
import { eventually } from "../testing/eventually.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { ringOf, send, settled, TestNodeGroup } from "./node-group.test-support.js";
import { startTestNode, type TestNode } from "./test-node.js";

// A node replaced while it was down comes back with an old hint (issue 6, "no resurrection"):
// tombstone GC does not wait for a node outside the ring, so what it hands back could bring a
// collected delete back. The current members refuse its data messages, also after they restarted
// themselves (the refusal is durable: node/peer-dispatcher-refusals.ts); on in-process nodes over
// real TCP, its hint never reaches the key's replica.

const group = new TestNodeGroup();
const restarted: TestNode[] = [];
after(async () => {
  await Promise.all(restarted.map((t) => t.close().catch(() => undefined)));
  await group.closeAll();
});

test("a node replaced while down and restarted over its old storage cannot hand an old hint to a current member, even one that restarted since", async () => {
  const a = await group.start("a");
  const b = await group.start("b", { seed: a });
  const c = await group.start("c", { seed: a });
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });
  assert.equal((await send("POST", `${a.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  await createTable(a.url, "tab", { replication: { n: 3, r: 1, w: 1 } });
  await eventually("the table on every node", () => [a, b, c].every((t) => t.node.catalog.get("tab") !== undefined));
  const key = encodeItemKey(c.node.catalog.get("tab")!.id, new TextEncoder().encode("old-hint"));
  // c holds a hint for b with a value b never got (its delivery stopped, so it waits on disk).
  await c.node.items.delivery.stop();
  const old: Sibling = { value: new TextEncoder().encode("old"), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null };
  assert.ok((await c.node.items.hints.add({ target: "b", tableId: c.node.catalog.get("tab")!.id, key, set: dvvset.update(dvvset.newValue(old), dvvset.empty<Sibling>(), "c") }, { durable: true })).ok);
  const storage = c.storage;
  await group.stop(c);
  await eventually("a and b to see c down", () => [a, b].every((t) => t.node.cluster.membership.member("c")?.state === "down"), { deadlineMs: 30_000 });

  // c is replaced by d through the plan while it is down.
  const d = await group.start("d", { seed: a });
  await eventually("a to see d joining", () => a.node.cluster.membership.member("d")?.state === "joining");
  assert.equal((await send("POST", `${a.url}/v1/cluster/plan`, { replace: ["c", "d"] })).status, 200);
  const committed = await send("POST", `${a.url}/v1/cluster/commit`);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  await eventually("the ring to settle with d in place of c", () => settled([a, b, d], 3), { deadlineMs: 40_000 });
  assert.deepEqual(ringOf(a).members.map((m) => m.id).sort(), ["a", "b", "d"]);

  // b restarts over its storage: it must still refuse c (it held c down at the commit).
  const bStorage = b.storage;
  await group.stop(b);
  const b2 = await startTestNode({ storage: bStorage, config: { nodeId: "b", join: [`127.0.0.1:${a.node.peerPort}`] } });
  restarted.push(b2);
  await eventually("b back on the settled ring", () => settled([a, b2, d], 3) && a.node.cluster.membership.isUp("b"), { deadlineMs: 30_000 });

  // c comes back with its old ring, data and hint; its hint delivery runs and reaches b.
  const back = await startTestNode({ storage, config: { nodeId: "c", join: [`127.0.0.1:${a.node.peerPort}`] } });
  restarted.push(back);
  await eventually("c's hand-back to reach b", () => b2.node.cluster.dispatcher.refusedFrom > 0 || b2.node.items.replicas.fetch(key) !== undefined, { deadlineMs: 30_000 });
  assert.equal(b2.node.items.replicas.fetch(key), undefined, "the restarted b did not take the removed node's old hint");
  assert.equal(back.node.items.hints.count("b"), 1, "the hint stays with c, undelivered");
});
