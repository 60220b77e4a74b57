import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { simItemsCluster, type SimItemsCluster } from "../node/sim-items-cluster.test-support.js";
import type { ItemWrite } from "../replica/item-write.js";
import type { StoreResult } from "../replica/store-result.js";
import type { ItemKeyParts, ItemRead, ListPage, QueryRequest, WriteOptions } from "./item-operations.js";

// The ClusterCoordinator on three simulated nodes (n=3 r=2 w=2, 64 partitions) with the
// product's data path: what the front doors see through ItemOperations.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const table: TableDefinition = { name: "carts", id: 7, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const lwwTable: TableDefinition = { ...table, name: "latest", id: 8, conflicts: "lww" };
const blind: WriteOptions = { quorum: {}, condition: {} };

function key(text: string, sortKey?: string): ItemKeyParts {
  return sortKey === undefined ? { partitionKey: encoder.encode(text) } : { partitionKey: encoder.encode(text), sortKey: encoder.encode(sortKey) };
}

function write(text: string, extra: Partial<ItemWrite> = {}): ItemWrite {
  return { value: encoder.encode(text), contentType: "text/plain", metadata: {}, expiresAtMs: null, ...extra };
}

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function texts(read: ItemRead): string[] {
  return read.siblings.map((s) => decoder.decode(s.value)).sort();
}

function items(c: SimItemsCluster, id: string) {
  return c.node(id).items.coordinator;
}

test("blind writes on two nodes become siblings whose versions every node names alike; a write with the read's context replaces them", async () => {
  const c = await simItemsCluster(11);
  ok(await c.sim.settle(items(c, "n1").put(table, key("cart"), write("apple", { metadata: { who: "ann" } }), blind)));
  ok(await c.sim.settle(items(c, "n3").put(table, key("cart"), write("pear"), blind)));
  const reads = await c.sim.settle(Promise.all(["n1", "n2", "n3"].map((id) => items(c, id).get(table, key("cart"), { quorum: { r: 3 } }))));
  const versions = reads.map((read) => ok(read).siblings.map((s) => s.version).sort());
  assert.deepEqual(texts(ok(reads[0]!)), ["apple", "pear"]);
  assert.equal(new Set(versions[0]).size, 2);
  assert.deepEqual(versions[1], versions[0]);
  assert.deepEqual(versions[2], versions[0]);
  assert.deepEqual(ok(reads[0]!).siblings.find((s) => decoder.decode(s.value) === "apple")!.metadata, { who: "ann" });
  const context = ok(reads[1]!).context;
  assert.notEqual(context, "");
  const merged = ok(await c.sim.settle(items(c, "n2").put(table, key("cart"), write("both"), { ...blind, context })));
  assert.equal(merged.created, false);
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n1").get(table, key("cart"), { quorum: {} })))), ["both"]);
});

test("a read of a key nobody wrote is empty with an empty context; a malformed context is a bad request", async () => {
  const c = await simItemsCluster(12);
  const read = ok(await c.sim.settle(items(c, "n1").get(table, key("nobody"), { quorum: {} })));
  assert.deepEqual(read, { siblings: [], context: "" });
  const refused = await c.sim.settle(items(c, "n1").put(table, key("k"), write("x"), { ...blind, context: "%%%not-a-context" }));
  assert.ok(!refused.ok && refused.error.code === "BadRequest" && /causal context/.test(refused.error.message), JSON.stringify(refused));
});

test("a last-writer-wins table keeps only the later of two blind writes", async () => {
  const c = await simItemsCluster(13);
  ok(await c.sim.settle(items(c, "n1").put(lwwTable, key("k"), write("first"), blind)));
  await c.sim.runUntil(c.sim.now() + 10);
  ok(await c.sim.settle(items(c, "n3").put(lwwTable, key("k"), write("second"), blind)));
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n2").get(lwwTable, key("k"), { quorum: { r: 3 } })))), ["second"]);
});

