import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { ManualClock } from "../node/manual-clock.js";
import { encodeItemKey, tableItemsPrefix } from "../storage/item-key.js";
import { namespacePrefix, Namespace } from "../storage/keyspace.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ReplicaService, tombstoneCheckKeysMax } from "./replica-service.js";
import { decodeTombstoneIndexKey, tombstoneIndexKey, tombstoneTimeOf } from "./tombstone-index.js";

// The tombstone index (namespace 0x07): exactly one entry per key whose stored set holds only
// tombstones, at its newest tombstone's time, kept in the same write as the set by every path
// that replaces or removes one (coordinated writes, merges, the expiry sweep, reaps, purges).

const t0 = Date.UTC(2026, 0, 1);
const ms = (physicalMs: number) => physicalMs * 1024;
const keyOf = (name: string, table = 7) => encodeItemKey(table, new TextEncoder().encode(name));

function sibling(text: string, timestamp: number, tombstone = false, expiresAtMs: number | null = null): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone, expiresAtMs };
}

function service() {
  const storage = new MemoryStorageEngine();
  const clock = new ManualClock(t0);
  const hlc = new HybridLogicalClock(clock, 60_000);
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  return { replica: new ReplicaService({ nodeId: "n1", storage, hints, siblingsMax: 100, clock, hlc }), storage, clock, hints };
}

function indexed(storage: MemoryStorageEngine): { timeMs: number }[] {
  return [...storage.range({ prefix: namespacePrefix(Namespace.tombstones) })].map((entry) => ({ timeMs: decodeTombstoneIndexKey(entry.key).timeMs }));
}

test("a set's tombstone time is its newest tombstone's physical time, and only for sets of tombstones", () => {
  const live = dvvset.update(dvvset.newValue(sibling("v", ms(t0))), dvvset.empty(), "n1");
  const dead = dvvset.update(dvvset.newWithContext(dvvset.join(live), sibling("", ms(t0 + 5), true)), live, "n1");
  assert.equal(tombstoneTimeOf(live), undefined);
  assert.equal(tombstoneTimeOf(undefined), undefined);
  assert.equal(tombstoneTimeOf(dead), t0 + 5);
  const both = dvvset.sync(dead, dvvset.update(dvvset.newValue(sibling("", ms(t0 + 9) + 3, true)), dvvset.empty(), "n2"));
  assert.equal(tombstoneTimeOf(both), t0 + 9);
  assert.deepEqual(decodeTombstoneIndexKey(tombstoneIndexKey(t0, keyOf("k"))), { timeMs: t0, itemKey: keyOf("k") });
});

test("every path that writes a set keeps the index exact: delete, write over, merge, sweep, reap, purge", async () => {
  const { replica, storage, clock } = service();
  const a = keyOf("a");
  await replica.coordinateWrite(a, sibling("v", 0), undefined, { lww: false });
  assert.equal(indexed(storage).length, 0, "a live value has no entry");
  await replica.coordinateWrite(a, sibling("", 0, true), dvvset.join(replica.fetch(a)!), { lww: false });
  assert.equal(indexed(storage).length, 1, "a delete adds one");
  await replica.coordinateWrite(a, sibling("again", 0), dvvset.join(replica.fetch(a)!), { lww: false });
  assert.equal(indexed(storage).length, 0, "a write over the tombstone removes it");
  const b = keyOf("b");
  const tombstone = dvvset.update(dvvset.newValue(sibling("", ms(t0 - 50), true)), dvvset.empty(), "n2");
  assert.ok((await replica.merge(b, tombstone, { lww: false })).ok);
  assert.deepEqual(indexed(storage).map((e) => e.timeMs), [t0 - 50], "a merged tombstone adds one at its time");
  const c = keyOf("c");
  assert.ok((await replica.merge(c, dvvset.update(dvvset.newValue(sibling("s", ms(t0), false, t0 + 10)), dvvset.empty(), "n2"), { lww: false })).ok);
  clock.advance(20);
  assert.equal((await replica.sweepExpired(10)).expired, 1);
  assert.equal(indexed(storage).length, 2, "the sweep's tombstone adds one (the defect: nothing found it before)");
  assert.ok(await replica.reap(b, tombstone));
  assert.equal(indexed(storage).length, 1, "a reap removes it");
  await replica.purgeStep(tableItemsPrefix(7), 100);
  assert.equal(indexed(storage).length, 0, "a purge removes it");
});

