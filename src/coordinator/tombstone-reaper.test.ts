import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { simItemsCluster, type SimItemsCluster } from "../node/sim-items-cluster.test-support.js";
import type { StoreResult } from "../replica/store-result.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { claimLeave } from "../ring/claim.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import { backfillMetaKey } from "../replica/tombstone-index-backfill.js";
import { encodeItemKey } from "../storage/item-key.js";
import { namespacePrefix, Namespace } from "../storage/keyspace.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import type { WriteOptions } from "./item-operations.js";

// Tombstone GC on simulated nodes (n=3, grace 1 s, a pass every 200 ms), driven by each
// replica's tombstone index: a tombstone every primary holds is reaped from every replica
// after the grace, whatever wrote it (a delete, the expiry sweep); a member down, a hint or a
// primary holding another version keeps it.

const encoder = new TextEncoder();
const table: TableDefinition = { name: "gc", id: 9, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const blind: WriteOptions = { quorum: {}, condition: {} };
const write = (text: string, expiresAtMs: number | null = null) => ({ value: encoder.encode(text), contentType: "text/plain", metadata: {}, expiresAtMs });
const ids = ["n1", "n2", "n3"];
const keyOf = (name: string) => encodeItemKey(table.id, encoder.encode(name));

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function stored(c: SimItemsCluster, id: string, name: string) {
  return c.node(id).items.replicas.fetch(keyOf(name));
}

function tombstoneOnly(c: SimItemsCluster, id: string, name: string): boolean {
  const set = stored(c, id, name);
  return set !== undefined && dvvset.values(set).every((s) => s.tombstone);
}

async function putEverywhere(c: SimItemsCluster, name: string, text: string, expiresAtMs: number | null = null): Promise<void> {
  ok(await c.sim.settle(c.node("n1").items.coordinator.put(table, { partitionKey: encoder.encode(name) }, write(text, expiresAtMs), { ...blind, quorum: { w: 3 } })));
}

async function goneEverywhere(c: SimItemsCluster, name: string, within = 5_000, on = ids): Promise<void> {
  const result = await c.sim.runUntil(() => on.every((id) => stored(c, id, name) === undefined), { deadlineMs: c.sim.now() + within });
  assert.equal(result.reason, "predicate", `the tombstone of ${name} is still on ${on.filter((id) => stored(c, id, name) !== undefined).join(", ")}`);
}

const reaped = (c: SimItemsCluster) => ids.reduce((sum, id) => sum + c.node(id).items.reaper.stats.reaped, 0);

test("a delete every primary holds is removed from every replica's storage after the grace, and not before", async () => {
  const c = await simItemsCluster(31);
  await putEverywhere(c, "gone", "x");
  ok(await c.sim.settle(c.node("n2").items.coordinator.delete(table, { partitionKey: encoder.encode("gone") }, blind)));
  await c.sim.runUntil(c.sim.now() + 500);
  for (const id of ids) assert.ok(tombstoneOnly(c, id, "gone"), `${id} keeps the tombstone during the grace`);
  await goneEverywhere(c, "gone");
  await c.sim.runUntil(() => reaped(c) === 3, { deadlineMs: c.sim.now() + 1_000 }); // the counters follow the last reply
  assert.equal(reaped(c), 3, JSON.stringify(ids.map((id) => c.node(id).items.reaper.stats)));
});

test("a key written again between the delete and the reap survives on every replica", async () => {
  const c = await simItemsCluster(32);
  await putEverywhere(c, "back", "old");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("back") }, blind)));
  await c.sim.runUntil(c.sim.now() + 100);
  await putEverywhere(c, "back", "new");
  await c.sim.runUntil(c.sim.now() + 3_000);
  for (const id of ids) {
    const set = stored(c, id, "back");
    assert.ok(set !== undefined, `${id} kept the key`);
    assert.deepEqual(dvvset.values(set).filter((s) => !s.tombstone).map((s) => new TextDecoder().decode(s.value)), ["new"]);
  }
  assert.equal(reaped(c), 0);
});

