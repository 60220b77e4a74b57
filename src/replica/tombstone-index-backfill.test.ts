import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { ManualClock } from "../node/manual-clock.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { decodeItemKey, encodeItemKey } from "../storage/item-key.js";
import { namespacePrefix, Namespace } from "../storage/keyspace.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ReplicaService } from "./replica-service.js";
import { backfillMetaKey, TombstoneIndexBackfill } from "./tombstone-index-backfill.js";
import { decodeTombstoneIndexKey, tombstoneIndexKey, tombstoneTimeOf } from "./tombstone-index.js";

// The one-time pass that indexes tombstones written before the tombstone index existed: here
// the "old" data is made by removing the entries the writes created.

const t0 = Date.UTC(2026, 0, 1);
const keyOf = (name: string) => encodeItemKey(7, new TextEncoder().encode(name));
const sibling = (text: string, tombstone = false): Sibling => ({ value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp: 0, tombstone, expiresAtMs: null });

function service(storage = new MemoryStorageEngine()) {
  const clock = new ManualClock(t0);
  const hlc = new HybridLogicalClock(clock, 60_000);
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  return { replica: new ReplicaService({ nodeId: "n1", storage, hints, siblingsMax: 100, clock, hlc }), storage };
}

function indexedKeys(storage: MemoryStorageEngine): string[] {
  return [...storage.range({ prefix: namespacePrefix(Namespace.tombstones) })].map((entry) => new TextDecoder().decode(decodeItemKey(decodeTombstoneIndexKey(entry.key).itemKey).partitionKey));
}

/** Writes `names` (those in `deleted` then deleted), then removes every index entry: data from before the index. */
async function oldData(replica: ReplicaService, storage: MemoryStorageEngine, names: string[], deleted: Set<string>): Promise<void> {
  for (const name of names) {
    await replica.coordinateWrite(keyOf(name), sibling(name), undefined, { lww: false });
    if (deleted.has(name)) await replica.coordinateWrite(keyOf(name), sibling("", true), dvvset.join(replica.fetch(keyOf(name))!), { lww: false });
  }
  const entries = [...storage.range({ prefix: namespacePrefix(Namespace.tombstones) })];
  await storage.write(entries.map((entry) => ({ type: "delete" as const, key: entry.key })), { durable: true });
  assert.deepEqual(indexedKeys(storage), []);
}

test("the pass indexes every tombstone-only key in bounded steps, leaves live keys alone, and marks itself done durably", async () => {
  const { replica, storage } = service();
  const names = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  const deleted = new Set(names.filter((_, i) => i % 3 === 0));
  await oldData(replica, storage, names, deleted);
  const backfill = new TombstoneIndexBackfill({ storage, timers: new NodeTimers(), fetch: (key) => replica.fetch(key), batchMax: 5 });
  let steps = 0;
  while (await backfill.step()) steps++;
  assert.ok(steps >= 4, `bounded steps (${steps + 1} for 23 keys at 5 a step)`);
  assert.deepEqual(indexedKeys(storage), [...deleted].sort());
  assert.equal(backfill.stats.indexed, deleted.size);
  for (const name of deleted) assert.ok(storage.get(tombstoneIndexKey(tombstoneTimeOf(replica.fetch(keyOf(name)))!, keyOf(name))) !== undefined);
  assert.equal(backfill.finished, true);
  storage.crash();
  assert.deepEqual(storage.get(backfillMetaKey), Uint8Array.of(0), "the done marker is durable");
  const again = new TombstoneIndexBackfill({ storage, timers: new NodeTimers(), fetch: (key) => replica.fetch(key) });
  assert.equal(await again.step(), false);
  assert.equal(again.stats.read, 0, "a finished directory is not scanned again");
});

test("a pass cut by a restart resumes after the last key it read; an entry already there is not written twice", async () => {
  const { replica, storage } = service();
  const names = ["a", "b", "c", "d", "e", "f"];
  await oldData(replica, storage, names, new Set(names));
  const first = new TombstoneIndexBackfill({ storage, timers: new NodeTimers(), fetch: (key) => replica.fetch(key), batchMax: 2 });
  assert.equal(await first.step(), true);
  assert.deepEqual(indexedKeys(storage), ["a", "b"]);
  const second = new TombstoneIndexBackfill({ storage, timers: new NodeTimers(), fetch: (key) => replica.fetch(key), batchMax: 2 });
  while (await second.step());
  assert.deepEqual(indexedKeys(storage), names);
  assert.equal(second.stats.read, 4, "resumed after b");
});

test("an entry whose set was replaced between the step's read and its write is withdrawn", async () => {
  const { replica, storage } = service();
  await oldData(replica, storage, ["gone", "kept"], new Set(["gone", "kept"]));
  const live = dvvset.update(dvvset.newValue(sibling("back")), replica.fetch(keyOf("gone"))!, "n9");
  // The replica's view after the write: "gone" holds a live value again (a write that landed in between).
  const fetch = (key: Uint8Array) => (Buffer.from(key).equals(Buffer.from(keyOf("gone"))) ? live : replica.fetch(key));
  const backfill = new TombstoneIndexBackfill({ storage, timers: new NodeTimers(), fetch });
  while (await backfill.step());
  assert.deepEqual(indexedKeys(storage), ["kept"]);
  assert.equal(backfill.stats.withdrawn, 1);
});
