import { test } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { createTable, errorCode, itemUrl, put } from "../api/test-requests.js";
import { eventually } from "../testing/eventually.js";
import { startTestNode } from "./test-node.js";

// Strong writes forwarded to the key's first live primary over the real peer transport
// (paxos/README.md, "Forwarding writes to the first primary"): two ShoalNodes in one process,
// a strong table with n = 2, every write sent through the second node.

test("strong puts and deletes through a node that is not the key's first primary are proposed at that primary, conditions included", async () => {
  const a = await startTestNode({ config: { nodeId: "a1" } });
  try {
    const b = await startTestNode({ config: { nodeId: "b2", join: [`127.0.0.1:${a.node.peerPort}`] } });
    try {
      await eventually("both nodes to see a settled ring of two", () => a.node.cluster.size() === 2 && b.node.cluster.size() === 2 && a.node.cluster.status().pendingTransfers === 0);
      await createTable(a.url, "strong", { consistency: "strong", replication: { n: 2, r: 2, w: 2 } });
      await eventually("the table to reach the second node", () => b.node.catalog.get("strong") !== undefined);
      for (let i = 0; i < 20; i++) assert.equal((await put(itemUrl(b.url, "strong", `k${i}`), `v${i}`)).status, 201);
      const forwarded = b.node.items.strong.forwardCounts.forwarded;
      assert.ok(forwarded > 0 && forwarded < 20, `some keys have a1 as their first primary (forwarded ${forwarded} of 20)`);
      assert.equal(a.node.items.strong.forwardCounts.served, forwarded, "a1 proposed every write b2 forwarded");
      for (let i = 0; i < 20; i++) assert.equal(await (await fetch(itemUrl(a.url, "strong", `k${i}`))).text(), `v${i}`);
      // Conditions travel with the write and are judged at the primary.
      for (let i = 0; i < 20; i++) {
        const again = await put(itemUrl(b.url, "strong", `k${i}`), "again", { "if-none-match": "*" });
        assert.equal(again.status, 412);
        assert.equal(await errorCode(again), "PreconditionFailed");
      }
      for (let i = 0; i < 20; i++) assert.equal((await fetch(itemUrl(b.url, "strong", `k${i}`), { method: "DELETE" })).status, 204);
      for (let i = 0; i < 20; i++) assert.equal((await fetch(itemUrl(a.url, "strong", `k${i}`))).status, 404);
      assert.equal(b.node.items.strong.forwardCounts.forwarded, 3 * forwarded);
      assert.equal(b.node.items.strong.forwardCounts.lost, 0);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
});
