import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { RemovedRefusals, removedRefusalsMetaKey } from "./peer-dispatcher-refusals.js";

// The durable list of nodes whose data messages are refused (removed while down): it survives a
// restart, ends for a node placed again, stays bounded, and ignores what it cannot read.

test("refusals are durable: a restart loads them; a deleted one is gone after the restart too", async () => {
  const storage = new MemoryStorageEngine();
  const refusals = RemovedRefusals.load(storage, 8);
  await refusals.add("c", 7);
  await refusals.add("e", 9);
  const again = RemovedRefusals.load(storage, 8);
  assert.deepEqual([again.get("c"), again.get("e"), again.get("a")], [7, 9, undefined]);
  await again.delete("c");
  assert.deepEqual(RemovedRefusals.load(storage, 8).list(), [{ id: "e", ringVersion: 9 }]);
});

test("refusals are bounded (the oldest forgotten first) and unreadable or malformed entries are dropped", async () => {
  const storage = new MemoryStorageEngine();
  const refusals = RemovedRefusals.load(storage, 2);
  for (const [id, version] of [["a", 1], ["b", 2], ["c", 3]] as const) await refusals.add(id, version);
  assert.deepEqual(refusals.list().map((e) => e.id), ["b", "c"]);
  await storage.write([{ type: "put", key: removedRefusalsMetaKey, value: new TextEncoder().encode(JSON.stringify([{ id: "x", ringVersion: 1 }, { id: 5 }, { id: "y", ringVersion: "2" }, null])) }], { durable: true });
  assert.deepEqual(RemovedRefusals.load(storage, 2).list(), [{ id: "x", ringVersion: 1 }]);
  await storage.write([{ type: "put", key: removedRefusalsMetaKey, value: new TextEncoder().encode("not json") }], { durable: true });
  assert.equal(RemovedRefusals.load(storage, 2).size, 0);
});
