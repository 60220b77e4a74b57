import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { planRing } from "../ring/ring-plan.js";
import { ringSettled, ringState, type RingState } from "../ring/ring-state.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { Departures, departuresMetaKey } from "./tombstone-reaper-departures.js";

// The departure records tombstone GC waits on (tombstone-reaper-departures.ts): who a ring takes
// out while up, cleared only by a report newer than the last ring that placed the node, merged
// field by field, durable and bounded.

function ringOf(ids: string[], version: number, departing?: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 8 });
  assert.ok(claimed.ok);
  return ringState({ ...claimed.ring, version, ...(departing !== undefined ? { departing } : {}) });
}

test("a node the ring lists as departing (a committed leave) is pending until its clean report; one it drops unlisted (a replace, a removal) is not recorded", async () => {
  const storage = new MemoryStorageEngine();
  const d = Departures.load(storage, 16, ringOf(["a", "b", "c", "d"], 3));
  // d was replaced while this node still believed it up: the ring does not list it, so nothing waits for it.
  await d.observeRing(ringOf(["a", "b"], 4, ["c"]));
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
  await d.observeRing(ringOf(["a", "b"], 2, ["c"]));
  await d.markClean("c", 2);
  await d.observeRing(ringOf(["a", "b", "c"], 5)); // c joined again
  assert.deepEqual(d.pending(ringOf(["a", "b", "c"], 5)), [], "a member is not a pending departure");
  await d.observeRing(ringOf(["a", "b"], 6, ["c"])); // and left again
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
  await d.observeRing(ringOf(["a", "b"], 2, ["c"]));
  assert.deepEqual(d.pending(ringOf(["a", "b"], 2)), ["c"]);
  assert.deepEqual(d.wire(), [], "a node replaced while down must not make the others wait for it");
  await d.markClean("c", 2);
  assert.deepEqual(d.wire(), [["c", 1, 2]]);
});

test("the leave's ring in transition records the leaver (placed until it settles); a node that saw only the settled ring records the same departure", async () => {
  const base = ringOf(["a", "b", "c"], 3);
  const planned = planRing(base, [{ leave: "c" }, { replace: ["b", "e"] }]);
  assert.ok(planned.ok);
  assert.deepEqual(planned.ring.departing, ["c"], "by default the leave departs, the replaced node does not");
  const settled = ringSettled(planned.ring);
  assert.deepEqual(settled.departing, ["c"]);
  const sawBoth = Departures.load(new MemoryStorageEngine(), 16, base);
  await sawBoth.observeRing(planned.ring);
  assert.deepEqual(sawBoth.pending(planned.ring), [], "while in transition c is still placed");
  await sawBoth.observeRing(settled);
  assert.deepEqual(sawBoth.pending(settled), ["c"]);
  const sawSettled = Departures.load(new MemoryStorageEngine(), 16, base);
  await sawSettled.observeRing(settled);
  assert.deepEqual(sawSettled.get("c"), sawBoth.get("c"), "both record c as placed up to the ring in transition");
  // A leaver the leader held down is a removal: not departing.
  const removal = planRing(base, [{ leave: "c" }], { departs: () => false });
  assert.ok(removal.ok);
  assert.equal(removal.ring.departing, undefined);
});

test("an operator's forget clears a pending departure, spreads and wins over the pending record in any merge order; a later leave is pending again", async () => {
  const ring = ringOf(["a", "b"], 4, ["c"]);
  const here = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b", "c"], 3));
  const there = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b", "c"], 3));
  await here.observeRing(ring);
  await there.observeRing(ring);
  await here.forget("c", 4);
  assert.deepEqual(here.pending(ring), []);
  await there.merge(here.wire());
  assert.deepEqual(there.pending(ring), [], "the forget won over the pending record");
  await there.merge([["c", 3, -1]]); // the pending record arriving again from a member that missed the forget
  assert.deepEqual(there.pending(ring), [], "merging the stale pending record changes nothing");
  await there.observeRing(ringOf(["a", "b", "c"], 7));
  await there.observeRing(ringOf(["a", "b"], 8, ["c"]));
  assert.deepEqual(there.pending(ringOf(["a", "b"], 8)), ["c"], "c joined and left again: a new departure");
});

test("counts and the oldest pending departure's age (since this node saw it pending)", async () => {
  let now = 1_000;
  const d = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b", "c", "d"], 3), "a", () => now);
  assert.equal(d.oldestPendingAgeMs(undefined), 0);
  await d.observeRing(ringOf(["a", "b"], 4, ["c", "d"]));
  now = 6_000;
  await d.markClean("d", 4);
  assert.deepEqual(d.counts(), { records: 2, pending: 1 });
  assert.equal(d.oldestPendingAgeMs(ringOf(["a", "b"], 4)), 5_000);
  await d.forget("c", 4);
  assert.equal(d.oldestPendingAgeMs(ringOf(["a", "b"], 4)), 0);
  assert.deepEqual(d.counts(), { records: 2, pending: 0 });
});

test("the age of a pending departure counts from the ring that no longer places the leaver, not from its transition", async () => {
  let now = 0;
  const base = ringOf(["a", "b", "c"], 3);
  const planned = planRing(base, [{ leave: "c" }]);
  assert.ok(planned.ok);
  const d = Departures.load(new MemoryStorageEngine(), 16, base, "a", () => now);
  await d.observeRing(planned.ring);
  now = 60_000; // partitions moved for a minute
  assert.equal(d.oldestPendingAgeMs(planned.ring), 0, "still placed: GC waits for it as a member");
  const settled = ringSettled(planned.ring);
  await d.observeRing(settled);
  now = 61_000;
  assert.equal(d.oldestPendingAgeMs(settled), 1_000);
});

test("a node that restarts on a ring listing a departure it had not recorded yet (a crash between the two writes) records it", () => {
  const d = Departures.load(new MemoryStorageEngine(), 16, ringOf(["a", "b"], 4, ["c"]));
  assert.deepEqual(d.pending(ringOf(["a", "b"], 4)), ["c"]);
  assert.deepEqual(d.get("c"), { placedUpTo: 3, cleanAt: -1 });
});