test("conditions are checked against a quorum read: If-None-Match * creates once, If-Match needs a current version", async () => {
  const c = await simItemsCluster(14);
  const created = ok(await c.sim.settle(items(c, "n1").put(table, key("k"), write("one"), { ...blind, condition: { ifNoneMatch: "*" } })));
  assert.equal(created.created, true);
  const again = await c.sim.settle(items(c, "n2").put(table, key("k"), write("two"), { ...blind, condition: { ifNoneMatch: "*" } }));
  assert.ok(!again.ok && again.error.code === "PreconditionFailed", JSON.stringify(again));
  const stale = await c.sim.settle(items(c, "n2").put(table, key("k"), write("two"), { ...blind, condition: { ifMatch: ["n9~1"] } }));
  assert.ok(!stale.ok && stale.error.code === "PreconditionFailed");
  const replaced = ok(await c.sim.settle(items(c, "n3").put(table, key("k"), write("two"), { ...blind, condition: { ifMatch: [created.item.version] } })));
  assert.equal(replaced.created, false);
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n1").get(table, key("k"), { quorum: {} })))), ["two"]);
  const missing = await c.sim.settle(items(c, "n1").delete(table, key("absent"), { ...blind, condition: { ifMatch: "*" } }));
  assert.ok(!missing.ok && missing.error.code === "PreconditionFailed");
});

test("concurrent If-None-Match * writes through one node create the item once", async () => {
  const c = await simItemsCluster(15);
  const results = await c.sim.settle(Promise.all(Array.from({ length: 8 }, (_, i) => items(c, "n2").put(table, key("race"), write(`w${i}`), { ...blind, condition: { ifNoneMatch: "*" } }))));
  assert.equal(results.filter((r) => r.ok).length, 1);
});

test("a delete without a context deletes what its read saw and reports whether anything existed", async () => {
  const c = await simItemsCluster(16);
  ok(await c.sim.settle(items(c, "n1").put(table, key("a"), write("x"), blind)));
  ok(await c.sim.settle(items(c, "n2").put(table, key("a"), write("y"), blind)));
  assert.deepEqual(ok(await c.sim.settle(items(c, "n3").delete(table, key("a"), blind))), { existed: true });
  assert.deepEqual(ok(await c.sim.settle(items(c, "n1").get(table, key("a"), { quorum: {} }))).siblings, []);
  assert.deepEqual(ok(await c.sim.settle(items(c, "n1").delete(table, key("a"), blind))), { existed: false });
});

test("quorum overrides are checked against n, and a write that cannot reach w fails naming the acknowledgements", async () => {
  const c = await simItemsCluster(17);
  const tooMany = await c.sim.settle(items(c, "n1").get(table, key("k"), { quorum: { r: 4 } }));
  assert.ok(!tooMany.ok && tooMany.error.code === "BadRequest" && /r=4 exceeds n=3/.test(tooMany.error.message), JSON.stringify(tooMany));
  c.sim.crash("n2");
  c.sim.crash("n3");
  await c.sim.runUntil(c.sim.now() + 3_000);
  const failed = await c.sim.settle(items(c, "n1").put(table, key("k"), write("lonely"), blind));
  assert.ok(!failed.ok && failed.error.code === "Unavailable", JSON.stringify(failed));
  assert.match(failed.error.message, /cannot write: 1 of 2 required acknowledgements/);
  ok(await c.sim.settle(items(c, "n1").put(table, key("k"), write("alone"), { ...blind, quorum: { w: 1 } })));
  const read = await c.sim.settle(items(c, "n1").get(table, key("k"), { quorum: {} }));
  assert.ok(!read.ok && read.error.code === "Unavailable" && /cannot read: 1 of 2 required replies/.test(read.error.message), JSON.stringify(read));
  // Unavailable means "not acknowledged", not "not stored": the coordinator kept its own copy.
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n1").get(table, key("k"), { quorum: { r: 1 } })))), ["alone", "lonely"]);
});

