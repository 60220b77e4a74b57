import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { HintStore } from "../handoff/hint-store.js";
import { decodeItemKey, encodeItemKey, tableItemsPrefix } from "../storage/item-key.js";
import { ManualClock } from "../node/manual-clock.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { HlcFloor, hlcFloorKey } from "./hlc-floor.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ReplicaService } from "./replica-service.js";
import { decodeSiblingRecord, encodeSiblingRecord } from "./sibling-record.js";

const key = encodeItemKey(7, new TextEncoder().encode("cart:42"));
const siblings = { lww: false };

function sibling(text: string, timestamp = 1, tombstone = false): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone, expiresAtMs: null };
}

function texts(set: dvvset.DottedVersionVectorSet<Sibling> | undefined): string[] {
  return set === undefined ? [] : dvvset.values(set).map((s) => new TextDecoder().decode(s.value)).sort();
}

function service(nodeId = "n1", siblingsMax = 100): { replica: ReplicaService; storage: MemoryStorageEngine; hints: HintStore<Sibling> } {
  const storage = new MemoryStorageEngine();
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  return { replica: new ReplicaService({ nodeId, storage, hints, siblingsMax }), storage, hints };
}

test("two blind writes become siblings with consecutive dots of the coordinator", async () => {
  const { replica } = service();
  const first = await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const second = await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  assert.ok(first.ok && second.ok);
  assert.deepEqual(first.dot, ["n1", 1]);
  assert.deepEqual(second.dot, ["n1", 2]);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"]);
});

test("concurrent coordinated writes of one key are serialized: no dot is issued twice", async () => {
  const { replica } = service();
  const results = await Promise.all(["a", "b", "c", "d"].map((text) => replica.coordinateWrite(key, sibling(text), undefined, siblings)));
  const counters = results.map((result) => (result.ok ? result.dot[1] : -1)).sort();
  assert.deepEqual(counters, [1, 2, 3, 4]);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b", "c", "d"]);
});

test("a write with the context of a read replaces exactly the siblings that read saw", async () => {
  const { replica } = service();
  await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const context = dvvset.join(replica.fetch(key)!);
  await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  await replica.coordinateWrite(key, sibling("c"), context, siblings);
  assert.deepEqual(texts(replica.fetch(key)), ["b", "c"]);
});

test("a coordinated write past siblingsMax is refused and nothing is stored", async () => {
  const { replica } = service("n1", 2);
  await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  const refused = await replica.coordinateWrite(key, sibling("c"), undefined, siblings);
  assert.equal(refused.ok, false);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"]);
});

test("merge syncs another replica's version into the local set", async () => {
  const a = service("n1");
  const b = service("n2");
  await a.replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  await b.replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  await a.replica.merge(key, b.replica.fetch(key)!, siblings);
  await b.replica.merge(key, a.replica.fetch(key)!, siblings);
  assert.deepEqual(texts(a.replica.fetch(key)), ["a", "b"]);
  assert.ok(dvvset.equal(a.replica.fetch(key)!, b.replica.fetch(key)!));
});

test("a last-writer-wins merge keeps only the highest timestamp", async () => {
  const { replica } = service();
  await replica.coordinateWrite(key, sibling("old", 5), undefined, { lww: true });
  const other = service("n2");
  await other.replica.coordinateWrite(key, sibling("new", 9), undefined, { lww: true });
  await replica.merge(key, other.replica.fetch(key)!, { lww: true });
  assert.deepEqual(texts(replica.fetch(key)), ["new"]);
});

test("a merge message for a down primary is kept as a hint, not as local data, and fetched as one", async () => {
  const { replica, hints } = service("n4");
  const set = dvvset.update(dvvset.newValue(sibling("h")), dvvset.empty<Sibling>(), "n1");
  const reply = await replica.handle("n1", { type: "replica.merge", key, set, hintFor: "n2", lww: false });
  assert.deepEqual(reply, { ok: true, durable: true });
  assert.equal(replica.fetch(key), undefined);
  assert.equal(hints.count("n2"), 1);
  const fetched = (await replica.handle("n1", { type: "replica.fetch", key, hintFor: "n2" })) as { ok: true; set: unknown };
  assert.ok(dvvset.equal(fetched.set as typeof set, set));
  const own = await replica.handle("n1", { type: "replica.fetch", key, hintFor: null });
  assert.deepEqual(own, { ok: true, set: null });
});