test("tombstonesDue lists tombstones older than the bound in time order, in bounded pages with a cursor", async () => {
  const { replica } = service();
  for (let i = 0; i < 5; i++) {
    assert.ok((await replica.merge(keyOf(`k${i}`), dvvset.update(dvvset.newValue(sibling("", ms(t0 - 100 + i * 10), true)), dvvset.empty(), "n2"), { lww: false })).ok);
  }
  const first = replica.tombstonesDue(t0 - 65, 2);
  assert.deepEqual(first.due.map((d) => d.timeMs), [t0 - 100, t0 - 90]);
  assert.ok(first.next !== null);
  const second = replica.tombstonesDue(t0 - 65, 2, first.next!);
  assert.deepEqual(second.due.map((d) => d.timeMs), [t0 - 80, t0 - 70]);
  const third = replica.tombstonesDue(t0 - 65, 2, second.next!);
  assert.deepEqual(third, { due: [], next: null });
});

test("the tombstone check reports hints for a key under any target and stored sets; bad input is refused and changes nothing", async () => {
  const { replica, hints } = service();
  const k = keyOf("h");
  const set = dvvset.update(dvvset.newValue(sibling("v", 0)), dvvset.empty(), "n2");
  assert.ok((await hints.add({ target: "n9", tableId: 7, key: k, set })).ok);
  assert.deepEqual(await replica.handle("n2", { type: "replica.tombstones", keys: [k, keyOf("other")], what: "hints" }), { ok: true, results: [true, false] });
  assert.ok((await replica.merge(k, set, { lww: false })).ok);
  const sets = (await replica.handle("n2", { type: "replica.tombstones", keys: [k, keyOf("other")], what: "sets" })) as { ok: boolean; results: unknown[] };
  assert.ok(sets.ok && dvvset.equal(sets.results[0] as typeof set, set) && sets.results[1] === null);
  const tooMany = Array.from({ length: tombstoneCheckKeysMax + 1 }, (_, i) => keyOf(`x${i}`));
  for (const bad of [{ keys: tooMany, what: "sets" }, { keys: [k], what: "everything" }, { keys: ["k"], what: "hints" }, { keys: null, what: "sets" }]) {
    const reply = (await replica.handle("n2", { type: "replica.tombstones", ...bad })) as { ok: boolean; error: string };
    assert.equal(reply.ok, false);
    assert.match(reply.error, /^tombstones: /);
  }
});

test("a reaped tombstone merged back is dropped while remembered; the memory is bounded and expires", async () => {
  const storage = new MemoryStorageEngine();
  const clock = new ManualClock(t0);
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId: "n1", storage, hints, siblingsMax: 100, clock, hlc: new HybridLogicalClock(clock, 60_000), reapedMemory: { entriesMax: 2, ms: 1_000 } });
  const tombstoneOf = (name: string) => dvvset.update(dvvset.newWithContext([["n2", 1]], sibling("", ms(t0), true)), dvvset.update(dvvset.newValue(sibling(name, ms(t0))), dvvset.empty(), "n2"), "n2");
  const reapAndMergeBack = async (name: string) => {
    const set = tombstoneOf(name);
    assert.ok((await replica.merge(keyOf(name), set, { lww: false })).ok);
    assert.ok(await replica.reap(keyOf(name), set));
    assert.ok((await replica.merge(keyOf(name), set, { lww: false })).ok);
    return replica.fetch(keyOf(name));
  };
  assert.equal(await reapAndMergeBack("a"), undefined, "dropped: it adds nothing to what was reaped");
  assert.equal(await reapAndMergeBack("b"), undefined);
  assert.equal(await reapAndMergeBack("c"), undefined);
  // Two remembered at most: "a" was forgotten first, so it is stored again (harmless: GC collects it again).
  assert.ok((await replica.merge(keyOf("a"), tombstoneOf("a"), { lww: false })).ok);
  assert.ok(replica.fetch(keyOf("a")) !== undefined);
  clock.advance(1_001);
  assert.ok((await replica.merge(keyOf("c"), tombstoneOf("c"), { lww: false })).ok);
  assert.ok(replica.fetch(keyOf("c")) !== undefined, "forgotten after reapedMemory.ms");
});