test("modify and strong reads are refused on an eventual table", async () => {
  const c = await simItemsCluster(18);
  const modify = await c.sim.settle(items(c, "n1").modify(table, key("k"), () => ({ type: "delete" })));
  assert.ok(!modify.ok && modify.error.code === "BadRequest" && /strong table/.test(modify.error.message));
  const strongRead = await c.sim.settle(items(c, "n1").get(table, key("k"), { quorum: {}, consistency: "strong" }));
  assert.ok(!strongRead.ok && strongRead.error.code === "BadRequest");
  const strongList = await c.sim.settle(items(c, "n1").list(table, { prefix: new Uint8Array(0), limit: 10, consistency: "strong" }));
  assert.ok(!strongList.ok && strongList.error.code === "BadRequest" && /needs a strong table/.test(strongList.error.message));
});

async function listAll(c: SimItemsCluster, id: string, limit: number, prefix = ""): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let after: ItemKeyParts | undefined;
  for (let pages = 1; pages <= 100; pages++) {
    const page: ListPage = ok(await c.sim.settle(items(c, id).list(table, { prefix: encoder.encode(prefix), limit, ...(after ? { after } : {}) })));
    assert.ok(page.items.length <= limit);
    keys.push(...page.items.map((item) => decoder.decode(item.key.partitionKey)));
    if (page.resumeAfter === null) return { keys, pages };
    after = page.resumeAfter;
  }
  assert.fail("list did not end within 100 pages");
}

test("list gathers every node's keys in order, page by page, without deleted or expired items", async () => {
  const c = await simItemsCluster(19);
  const names = Array.from({ length: 23 }, (_, i) => `item-${String(i).padStart(2, "0")}`);
  for (const [i, name] of names.entries()) ok(await c.sim.settle(items(c, `n${(i % 3) + 1}`).put(table, key(name), write(name), { ...blind, quorum: { w: 3 } })));
  ok(await c.sim.settle(items(c, "n1").put(table, key("other"), write("o"), blind)));
  ok(await c.sim.settle(items(c, "n2").delete(table, key("item-05"), blind)));
  const nowMs = c.sim.node("n1").runtime!.clock.nowMs();
  ok(await c.sim.settle(items(c, "n1").put(table, key("item-07"), write("soon gone", { expiresAtMs: nowMs - 1 }), { ...blind, condition: { ifMatch: "*" } })));
  const expected = names.filter((name) => name !== "item-05" && name !== "item-07");
  for (const limit of [1, 4, 7, 100]) {
    const { keys, pages } = await listAll(c, "n3", limit, "item-");
    assert.deepEqual(keys, expected, `limit ${limit}`);
    assert.ok(pages >= Math.ceil(expected.length / limit));
  }
  assert.equal((await listAll(c, "n2", 10)).keys.length, expected.length + 1);
});

test("list still sees everything with one node down", async () => {
  const c = await simItemsCluster(20);
  for (let i = 0; i < 12; i++) ok(await c.sim.settle(items(c, "n1").put(table, key(`k${i}`), write("v"), { ...blind, quorum: { w: 3 } })));
  c.sim.crash("n3");
  await c.sim.runUntil(c.sim.now() + 3_000);
  assert.equal((await listAll(c, "n1", 5)).keys.length, 12);
});

async function queryAll(c: SimItemsCluster, request: Omit<QueryRequest, "partitionKey" | "after" | "limit">, limit: number): Promise<string[]> {
  const found: string[] = [];
  let after: Uint8Array | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = ok(await c.sim.settle(items(c, "n2").query(table, { ...request, partitionKey: encoder.encode("user-1"), limit, ...(after ? { after } : {}) })));
    for (const item of page.items) {
      assert.equal(decoder.decode(item.key.partitionKey), "user-1");
      found.push(decoder.decode(item.key.sortKey!));
    }
    if (page.resumeAfter === null) return found;
    after = page.resumeAfter.sortKey;
  }
  assert.fail("query did not end within 100 pages");
}

