import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { simItemsCluster, type SimItemsCluster } from "../node/sim-items-cluster.test-support.js";
import type { StoreResult } from "../replica/store-result.js";
import { encodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { WriteOptions } from "./item-operations.js";

// Tombstone GC on three simulated nodes (n=3, grace 1 s): a delete acknowledged durably by
// every primary is reaped from every replica after the grace; anything else keeps it.

const encoder = new TextEncoder();
const table: TableDefinition = { name: "gc", id: 9, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const blind: WriteOptions = { quorum: {}, condition: {} };
const write = (text: string) => ({ value: encoder.encode(text), contentType: "text/plain", metadata: {}, expiresAtMs: null });
const ids = ["n1", "n2", "n3"];

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function stored(c: SimItemsCluster, id: string, name: string) {
  return c.node(id).items.replicas.fetch(encodeItemKey(table.id, encoder.encode(name)));
}

async function putEverywhere(c: SimItemsCluster, name: string, text: string): Promise<void> {
  ok(await c.sim.settle(c.node("n1").items.coordinator.put(table, { partitionKey: encoder.encode(name) }, write(text), { ...blind, quorum: { w: 3 } })));
}

test("a delete every primary acknowledged is removed from every replica's storage after the grace", async () => {
  const c = await simItemsCluster(31);
  await putEverywhere(c, "gone", "x");
  ok(await c.sim.settle(c.node("n2").items.coordinator.delete(table, { partitionKey: encoder.encode("gone") }, blind)));
  await c.sim.runUntil(c.sim.now() + 200);
  for (const id of ids) assert.ok(stored(c, id, "gone") !== undefined, `${id} keeps the tombstone during the grace`);
  const reaped = await c.sim.runUntil(() => c.node("n2").items.reaper.pending === 0 && ids.every((id) => stored(c, id, "gone") === undefined), { deadlineMs: c.sim.now() + 5_000 });
  assert.equal(reaped.reason, "predicate");
  assert.equal(c.node("n2").items.reaper.stats.reaped, 3);
});

test("a key written again between the delete and the reap survives on every replica", async () => {
  const c = await simItemsCluster(32);
  await putEverywhere(c, "back", "old");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("back") }, blind)));
  await c.sim.runUntil(c.sim.now() + 100);
  await putEverywhere(c, "back", "new");
  await c.sim.runUntil(() => c.node("n1").items.reaper.pending === 0, { deadlineMs: c.sim.now() + 5_000 });
  await c.sim.runUntil(c.sim.now() + 500);
  for (const id of ids) {
    const set = stored(c, id, "back");
    assert.ok(set !== undefined, `${id} kept the key`);
    assert.deepEqual(dvvset.values(set).filter((s) => !s.tombstone).map((s) => new TextDecoder().decode(s.value)), ["new"]);
  }
  assert.equal(c.node("n1").items.reaper.stats.reaped, 0);
});

test("with one replica down the tombstone stays", async () => {
  const c = await simItemsCluster(33);
  await putEverywhere(c, "kept", "x");
  c.sim.crash("n3");
  await c.sim.runUntil(c.sim.now() + 3_000);
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("kept") }, blind)));
  await c.sim.runUntil(c.sim.now() + 3_000);
  assert.equal(c.node("n1").items.reaper.stats.scheduled, 0);
  for (const id of ["n1", "n2"]) {
    const set = stored(c, id, "kept");
    assert.ok(set !== undefined && dvvset.values(set).every((s) => s.tombstone), `${id} keeps the tombstone`);
  }
});

test("after a reap, a new write of the key is not hidden by a replica that missed the reap", async () => {
  const c = await simItemsCluster(34);
  await putEverywhere(c, "again", "x");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("again") }, blind)));
  // n3 misses the reap: it is cut off while the reap runs, and keeps the tombstone.
  await c.sim.runUntil(() => c.node("n1").items.reaper.stats.scheduled === 1, { deadlineMs: c.sim.now() + 1_000 });
  c.sim.network.isolate("n3");
  await c.sim.runUntil(() => c.node("n1").items.reaper.pending === 0, { deadlineMs: c.sim.now() + 5_000 });
  c.sim.network.heal();
  assert.equal(stored(c, "n1", "again"), undefined);
  assert.ok(stored(c, "n3", "again") !== undefined);
  await c.sim.runUntil(c.sim.now() + 3_000);
  ok(await c.sim.settle(c.node("n1").items.coordinator.put(table, { partitionKey: encoder.encode("again") }, write("reborn"), { ...blind, quorum: { w: 3 } })));
  for (const id of ids) {
    const read = ok(await c.sim.settle(c.node(id).items.coordinator.get(table, { partitionKey: encoder.encode("again") }, { quorum: { r: 3 } })));
    assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), ["reborn"], `read through ${id}`);
  }
});
