import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { simItemsCluster, type SimItemsCluster } from "../node/sim-items-cluster.test-support.js";
import type { StoreResult } from "../replica/store-result.js";
import type { ItemKeyParts, ItemRead, WriteOptions } from "./item-operations.js";
import { incrementChange, incrementChangeKind } from "../api/increment-handler.js";

// Strong tables through the ClusterCoordinator on three simulated nodes (CASPaxos over each
// key's primaries): conditions and modify inside the round, and query over acceptor records.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const table: TableDefinition = { name: "ledger", id: 12, replication: { n: 3, r: 2, w: 2 }, consistency: "strong", conflicts: "siblings", createdAtMs: 0 };
const blind: WriteOptions = { quorum: {}, condition: {} };
const write = (text: string) => ({ value: encoder.encode(text), contentType: "text/plain", metadata: { m: "1" }, expiresAtMs: null });
const key = (pk: string, sk?: string): ItemKeyParts => (sk === undefined ? { partitionKey: encoder.encode(pk) } : { partitionKey: encoder.encode(pk), sortKey: encoder.encode(sk) });

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

const texts = (read: ItemRead) => read.siblings.map((s) => decoder.decode(s.value));
const items = (c: SimItemsCluster, id: string) => c.node(id).items.coordinator;

test("a strong put is read back from any node with one version; conditions hold exactly", async () => {
  const c = await simItemsCluster(41);
  const created = ok(await c.sim.settle(items(c, "n1").put(table, key("acct"), write("10"), { ...blind, condition: { ifNoneMatch: "*" } })));
  assert.equal(created.created, true);
  assert.equal(created.context, "");
  const read = ok(await c.sim.settle(items(c, "n3").get(table, key("acct"), { quorum: {} })));
  assert.deepEqual(texts(read), ["10"]);
  assert.equal(read.siblings[0]!.version, created.item.version);
  assert.deepEqual(read.siblings[0]!.metadata, { m: "1" });
  const racers = await c.sim.settle(Promise.all(["n1", "n2", "n3"].map((id, i) => items(c, id).put(table, key("acct"), write(`r${i}`), { ...blind, condition: { ifMatch: [created.item.version] } }))));
  assert.equal(racers.filter((r) => r.ok).length, 1, JSON.stringify(racers.map((r) => (r.ok ? "ok" : r.error.code))));
  assert.ok(racers.every((r) => r.ok || r.error.code === "PreconditionFailed"));
});

test("modify runs the change on the current version; abort refuses; delete reports existence", async () => {
  const c = await simItemsCluster(42);
  const bump = (current: { value: Uint8Array } | undefined) => ({ type: "put" as const, write: write(String(Number(current === undefined ? "0" : decoder.decode(current.value)) + 1)) });
  for (const id of ["n1", "n2", "n3", "n1"]) ok(await c.sim.settle(items(c, id).modify(table, key("counter"), bump)));
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n2").get(table, key("counter"), { quorum: {} })))), ["4"]);
  const aborted = await c.sim.settle(items(c, "n2").modify(table, key("counter"), () => ({ type: "abort", code: "PreconditionFailed", message: "not today" })));
  assert.ok(!aborted.ok && aborted.error.code === "PreconditionFailed" && aborted.error.message === "not today");
  assert.deepEqual(ok(await c.sim.settle(items(c, "n3").delete(table, key("counter"), blind))), { existed: true });
  assert.deepEqual(ok(await c.sim.settle(items(c, "n3").delete(table, key("counter"), blind))), { existed: false });
  assert.deepEqual(ok(await c.sim.settle(items(c, "n1").get(table, key("counter"), { quorum: {} }))).siblings, []);
});

test("a strong query returns one partition key's items in sort order, paged, eventual or re-read strongly", async () => {
  const c = await simItemsCluster(43);
  for (const sk of ["b", "a", "d", "c"]) ok(await c.sim.settle(items(c, "n2").put(table, key("user", sk), write(sk), blind)));
  ok(await c.sim.settle(items(c, "n2").put(table, key("other", "a"), write("x"), blind)));
  ok(await c.sim.settle(items(c, "n1").delete(table, key("user", "c"), blind)));
  for (const consistency of ["eventual", "strong"] as const) {
    for (const reverse of [false, true]) {
      const found: string[] = [];
      let after: Uint8Array | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = ok(await c.sim.settle(items(c, "n3").query(table, { partitionKey: encoder.encode("user"), reverse, limit: 2, consistency, ...(after ? { after } : {}) })));
        found.push(...page.items.map((item) => decoder.decode(item.key.sortKey!)));
        if (page.resumeAfter === null) break;
        after = page.resumeAfter.sortKey;
      }
      assert.deepEqual(found, reverse ? ["d", "b", "a"] : ["a", "b", "d"], `${consistency}, reverse ${reverse}`);
    }
  }
});

test("a strong list gathers every member's keys in order, page by page, without deleted ones", async () => {
  const c = await simItemsCluster(44);
  const names = Array.from({ length: 9 }, (_, i) => `k${i}`);
  for (const name of names) ok(await c.sim.settle(items(c, "n1").put(table, key(name), write(name), blind)));
  ok(await c.sim.settle(items(c, "n2").delete(table, key("k4"), blind)));
  const found: string[] = [];
  let after: ItemKeyParts | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = ok(await c.sim.settle(items(c, "n3").list(table, { prefix: encoder.encode("k"), limit: 3, ...(after ? { after } : {}) })));
    assert.ok(page.items.length <= 3);
    found.push(...page.items.map((item) => decoder.decode(item.key.partitionKey)));
    assert.ok(page.items.every((item) => decoder.decode(item.siblings[0]!.value) === decoder.decode(item.key.partitionKey)));
    if (page.resumeAfter === null) break;
    after = page.resumeAfter;
  }
  assert.deepEqual(found, names.filter((name) => name !== "k4"));
});

