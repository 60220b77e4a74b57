import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemKeyParts, WriteOptions } from "../coordinator/item-operations.js";
import type { StoreResult } from "../replica/store-result.js";
import { simItemsCluster, type SimItemsCluster } from "./sim-items-cluster.test-support.js";

// A wiped acceptor (a node back on an empty data directory, its relearn unfinished) must not
// answer a strong Scan/Query from its empty store: with one other acceptor it would make a
// "majority" that holds nothing of a write the wiped node had accepted. Three simulated nodes,
// n=3; the wiped node's relearn never finishes here (the sim cluster knows no strong table's
// n, so the pass stops at the first key), so the test sees the relearning state throughout.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const table: TableDefinition = { name: "ledger", id: 12, replication: { n: 3, r: 2, w: 2 }, consistency: "strong", conflicts: "siblings", createdAtMs: 0 };
const blind: WriteOptions = { quorum: {}, condition: {} };
const write = (text: string) => ({ value: encoder.encode(text), contentType: "text/plain", metadata: {}, expiresAtMs: null });
const key = (pk: string, sk: string): ItemKeyParts => ({ partitionKey: encoder.encode(pk), sortKey: encoder.encode(sk) });

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

const items = (c: SimItemsCluster, id: string) => c.node(id).items.coordinator;
const names = (page: { items: { key: ItemKeyParts }[] }) => page.items.map((item) => decoder.decode(item.key.sortKey));

/** n2 and n3 accept "a" (n1 is cut off), then n3 loses its disk and restarts relearning. */
async function wipedAfterWrite(seed: number): Promise<SimItemsCluster> {
  const c = await simItemsCluster(seed, { acceptorDisk: (id, incarnation) => (id === "n3" && incarnation > 1 ? { fresh: false, unfinished: true } : undefined) });
  c.sim.network.isolate("n1");
  ok(await c.sim.settle(items(c, "n2").put(table, key("user", "a"), write("accepted by n2 and n3"), blind)));
  c.sim.network.heal();
  c.sim.crash("n3");
  const disk = c.sim.node("n3").engine;
  const everything = [...disk.range({})].map((entry) => ({ type: "delete" as const, key: entry.key }));
  await c.sim.settle(disk.write(everything, { durable: true }));
  await c.sim.restart("n3");
  await c.sim.runUntil(c.sim.now() + 1_000);
  assert.equal(c.node("n3").items.relearn.gated, true, "n3 is relearning");
  return c;
}

test("a strong list or query does not count a relearning acceptor: with the only other holder down it is Unavailable, not an answer without the write", async () => {
  const c = await wipedAfterWrite(61);
  c.sim.network.isolate("n2");
  const list = await c.sim.settle(items(c, "n1").list(table, { prefix: new Uint8Array(0), limit: 10 }));
  assert.ok(!list.ok && list.error.code === "Unavailable", `n1 and the wiped n3 are no majority that can list: ${JSON.stringify(list)}`);
  assert.match(list.ok ? "" : list.error.message, /relearning/);
  const query = await c.sim.settle(items(c, "n1").query(table, { partitionKey: encoder.encode("user"), reverse: false, limit: 10, consistency: "strong" }));
  assert.ok(!query.ok && query.error.code === "Unavailable", JSON.stringify(query));
  c.sim.network.heal();
});

test("a strong list or query through the relearning node, or with it up, uses the other acceptors and finds the write", async () => {
  const c = await wipedAfterWrite(62);
  for (const via of ["n1", "n3"]) {
    const list = ok(await c.sim.settle(items(c, via).list(table, { prefix: new Uint8Array(0), limit: 10 })));
    assert.deepEqual(names(list), ["a"], `list through ${via}`);
    const query = ok(await c.sim.settle(items(c, via).query(table, { partitionKey: encoder.encode("user"), reverse: false, limit: 10, consistency: "strong" })));
    assert.deepEqual(names(query), ["a"], `strong query through ${via}`);
    const eventual = ok(await c.sim.settle(items(c, via).query(table, { partitionKey: encoder.encode("user"), reverse: false, limit: 10, consistency: "eventual" })));
    assert.deepEqual(names(eventual), ["a"], `an eventual query through ${via} skips its empty local store too`);
  }
  assert.equal(c.node("n3").items.relearn.gated, true, "still relearning throughout");
});