test("an item that expired and was swept to tombstones is collected like a delete (it used to stay forever)", async () => {
  const c = await simItemsCluster(35);
  const expiresAtMs = c.sim.clock("n1").nowMs() + 500;
  await putEverywhere(c, "session", "s", expiresAtMs);
  await c.sim.runUntil(c.sim.now() + 1_000);
  // Each replica's sweep writes its own tombstone (its own dot); a read repairs them to one set.
  for (const id of ids) assert.equal((await c.sim.settle(c.node(id).items.replicas.sweepExpired(100))).expired, 1, `${id} sweeps`);
  for (const id of ids) assert.ok(tombstoneOnly(c, id, "session"));
  const read = ok(await c.sim.settle(c.node("n1").items.coordinator.get(table, { partitionKey: encoder.encode("session") }, { quorum: { r: 3 } })));
  assert.equal(read.siblings.length, 0);
  await goneEverywhere(c, "session");
});

test("with one member down nothing is collected; once it is back with the tombstone, it is", async () => {
  const c = await simItemsCluster(33);
  await putEverywhere(c, "kept", "x");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("kept") }, { ...blind, quorum: { w: 3 } })));
  c.sim.crash("n3");
  await c.sim.runUntil(c.sim.now() + 5_000);
  for (const id of ["n1", "n2"]) assert.ok(tombstoneOnly(c, id, "kept"), `${id} keeps the tombstone while n3 is down`);
  assert.ok(c.node("n1").items.reaper.stats.blockedPasses > 0, "GC ran and held back");
  assert.ok(c.node("n1").items.reaper.stats.blockedKeys > 0, "the key was left for its down primary");
  await c.sim.restart("n3");
  await goneEverywhere(c, "kept", 10_000);
});

test("a replica down through the whole grace with the old value blocks collection until it holds the tombstone; the value never comes back", async () => {
  const c = await simItemsCluster(36);
  await putEverywhere(c, "stale", "old");
  c.sim.crash("n3");
  await c.sim.runUntil(c.sim.now() + 3_000);
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("stale") }, blind)));
  await c.sim.runUntil(c.sim.now() + 5_000); // far beyond the grace
  await c.sim.restart("n3");
  await c.sim.runUntil(c.sim.now() + 3_000);
  // n3 came back with "old": GC must not have reaped n1 and n2 (the old value would be the only one left).
  assert.ok(tombstoneOnly(c, "n1", "stale") || stored(c, "n1", "stale") === undefined);
  const read = ok(await c.sim.settle(c.node("n3").items.coordinator.get(table, { partitionKey: encoder.encode("stale") }, { quorum: { r: 3 } })));
  assert.equal(read.siblings.length, 0, "the deleted value is not read back");
  // The read repaired n3 with the tombstone: now GC collects it everywhere, and nothing returns.
  await goneEverywhere(c, "stale", 10_000);
  const again = ok(await c.sim.settle(c.node("n2").items.coordinator.get(table, { partitionKey: encoder.encode("stale") }, { quorum: { r: 3 } })));
  assert.equal(again.siblings.length, 0);
});

test("a hint for the key anywhere keeps the tombstone until the hint is gone", async () => {
  const c = await simItemsCluster(37);
  await putEverywhere(c, "hinted", "old");
  const old = stored(c, "n1", "hinted")!;
  // A stale hint for a target that is never up on n2, whose delivery is stopped so it is never
  // handed on (a hint for a node the ring does not place is re-targeted to the key's primaries).
  await c.sim.settle(c.node("n2").items.delivery.stop());
  assert.ok((await c.sim.settle(c.node("n2").items.hints.add({ target: "elsewhere", tableId: table.id, key: keyOf("hinted"), set: old }, { durable: true }))).ok);
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("hinted") }, { ...blind, quorum: { w: 3 } })));
  await c.sim.runUntil(c.sim.now() + 4_000);
  for (const id of ids) assert.ok(tombstoneOnly(c, id, "hinted"), `${id} keeps the tombstone while a hint exists`);
  await c.sim.settle(c.node("n2").items.hints.remove([{ target: "elsewhere", tableId: table.id, key: keyOf("hinted"), set: old }], { durable: true }));
  await goneEverywhere(c, "hinted");
});