test("a malformed merge message is refused as a value", async () => {
  const { replica } = service();
  const reply = (await replica.handle("n2", { type: "replica.merge", key, set: { entries: "no" }, hintFor: null, lww: false })) as { ok: boolean };
  assert.equal(reply.ok, false);
});

test("the sibling record round-trips and refuses another format", () => {
  const set = dvvset.update(dvvset.newValue(sibling("x")), dvvset.empty<Sibling>(), "n1");
  assert.ok(dvvset.equal(decodeSiblingRecord(encodeSiblingRecord(set)), set));
  const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
  assert.throws(() => decodeSiblingRecord(packr.pack([1, set])), /format 1/);
});

// The node's additions: the expiry index, the sweep, reaps, scans, purges, the fresh-counter base.

function clockedService(nodeId = "n1"): { replica: ReplicaService; storage: MemoryStorageEngine; clock: ManualClock } {
  const storage = new MemoryStorageEngine();
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const clock = new ManualClock(1_000_000);
  const hlc = new HybridLogicalClock(clock, 60_000);
  const replica = new ReplicaService({ nodeId, storage, hints, siblingsMax: 100, clock, hlc, hlcFloor: new HlcFloor(storage, hlc) });
  return { replica, storage, clock };
}

function expiring(text: string, expiresAtMs: number | null): Sibling {
  return { ...sibling(text), expiresAtMs };
}

function indexEntries(storage: MemoryStorageEngine): number {
  return [...storage.range({ prefix: Uint8Array.of(0x03) })].length;
}

test("the expiry index follows the stored set: one entry per expiry, gone when a write supersedes it", async () => {
  const { replica, storage } = clockedService();
  await replica.coordinateWrite(key, expiring("a", 2_000_000), undefined, siblings);
  await replica.coordinateWrite(key, expiring("b", 3_000_000), undefined, siblings);
  assert.equal(indexEntries(storage), 2);
  await replica.coordinateWrite(key, expiring("c", null), dvvset.join(replica.fetch(key)!), siblings);
  assert.equal(indexEntries(storage), 0);
  assert.ok(storage.get(hlcFloorKey) !== undefined, "a coordinated write carries the HLC floor");
});

test("the sweep turns a key whose live siblings all expired into a tombstone over its whole history", async () => {
  const { replica, storage, clock } = clockedService();
  const other = "k2";
  const key2 = encodeItemKey(7, new TextEncoder().encode(other));
  await replica.coordinateWrite(key, expiring("a", 1_500_000), undefined, siblings);
  await replica.coordinateWrite(key, expiring("b", 1_600_000), undefined, siblings);
  await replica.coordinateWrite(key2, expiring("half", 1_500_000), undefined, siblings);
  await replica.coordinateWrite(key2, expiring("stays", null), undefined, siblings);
  const before = replica.fetch(key)!;
  clock.advance(650_000);
  assert.deepEqual(await replica.sweepExpired(1), { processed: 1, expired: 1 });
  // The tombstone took the key's other index entry with it; key2 keeps a live sibling.
  assert.deepEqual(await replica.sweepExpired(10), { processed: 1, expired: 0 });
  const after = replica.fetch(key)!;
  assert.ok(dvvset.values(after).every((s) => s.tombstone) && dvvset.size(after) === 1);
  assert.ok(dvvset.less(before, after), "the tombstone's history covers everything the key held");
  assert.deepEqual(texts(replica.fetch(key2)), ["half", "stays"]);
  assert.equal(indexEntries(storage), 0);
});

test("a reap removes the key only while its set is exactly the tombstone set it was given", async () => {
  const { replica } = clockedService();
  const tombstone = { ...sibling(""), tombstone: true };
  await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const deleted = await replica.coordinateWrite(key, tombstone, dvvset.join(replica.fetch(key)!), siblings);
  assert.ok(deleted.ok);
  await replica.coordinateWrite(key, sibling("new"), undefined, siblings);
  assert.equal(await replica.reap(key, deleted.set), false);
  assert.deepEqual(texts(replica.fetch(key)), ["", "new"]);
  const live = replica.fetch(key)!;
  assert.equal(await replica.reap(key, live), false, "a set with a live sibling is never reaped");
  const gone = await replica.coordinateWrite(key, tombstone, dvvset.join(live), siblings);
  assert.ok(gone.ok);
  assert.deepEqual(await replica.handle("n2", { type: "replica.reap", key, set: gone.set }), { ok: true, reaped: true });
  assert.equal(replica.fetch(key), undefined);
});