test("a strong query through a node whose own acceptor missed the write still sees it; an eventual one may not", async () => {
  const c = await simItemsCluster(45);
  c.sim.network.isolate("n3");
  ok(await c.sim.settle(items(c, "n1").put(table, key("user", "a"), write("only on n1 and n2"), blind)));
  c.sim.network.heal();
  const eventual = ok(await c.sim.settle(items(c, "n3").query(table, { partitionKey: encoder.encode("user"), reverse: false, limit: 10, consistency: "eventual" })));
  assert.deepEqual(eventual.items, [], "n3's acceptor never saw the accept (the eventual query reads it alone)");
  const strong = ok(await c.sim.settle(items(c, "n3").query(table, { partitionKey: encoder.encode("user"), reverse: false, limit: 10, consistency: "strong" })));
  assert.deepEqual(strong.items.map((item) => decoder.decode(item.siblings[0]!.value)), ["only on n1 and n2"]);
});

test("a strong list needs a majority of every partition's acceptors; an eventual one takes what answers", async () => {
  const c = await simItemsCluster(46);
  for (const name of ["a", "b"]) ok(await c.sim.settle(items(c, "n1").put(table, key(name), write(name), blind)));
  const listed = ok(await c.sim.settle(items(c, "n3").list(table, { prefix: new Uint8Array(0), limit: 10, consistency: "eventual" })));
  assert.deepEqual(listed.items.map((item) => decoder.decode(item.siblings[0]!.value)), ["a", "b"]);
  c.sim.network.isolate("n1");
  const refused = await c.sim.settle(items(c, "n1").list(table, { prefix: new Uint8Array(0), limit: 10 }));
  assert.ok(!refused.ok && refused.error.code === "Unavailable" && /majority \(2\) is needed/.test(refused.error.message), JSON.stringify(refused));
  const eventual = ok(await c.sim.settle(items(c, "n1").list(table, { prefix: new Uint8Array(0), limit: 10, consistency: "eventual" })));
  assert.deepEqual(eventual.items.map((item) => decoder.decode(item.key.partitionKey)), ["a", "b"]);
  c.sim.network.heal();
});

test("an eventual list does not show an item whose delete this node's acceptor missed; agreed keys show as they are", async () => {
  const c = await simItemsCluster(47);
  for (const name of ["a", "b"]) ok(await c.sim.settle(items(c, "n1").put(table, key(name), write(`${name}1`), blind)));
  c.sim.network.isolate("n3");
  ok(await c.sim.settle(items(c, "n1").delete(table, key("a"), blind)));
  ok(await c.sim.settle(items(c, "n1").put(table, key("b"), write("b2"), blind)));
  c.sim.network.heal();
  const stale = ok(await c.sim.settle(items(c, "n3").get(table, key("a"), { quorum: {}, consistency: "eventual" })));
  assert.deepEqual(texts(stale), ["a1"], "n3's acceptor still holds the deleted item");
  const listed = ok(await c.sim.settle(items(c, "n3").list(table, { prefix: new Uint8Array(0), limit: 10, consistency: "eventual" })));
  assert.deepEqual(listed.items.map((item) => `${decoder.decode(item.key.partitionKey)}=${decoder.decode(item.siblings[0]!.value)}`), ["b=b2"]);
});

test("a named increment through any node is proposed at the key's first primary; the increment's own refusal comes back to the caller", async () => {
  const c = await simItemsCluster(43);
  const ids = ["n1", "n2", "n3"];
  await c.sim.runUntil(() => ids.every((a) => ids.every((b) => a === b || c.node(a).membership.isUp(b))));
  const counter = key("hits");
  for (const [i, id] of ["n1", "n2", "n3", "n2"].entries()) {
    const change = incrementChange(i + 1, {});
    ok(await c.sim.settle(items(c, id).modify(table, counter, change.run, { kind: incrementChangeKind, args: { by: i + 1, condition: {} } })));
  }
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n3").get(table, counter, { quorum: {} })))), ["10"]);
  const served = ["n1", "n2", "n3"].map((id) => c.node(id).items.strong.forwardCounts.served);
  const forwarded = ["n1", "n2", "n3"].map((id) => c.node(id).items.strong.forwardCounts.forwarded);
  assert.equal(served.reduce((a, b) => a + b), forwarded.reduce((a, b) => a + b));
  assert.equal(served.filter((count) => count > 0).length, 1, `one node (the first primary) served every forward: ${served}`);
  assert.equal(forwarded.reduce((a, b) => a + b), 3, "the three increments that arrived elsewhere were forwarded");
  // A refusal decided at the primary: the caller's change still learns why (409 NotAnInteger at the API).
  ok(await c.sim.settle(items(c, "n1").put(table, counter, write("ten"), blind)));
  for (const id of ["n1", "n2", "n3"]) {
    const change = incrementChange(1, {});
    const refused = await c.sim.settle(items(c, id).modify(table, counter, change.run, { kind: incrementChangeKind, args: { by: 1, condition: {} } }));
    assert.ok(!refused.ok && refused.error.code === "BadRequest", JSON.stringify(refused));
    assert.equal(change.refusal, "NotAnInteger", `through ${id}`);
  }
  assert.deepEqual(texts(ok(await c.sim.settle(items(c, "n2").get(table, counter, { quorum: {} })))), ["ten"]);
});