test("after a reap, a new write of the key is not hidden by a replica that missed the reap", async () => {
  const c = await simItemsCluster(34);
  await putEverywhere(c, "again", "x");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("again") }, { ...blind, quorum: { w: 3 } })));
  // The reap of n3 is lost (n3 refuses it), so n3 keeps the tombstone while n1 and n2 drop it.
  const original = c.node("n3").items.replicas.reap.bind(c.node("n3").items.replicas);
  c.node("n3").items.replicas.reap = async () => false;
  await goneEverywhere(c, "again", 5_000, ["n1", "n2"]);
  c.node("n3").items.replicas.reap = original;
  assert.ok(stored(c, "n3", "again") !== undefined);
  ok(await c.sim.settle(c.node("n1").items.coordinator.put(table, { partitionKey: encoder.encode("again") }, write("reborn"), { ...blind, quorum: { w: 3 } })));
  for (const id of ids) {
    const read = ok(await c.sim.settle(c.node(id).items.coordinator.get(table, { partitionKey: encoder.encode("again") }, { quorum: { r: 3 } })));
    assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), ["reborn"], `read through ${id}`);
  }
});

test("a tombstone left on one replica after the others reaped it is collected by a later pass", async () => {
  const c = await simItemsCluster(38);
  await putEverywhere(c, "left", "x");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("left") }, { ...blind, quorum: { w: 3 } })));
  const original = c.node("n3").items.replicas.reap.bind(c.node("n3").items.replicas);
  c.node("n3").items.replicas.reap = async () => false;
  await goneEverywhere(c, "left", 5_000, ["n1", "n2"]);
  c.node("n3").items.replicas.reap = original;
  // n1 (the first primary, maybe) no longer holds it; whoever holds it takes over after twice the grace.
  await goneEverywhere(c, "left", 10_000);
});

// Four nodes, n=3: each key has one member that is not its primary.
const four = ["n1", "n2", "n3", "n4"];
function keysByOutsider(c: SimItemsCluster): Map<string, string> {
  const byOutsider = new Map<string, string>();
  for (let i = 0; byOutsider.size < four.length && i < 1_000; i++) {
    const name = `k${i}`;
    const primaries = preferenceList(c.ring, partitionOf(encoder.encode(name), c.ring.partitionCount), 3);
    const outsider = four.find((id) => !primaries.includes(id))!;
    if (!byOutsider.has(outsider)) byOutsider.set(outsider, name);
  }
  return byOutsider;
}

test("a down member holds back the collection of every key, those it is no primary of too, until it returns", async () => {
  const c = await simItemsCluster(39, { ids: four });
  const keys = keysByOutsider(c);
  const outside = keys.get("n4")!; // n4 is no primary of it
  const inside = keys.get("n1")!; // n1 is no primary of it, n4 is
  const primariesOf = (name: string) => preferenceList(c.ring, partitionOf(encoder.encode(name), c.ring.partitionCount), 3);
  for (const name of [outside, inside]) {
    const via = c.node(primariesOf(name)[0]!).items.coordinator;
    ok(await c.sim.settle(via.put(table, { partitionKey: encoder.encode(name) }, write("x"), { ...blind, quorum: { w: 3 } })));
    ok(await c.sim.settle(via.delete(table, { partitionKey: encoder.encode(name) }, { ...blind, quorum: { w: 3 } })));
  }
  c.sim.crash("n4");
  await c.sim.runUntil(c.sim.now() + 5_000); // five graces
  for (const name of [outside, inside]) {
    for (const id of primariesOf(name).filter((id) => id !== "n4")) assert.ok(tombstoneOnly(c, id, name), `${id} keeps the tombstone of ${name} while n4 is down`);
  }
  const up = four.filter((id) => id !== "n4");
  assert.ok(up.reduce((sum, id) => sum + c.node(id).items.reaper.stats.blockedKeys, 0) >= 2, "both keys were left, not attempted");
  assert.ok(up.reduce((sum, id) => sum + c.node(id).items.reaper.stats.waiting, 0) >= 2, "the gauge shows the keys waiting for n4");
  assert.equal(up.reduce((sum, id) => sum + c.node(id).items.reaper.stats.attempted, 0), 0);
  await c.sim.restart("n4");
  await goneEverywhere(c, outside, 15_000, four);
  await goneEverywhere(c, inside, 15_000, four);
  await c.sim.runUntil(() => four.every((id) => c.node(id).items.reaper.stats.waiting === 0), { deadlineMs: c.sim.now() + 5_000 });
  assert.deepEqual(four.map((id) => c.node(id).items.reaper.stats.waiting), [0, 0, 0, 0], "nothing waits once every member is up");
});

