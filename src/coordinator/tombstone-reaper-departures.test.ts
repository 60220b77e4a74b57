import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { Departures, departuresMetaKey } from "./tombstone-reaper-departures.js";

// The departure records tombstone GC waits on (tombstone-reaper-departures.ts): who a ring takes
// out while up, cleared only by a report newer than the last ring that placed the node, merged
// field by field, durable and bounded.

function ringOf(ids: string[], version: number): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 8 });
  assert.ok(claimed.ok);
  return ringState({ ...claimed.ring, version });
}

const up = () => false;

test("a node a ring takes out while up is pending until its clean report; one taken out while down is not recorded", async () => {
  const storage = new MemoryStorageEngine();
  const d = Departures.load(storage, 16, ringOf(["a", "b", "c", "d"], 3));
  await d.observeRing(ringOf(["a", "b"], 4), (id) => id === "d");
  assert.deepEqual(d.pending(ringOf(["a", "b"], 4)), ["c"]);
  await d.markClean("c", 4);
  assert.deepEqual(d.pending(ringOf(["a", "b"], 4)), []);
  // Durable: a restart reads the same records.
  const again = Departures.load(storage, 16, ringOf(["a", "b"], 4));
  assert.deepEqual(again.get("c"), { placedUpTo: 3, cleanAt: 4 });
  assert.equal(again.get("d"), undefined);
});

test("a report from an earlier departure does not clear a later one; a ring placing the node again ends the wait", async () => {
  const d = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b", "c"], 1));
  await d.observeRing(ringOf(["a", "b"], 2), up);
  await d.markClean("c", 2);
  await d.observeRing(ringOf(["a", "b", "c"], 5), up); // c joined again
  assert.deepEqual(d.pending(ringOf(["a", "b", "c"], 5)), [], "a member is not a pending departure");
  await d.observeRing(ringOf(["a", "b"], 6), up); // and left again
  assert.deepEqual(d.pending(ringOf(["a", "b"], 6)), ["c"]);
  // The old report arriving late (from a peer) changes nothing; a new one clears it.
  await d.merge([["c", 1, 2]]);
  assert.deepEqual(d.pending(ringOf(["a", "b"], 6)), ["c"]);
  await d.merge([["c", 5, 7]]);
  assert.deepEqual(d.pending(ringOf(["a", "b"], 6)), []);
});

test("merging is order-free, malformed records are dropped, and the records are bounded (clean ones forgotten first)", async () => {
  const records: unknown[] = [["x", 3, -1], ["x", 2, 4], ["y", 1, -1], "junk", ["z", "1", 2], ["", 1, 1]];
  const one = Departures.load(new MemoryStorageEngine(), 16, undefined);
  const other = Departures.load(new MemoryStorageEngine(), 16, undefined);
  await one.merge(records);
  await other.merge([...records].reverse());
  assert.deepEqual(new Map(one.wire().map(([id, p, c]) => [id, [p, c]])), new Map(other.wire().map(([id, p, c]) => [id, [p, c]])));
  assert.deepEqual(one.get("x"), { placedUpTo: 3, cleanAt: 4 });
  assert.deepEqual(one.wire().map(([id]) => id).sort(), ["x", "y"]);
  const small = Departures.load(new MemoryStorageEngine(), 2, undefined);
  await small.merge([["clean", 1, 2], ["p1", 1, -1], ["p2", 1, -1]]);
  assert.deepEqual(small.wire().map(([id]) => id).sort(), ["p1", "p2"]);
  await small.merge([["p3", 1, -1]]);
  assert.equal(small.wire().length, 2);
  assert.equal(small.evictedPending, 1);
});

test("unreadable stored records start empty", () => {
  const storage = new MemoryStorageEngine();
  void storage.write([{ type: "put", key: departuresMetaKey, value: new TextEncoder().encode("{not json") }]);
  assert.deepEqual(Departures.load(storage, 4, undefined).wire(), []);
});

test("a node's own pending record is kept but never sent; once clean it is", async () => {
  const d = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b", "c"], 1), "c");
  await d.observeRing(ringOf(["a", "b"], 2), up);
  assert.deepEqual(d.pending(ringOf(["a", "b"], 2)), ["c"]);
  assert.deepEqual(d.wire(), [], "a node replaced while down must not make the others wait for it");
  await d.markClean("c", 2);
  assert.deepEqual(d.wire(), [["c", 1, 2]]);
});
