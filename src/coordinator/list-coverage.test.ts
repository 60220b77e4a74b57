import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { simItemsCluster } from "../node/sim-items-cluster.test-support.js";
import type { ItemWrite } from "../replica/item-write.js";

// A list asks every up member, and a member holds only the partitions it serves: with more
// members than the table's n, one member's page is not the table's. The page must wait for
// replies that hold every partition (cluster-coordinator.ts listTargets).

const encoder = new TextEncoder();
const table: TableDefinition = { name: "carts", id: 7, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const write: ItemWrite = { value: encoder.encode("v"), contentType: "text/plain", metadata: {}, expiresAtMs: null };

test("a list on five members of a table at n=3 returns every item through every member, page by page", async () => {
  const c = await simItemsCluster(5, { ids: ["n1", "n2", "n3", "n4", "n5"] });
  const keys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  for (const key of keys) {
    const put = await c.sim.settle(c.node("n1").items.coordinator.put(table, { partitionKey: encoder.encode(key) }, write, { quorum: { w: 3 }, condition: {} }));
    assert.ok(put.ok, JSON.stringify(put));
  }
  for (const id of ["n1", "n2", "n3", "n4", "n5"]) {
    const seen: string[] = [];
    let after: Uint8Array | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await c.sim.settle(c.node(id).items.coordinator.list(table, { prefix: new Uint8Array(0), limit: 7, ...(after ? { after: { partitionKey: after } } : {}) }));
      assert.ok(page.ok, JSON.stringify(page));
      seen.push(...page.value.items.map((item) => new TextDecoder().decode(item.key.partitionKey)));
      if (page.value.resumeAfter === null) break;
      after = page.value.resumeAfter.partitionKey;
    }
    assert.deepEqual(seen, keys, `the list through ${id}`);
  }
});