test("a fallback down through the grace with an older hint for the key: the delete stays deleted when it returns and hands the hint back", async () => {
  const c = await simItemsCluster(41, { ids: four });
  const name = keysByOutsider(c).get("n4")!; // n4 is no primary of it: the fallback
  const [first, second, third] = preferenceList(c.ring, partitionOf(encoder.encode(name), c.ring.partitionCount), 3) as [string, string, string];
  const key = { partitionKey: encoder.encode(name) };
  // A write while the third primary is down: the fallback n4 takes it as a hint for it.
  c.sim.crash(third);
  await c.sim.runUntil(() => !c.node(first).membership.isUp(third), { deadlineMs: c.sim.now() + 5_000 });
  ok(await c.sim.settle(c.node(first).items.coordinator.put(table, key, write("old"), { ...blind, quorum: { w: 3 } })));
  assert.equal(c.node("n4").items.hints.count(third), 1, "n4 holds the write as a hint");
  // The fallback goes down with its hint; the third primary returns; the key is deleted everywhere it lives.
  c.sim.crash("n4");
  await c.sim.restart(third);
  await c.sim.runUntil(() => c.node(first).membership.isUp(third) && !c.node(first).membership.isUp("n4"), { deadlineMs: c.sim.now() + 5_000 });
  ok(await c.sim.settle(c.node(first).items.coordinator.delete(table, key, { ...blind, quorum: { w: 3 } })));
  await c.sim.runUntil(c.sim.now() + 5_000); // five graces while n4 is down
  // n4 returns and hands its hint back to the third primary.
  await c.sim.restart("n4");
  await c.sim.runUntil(() => c.node("n4").items.hints.count(third) === 0, { deadlineMs: c.sim.now() + 10_000 });
  for (const via of [first, second, third, "n4"]) {
    const read = ok(await c.sim.settle(c.node(via).items.coordinator.get(table, key, { quorum: { r: 3 } })));
    assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), [], `the deleted value is not read back through ${via}`);
  }
  await goneEverywhere(c, name, 15_000, four);
});

test("a tombstone written before the tombstone index existed is indexed by the one-time backfill after a restart, then collected", async () => {
  const c = await simItemsCluster(40);
  await putEverywhere(c, "ancient", "x");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("ancient") }, { ...blind, quorum: { w: 3 } })));
  // Each node's disk as an older version left it: the tombstone, no index entry, no backfill marker.
  for (const id of ids) {
    c.sim.crash(id);
    const disk = c.sim.node(id).engine;
    const stale = [...disk.range({ prefix: namespacePrefix(Namespace.tombstones) }), ...disk.range({ prefix: backfillMetaKey })];
    assert.ok(stale.length >= 1, `${id} had an index entry to remove`);
    await c.sim.settle(disk.write(stale.map((entry) => ({ type: "delete" as const, key: entry.key })), { durable: true }));
  }
  for (const id of ids) await c.sim.restart(id);
  await goneEverywhere(c, "ancient", 10_000);
  assert.ok(ids.some((id) => c.node(id).items.backfill.stats.indexed === 1));
});

