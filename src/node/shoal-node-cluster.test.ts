import { test } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { createTable, itemUrl, put } from "../api/test-requests.js";
import { tableItemsPrefix } from "../storage/item-key.js";
import { eventually } from "../testing/eventually.js";
import { startTestNode, type TestNode } from "./test-node.js";

// Two ShoalNodes in one process over real TCP (port 0), joined by --join: the data path
// across nodes, through the REST front door.

async function twoNodes(): Promise<[TestNode, TestNode]> {
  const first = await startTestNode({ config: { nodeId: "a1" }, tombstoneGraceMs: 50 });
  try {
    const second = await startTestNode({ config: { nodeId: "b2", join: [`127.0.0.1:${first.node.peerPort}`] }, tombstoneGraceMs: 50 });
    await eventually("both nodes to see a ring of two", () => first.node.cluster.size() === 2 && second.node.cluster.size() === 2);
    return [first, second];
  } catch (error) {
    await first.close();
    throw error;
  }
}

function storedKeys(t: TestNode, table: string): number {
  return [...t.storage.range({ prefix: tableItemsPrefix(t.node.catalog.get(table)!.id), limit: 100 })].length;
}

test("two joined nodes serve each other's writes; a delete is reaped from both after the grace", async () => {
  const [a, b] = await twoNodes();
  try {
    await createTable(a.url, "shared", { replication: { n: 2, r: 1, w: 2 } });
    await eventually("the table to reach the second node", () => b.node.catalog.get("shared") !== undefined);
    assert.equal((await put(itemUrl(a.url, "shared", "k"), "from a")).status, 201);
    const read = await fetch(itemUrl(b.url, "shared", "k"));
    assert.equal(read.status, 200);
    assert.equal(await read.text(), "from a");
    assert.equal(storedKeys(a, "shared"), 1);
    assert.equal(storedKeys(b, "shared"), 1, "w=2 on n=2: both replicas hold the item");
    const context = read.headers.get("x-shoal-context")!;
    assert.equal((await fetch(itemUrl(b.url, "shared", "k"), { method: "DELETE", headers: { "x-shoal-context": context } })).status, 204);
    assert.equal((await fetch(itemUrl(a.url, "shared", "k"))).status, 404);
    // Tombstone GC measures the grace on the node's clock (a manual one here).
    for (const t of [a, b]) t.clock.advance(100);
    await eventually("tombstone GC on both replicas", () => storedKeys(a, "shared") === 0 && storedKeys(b, "shared") === 0);
  } finally {
    await b.close();
    await a.close();
  }
});

test("a replica that lost all its data and restarts with the same node id is rebuilt by anti-entropy, without reads", async () => {
  const a = await startTestNode({ config: { nodeId: "a1" }, antiEntropyIntervalMs: 100 });
  let b = await startTestNode({ config: { nodeId: "b2", join: [`127.0.0.1:${a.node.peerPort}`] }, antiEntropyIntervalMs: 100 });
  try {
    await eventually("both nodes to see a settled ring of two", () => a.node.cluster.size() === 2 && b.node.cluster.size() === 2 && a.node.cluster.status().pendingTransfers === 0);
    await createTable(a.url, "kept", { replication: { n: 2, r: 1, w: 2 } });
    await eventually("the table to reach the second node", () => b.node.catalog.get("kept") !== undefined);
    for (let i = 0; i < 40; i++) assert.equal((await put(itemUrl(a.url, "kept", `k${i}`), `v${i}`)).status, 201);
    assert.equal(storedKeys(b, "kept"), 40);
    await b.close();
    // A new, empty disk under the same node id: only anti-entropy can bring the items back.
    b = await startTestNode({ config: { nodeId: "b2", join: [`127.0.0.1:${a.node.peerPort}`] }, antiEntropyIntervalMs: 100 });
    await eventually("the table to reach the rebuilt node", () => b.node.catalog.get("kept") !== undefined);
    await eventually("anti-entropy to rebuild every item on the empty replica", () => storedKeys(b, "kept") === 40, { deadlineMs: 20_000 });
    const repaired = async (t: TestNode) => Number(/^shoal_anti_entropy_keys_repaired\{[^}]*\} (\d+)/m.exec(await t.node.metrics.text())?.[1] ?? 0);
    // A repair of one key can carry others in the same exchange, so the count is not exactly 40.
    assert.ok((await repaired(a)) + (await repaired(b)) > 0, "the keys came back through anti-entropy repairs");
    const read = await fetch(`${itemUrl(b.url, "kept", "k7")}?r=1`);
    assert.equal(await read.text(), "v7");
  } finally {
    await b.close();
    await a.close();
  }
});