test("query returns one partition key's items in sort-key order, within bounds and prefixes, forwards and backwards, page by page", async () => {
  const c = await simItemsCluster(21);
  const sortKeys = ["a", "a\u0000", "ab", "b", "b1", "b2", "ba", "c", "d\u0000x", "z"];
  for (const sortKey of sortKeys) ok(await c.sim.settle(items(c, "n1").put(table, key("user-1", sortKey), write(sortKey), blind)));
  ok(await c.sim.settle(items(c, "n3").put(table, key("user-10", "a"), write("not mine"), blind)));
  ok(await c.sim.settle(items(c, "n3").put(table, key("user-2", "a"), write("not mine"), blind)));
  ok(await c.sim.settle(items(c, "n2").delete(table, key("user-1", "c"), blind)));
  const live = sortKeys.filter((k) => k !== "c");
  for (const limit of [1, 3, 100]) {
    assert.deepEqual(await queryAll(c, { reverse: false }, limit), live, `forwards, limit ${limit}`);
    assert.deepEqual(await queryAll(c, { reverse: true }, limit), [...live].reverse(), `backwards, limit ${limit}`);
  }
  const bound = (text: string, inclusive: boolean) => ({ key: encoder.encode(text), inclusive });
  assert.deepEqual(await queryAll(c, { reverse: false, lower: bound("ab", true), upper: bound("b2", true) }, 2), ["ab", "b", "b1", "b2"]);
  assert.deepEqual(await queryAll(c, { reverse: false, lower: bound("ab", false), upper: bound("b2", false) }, 2), ["b", "b1"]);
  assert.deepEqual(await queryAll(c, { reverse: true, lower: bound("a", false), upper: bound("ba", true) }, 2), ["ba", "b2", "b1", "b", "ab", "a\u0000"]);
  assert.deepEqual(await queryAll(c, { reverse: false, sortKeyPrefix: encoder.encode("b") }, 2), ["b", "b1", "b2", "ba"]);
  assert.deepEqual(await queryAll(c, { reverse: true, sortKeyPrefix: encoder.encode("b"), upper: bound("b2", false) }, 10), ["b1", "b"]);
});

test("batch reads then writes each key as get, put and delete would", async () => {
  const c = await simItemsCluster(22);
  ok(await c.sim.settle(items(c, "n1").put(table, key("old"), write("x"), blind)));
  const result = ok(
    await c.sim.settle(
      items(c, "n2").batch(table, [key("old"), key("none")], [
        { type: "put", key: key("new"), write: write("fresh") },
        { type: "delete", key: key("old") },
        { type: "delete", key: key("never") },
      ]),
    ),
  );
  assert.deepEqual(result.gets.map(texts), [["x"], []]);
  assert.equal(result.writes[0]!.type, "put");
  assert.deepEqual(result.writes.slice(1), [{ type: "delete", existed: true }, { type: "delete", existed: false }]);
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n3").get(table, key("new"), { quorum: {} })))), ["fresh"]);
  assert.deepEqual(ok(await c.sim.settle(items(c, "n3").get(table, key("old"), { quorum: {} }))).siblings, []);
});

test("an expired sibling reads as absent at once", async () => {
  const c = await simItemsCluster(23);
  const nowMs = c.sim.node("n1").runtime!.clock.nowMs();
  ok(await c.sim.settle(items(c, "n1").put(table, key("ttl"), write("brief", { expiresAtMs: nowMs + 500 }), blind)));
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n2").get(table, key("ttl"), { quorum: {} })))), ["brief"]);
  await c.sim.runUntil(c.sim.now() + 1_000);
  assert.deepEqual(ok(await c.sim.settle(items(c, "n2").get(table, key("ttl"), { quorum: {} }))).siblings, []);
});