// A node that leaves holds GC back until it handed everything on (tombstone-reaper-departures.ts).
// `departing`: the ring a committed leave gives lists the leaver (ring-state.ts); a replace's or a removal's does not.
async function leaveRing(c: SimItemsCluster, leaver: string, on: readonly string[], departing = true): Promise<RingState> {
  const left = claimLeave(c.ring, leaver);
  assert.ok(left.ok);
  const ring = departing ? ringState({ ...left.ring, departing: [leaver] }) : left.ring;
  assert.ok(ring.version > c.ring.version);
  await c.node(on[0]!).membership.handle(on[0]!, { type: "membership.ring", ring, origin: on[0]! });
  const result = await c.sim.runUntil(() => on.every((id) => c.node(id).membership.ring()?.version === ring.version), { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(result.reason, "predicate", "every node up holds the ring without the leaver");
  return ring;
}

test("a leaver that went down mid-drain with an older hint holds GC back; returning, it hands the hint on and the delete stays deleted", async () => {
  const c = await simItemsCluster(42, { ids: four });
  const name = keysByOutsider(c).get("n4")!; // n4 is no primary of it: the fallback
  const [first, , third] = preferenceList(c.ring, partitionOf(encoder.encode(name), c.ring.partitionCount), 3) as [string, string, string];
  const key = { partitionKey: encoder.encode(name) };
  // A write while the third primary is down: the fallback n4 takes it as a hint for it.
  c.sim.crash(third);
  await c.sim.runUntil(() => !c.node(first).membership.isUp(third), { deadlineMs: c.sim.now() + 5_000 });
  ok(await c.sim.settle(c.node(first).items.coordinator.put(table, key, write("old"), { ...blind, quorum: { w: 3 } })));
  assert.equal(c.node("n4").items.hints.count(third), 1, "n4 holds the write as a hint");
  // n4 leaves (a settled ring without it) while up, and goes down before it could hand the hint on.
  const three = ids;
  await leaveRing(c, "n4", three.filter((id) => id !== third).concat("n4"));
  c.sim.crash("n4");
  await c.sim.restart(third);
  await c.sim.runUntil(() => three.every((id) => c.node(id).membership.ring()?.members.length === 3) && c.node(first).membership.isUp(third) && !c.node(first).membership.isUp("n4"), { deadlineMs: c.sim.now() + 10_000 });
  ok(await c.sim.settle(c.node(first).items.coordinator.delete(table, key, { ...blind, quorum: { w: 3 } })));
  await c.sim.runUntil(c.sim.now() + 5_000); // five graces while the leaver is down
  for (const id of three) assert.ok(tombstoneOnly(c, id, name), `${id} keeps the tombstone while the leaver n4 is down`);
  assert.ok(three.some((id) => c.node(id).items.reaper.stats.waiting > 0), "the gauge shows the key waiting for the leaver");
  // n4 returns and hands its hint on; only then is the tombstone collected, and the value stays gone.
  await c.sim.restart("n4");
  await c.sim.runUntil(() => c.node("n4").items.hints.count(third) === 0, { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(c.node("n4").items.hints.count(third), 0, "the leaver handed its hint on");
  for (const via of three) {
    const read = ok(await c.sim.settle(c.node(via).items.coordinator.get(table, key, { quorum: { r: 3 } })));
    assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), [], `the deleted value is not read back through ${via}`);
  }
  // Up but not finished (it has not reported a clean departure): it still holds GC back.
  await c.sim.runUntil(c.sim.now() + 3_000);
  for (const id of three) assert.ok(tombstoneOnly(c, id, name), `${id} keeps the tombstone until the leaver reports`);
  assert.equal(await c.sim.settle(c.node("n4").items.reportLeftClean()), true);
  await goneEverywhere(c, name, 15_000, three);
});

test("a leaver that reported a clean departure no longer holds GC back once it is gone, and a member that missed the report learns it from the others", async () => {
  const c = await simItemsCluster(43, { ids: four });
  const three = ids;
  await putEverywhere(c, "after-leave", "x");
  await leaveRing(c, "n4", four);
  // n3 misses the report (its requests from n4 are lost): the collector learns it from n1 or n2.
  c.sim.network.partition(["n4"], ["n3"]);
  assert.equal(await c.sim.settle(c.node("n4").items.reportLeftClean(1)), true);
  c.sim.crash("n4");
  c.sim.network.heal();
  assert.deepEqual(c.node("n3").items.departures.pending(c.node("n3").membership.ring()), ["n4"], "n3 missed the report");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("after-leave") }, { ...blind, quorum: { w: 3 } })));
  await goneEverywhere(c, "after-leave", 15_000, three);
  assert.deepEqual(c.node("n3").items.departures.pending(c.node("n3").membership.ring()), [], "n3 learned the report through GC's checks");
});