test("with a fresh-counter base, the first dot of a key this node holds nothing of starts above it", async () => {
  const storage = new MemoryStorageEngine();
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId: "n1", storage, hints, siblingsMax: 100, freshCounterBase: () => 5_000 });
  const first = await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const second = await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  assert.ok(first.ok && second.ok);
  assert.deepEqual([first.dot, second.dot], [["n1", 5_001], ["n1", 5_002]]);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"], "a blind write on a held key is still a sibling");
});

test("scan and replica.list return stored sets in key order within bounds, tombstones included, and say when the range is exhausted", async () => {
  const { replica } = clockedService();
  const keyOf = (text: string) => encodeItemKey(7, new TextEncoder().encode(text));
  for (const text of ["a", "b", "c", "d"]) await replica.coordinateWrite(keyOf(text), sibling(text), undefined, siblings);
  await replica.coordinateWrite(keyOf("c"), { ...sibling(""), tombstone: true }, dvvset.join(replica.fetch(keyOf("c"))!), siblings);
  const prefix = tableItemsPrefix(7);
  const names = (page: { entries: { key: Uint8Array }[] }) => page.entries.map((e) => decodeItemKey(e.key).partitionKey).map((b) => new TextDecoder().decode(b));
  const first = replica.scan({ prefix, low: { key: keyOf("a"), inclusive: false }, reverse: false, limit: 2 });
  assert.deepEqual([names(first), first.exhausted], [["b", "c"], false]);
  const rest = replica.scan({ prefix, low: { key: keyOf("c"), inclusive: false }, reverse: false, limit: 2 });
  assert.deepEqual([names(rest), rest.exhausted], [["d"], true]);
  const back = replica.scan({ prefix, high: { key: keyOf("d"), inclusive: false }, low: { key: keyOf("a"), inclusive: true }, reverse: true, limit: 10 });
  assert.deepEqual([names(back), back.exhausted], [["c", "b", "a"], true]);
  const reply = (await replica.handle("n2", { type: "replica.list", prefix, low: null, high: null, reverse: false, limit: 3 })) as { ok: boolean; entries: unknown[]; exhausted: boolean };
  assert.equal(reply.ok, true);
  assert.equal(reply.entries.length, 3);
  assert.equal(reply.exhausted, false);
  const refused = (await replica.handle("n2", { type: "replica.list", prefix, low: null, high: null, reverse: false, limit: 0 })) as { ok: boolean };
  assert.equal(refused.ok, false);
});

test("a purge step removes sibling records with their expiry entries and a strong table's records alike", async () => {
  const { replica, storage } = clockedService();
  await replica.coordinateWrite(key, expiring("a", 2_000_000), undefined, siblings);
  const foreign = encodeItemKey(7, new TextEncoder().encode("acceptor"));
  await storage.write([{ type: "put", key: foreign, value: new Packr({ useRecords: false }).pack([3, { promised: [1, "n1"] }]) }]);
  assert.equal(await replica.purgeStep(tableItemsPrefix(7), 10), 2);
  assert.equal([...storage.range({ prefix: tableItemsPrefix(7) })].length, 0);
  assert.equal(indexEntries(storage), 0);
});

test("coordinated writes to a dropped table are refused and merges into it discarded", async () => {
  const storage = new MemoryStorageEngine();
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId: "n1", storage, hints, siblingsMax: 100, isTableDropped: (id) => id === 7 });
  const refused = await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  assert.ok(!refused.ok && refused.error === "bad-request");
  // A merge (replication, a handed-back hint) is acknowledged but stores nothing.
  assert.deepEqual(await replica.merge(key, dvvset.update(dvvset.newValue(sibling("b")), dvvset.empty<Sibling>(), "n2"), siblings), { ok: true, durable: true });
  assert.equal(replica.fetch(key), undefined);
});