test("a dead node that a ring drops unlisted (replaced, or removed) while the members still believe it up does not hold GC back", async () => {
  const c = await simItemsCluster(44, { ids: four });
  const three = ids;
  await putEverywhere(c, "after-replace", "x");
  // n4 dies; before any member notices, the ring without it reaches every member. Each member
  // used to record a departure for a node it held up when a ring dropped it: n4 never reports,
  // and GC stalled on every member forever.
  c.sim.crash("n4");
  await leaveRing(c, "n4", three, false);
  assert.ok(three.some((id) => c.node(id).membership.isUp("n4")), "a member still believed n4 up when it adopted the ring");
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("after-replace") }, { ...blind, quorum: { w: 3 } })));
  await goneEverywhere(c, "after-replace", 15_000, three);
  for (const id of three) assert.deepEqual(c.node(id).items.departures.pending(c.node(id).membership.ring()), [], `${id} waits for no departure`);
});

test("an operator's forget of a leaver that died mid-drain lets GC complete; the forget reaches the members that were down", async () => {
  const c = await simItemsCluster(45, { ids: four });
  const three = ids;
  await putEverywhere(c, "dead-leaver", "x");
  await leaveRing(c, "n4", four);
  c.sim.crash("n4"); // died mid-drain: it never reports
  ok(await c.sim.settle(c.node("n1").items.coordinator.delete(table, { partitionKey: encoder.encode("dead-leaver") }, { ...blind, quorum: { w: 3 } })));
  await c.sim.runUntil(c.sim.now() + 3_000); // three graces
  for (const id of three) assert.ok(tombstoneOnly(c, id, "dead-leaver"), `${id} keeps the tombstone while the leaver's departure is pending`);
  // Refused while placed, or for a node with no record; then forgotten through n2 while n3 is down.
  const stillMember = await c.sim.settle(c.node("n2").items.forgetDeparture("n1"));
  assert.deepEqual(stillMember.ok ? undefined : [stillMember.status, stillMember.code], [409, "StillMember"]);
  const unknown = await c.sim.settle(c.node("n2").items.forgetDeparture("n9"));
  assert.deepEqual(unknown.ok ? undefined : [unknown.status, unknown.code], [404, "NoDeparture"]);
  c.sim.crash("n3");
  const forgotten = await c.sim.settle(c.node("n2").items.forgetDeparture("n4", 1));
  assert.ok(forgotten.ok && forgotten.membersTold === 1, `only n1 was told: ${JSON.stringify(forgotten)}`);
  const again = await c.sim.settle(c.node("n2").items.forgetDeparture("n4"));
  assert.deepEqual(again.ok ? undefined : [again.status, again.code], [409, "DepartureClean"]);
  await c.sim.restart("n3"); // it still holds the pending record on disk
  await goneEverywhere(c, "dead-leaver", 15_000, three);
  assert.deepEqual(c.node("n3").items.departures.pending(c.node("n3").membership.ring()), [], "n3 learned the forget through GC's checks");
});

// Issue 6, item 3 for TTL on simulated nodes (no anti-entropy here): a value that expired while
// a replica was down does not bring back the value it replaced, through hinted handoff alone or
// read repair alone (anti-entropy alone: node/shoal-node-tombstones.test.ts).

const live = (c: SimItemsCluster, id: string, name: string) => dvvset.values(stored(c, id, name) ?? dvvset.empty<Sibling>()).filter((s) => !s.tombstone).map((s) => new TextDecoder().decode(s.value));

test("TTL: a value that expired while a primary was down stays gone when it returns, through hinted handoff alone", async () => {
  const c = await simItemsCluster(44, { ids: four });
  const name = keysByOutsider(c).get("n4")!; // n4 is the key's fallback
  const [first, second, third] = preferenceList(c.ring, partitionOf(encoder.encode(name), c.ring.partitionCount), 3) as [string, string, string];
  const key = { partitionKey: encoder.encode(name) };
  ok(await c.sim.settle(c.node(first).items.coordinator.put(table, key, write("old"), { ...blind, quorum: { w: 3 } })));
  c.sim.crash(third);
  await c.sim.runUntil(() => !c.node(first).membership.isUp(third), { deadlineMs: c.sim.now() + 5_000 });
  // The value is replaced by one with a short TTL: the fallback n4 holds it as a hint for the third primary.
  const read = ok(await c.sim.settle(c.node(first).items.coordinator.get(table, key, { quorum: { r: 2 } })));
  ok(await c.sim.settle(c.node(first).items.coordinator.put(table, key, write("short", c.sim.clock(first).nowMs() + 300), { quorum: { w: 3 }, condition: {}, context: read.context })));
  assert.equal(c.node("n4").items.hints.count(third), 1);
  await c.sim.runUntil(c.sim.now() + 1_000);
  for (const id of [first, second]) assert.equal((await c.sim.settle(c.node(id).items.replicas.sweepExpired(100))).expired, 1, `${id} sweeps`);
  await c.sim.runUntil(c.sim.now() + 5_000); // five graces while the third primary is down
  for (const id of [first, second]) assert.ok(tombstoneOnly(c, id, name), `${id} keeps the tombstone while ${third} is down`);
  await c.sim.restart(third);
  await c.sim.runUntil(() => c.node("n4").items.hints.count(third) === 0, { deadlineMs: c.sim.now() + 10_000 });
  assert.deepEqual(live(c, third, name), ["short"], "the hint superseded the old value with the expired one");
  await c.sim.settle(c.node(third).items.replicas.sweepExpired(100));
  // Each replica's sweep wrote its own tombstone; the reads find nothing and repair them to one set.
  for (const via of four) {
    const again = ok(await c.sim.settle(c.node(via).items.coordinator.get(table, key, { quorum: { r: 3 } })));
    assert.deepEqual(again.siblings.map((s) => new TextDecoder().decode(s.value)), [], `nothing read back through ${via}`);
  }
  await goneEverywhere(c, name, 15_000, four);
});

test("TTL: a value that expired while a primary was down stays gone when it returns, through read repair alone", async () => {
  const c = await simItemsCluster(45);
  const key = { partitionKey: encoder.encode("ttl-read") };
  await putEverywhere(c, "ttl-read", "old");
  c.sim.crash("n3");
  await c.sim.runUntil(() => !c.node("n1").membership.isUp("n3"), { deadlineMs: c.sim.now() + 5_000 });
  const read = ok(await c.sim.settle(c.node("n1").items.coordinator.get(table, key, { quorum: { r: 2 } })));
  ok(await c.sim.settle(c.node("n1").items.coordinator.put(table, key, write("short", c.sim.clock("n1").nowMs() + 300), { quorum: { w: 2 }, condition: {}, context: read.context })));
  await c.sim.runUntil(c.sim.now() + 1_000);
  for (const id of ["n1", "n2"]) assert.equal((await c.sim.settle(c.node(id).items.replicas.sweepExpired(100))).expired, 1, `${id} sweeps`);
  await c.sim.runUntil(c.sim.now() + 5_000);
  for (const id of ["n1", "n2"]) assert.ok(tombstoneOnly(c, id, "ttl-read"), `${id} keeps the tombstone while n3 is down`);
  await c.sim.restart("n3");
  await c.sim.runUntil(c.sim.now() + 2_000);
  assert.deepEqual(live(c, "n3", "ttl-read"), ["old"], "without anti-entropy or hints n3 keeps the old value until a read");
  const through = ok(await c.sim.settle(c.node("n3").items.coordinator.get(table, key, { quorum: { r: 3 } })));
  assert.deepEqual(through.siblings.map((s) => new TextDecoder().decode(s.value)), [], "the read through the stale replica");
  await goneEverywhere(c, "ttl-read", 15_000);
});
