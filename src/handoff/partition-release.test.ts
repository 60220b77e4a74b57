import { test } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import type { WriteOptions } from "../coordinator/item-operations.js";
import { HintStore } from "./hint-store.js";
import { ManualClock } from "../node/manual-clock.js";
import { simItemsCluster, type SimItemsCluster } from "../node/sim-items-cluster.test-support.js";
import { ReplicaService } from "../replica/replica-service.js";
import { decodeTombstoneIndexKey } from "../replica/tombstone-index.js";
import type { StoreResult } from "../replica/store-result.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import type { Timers } from "../runtime/runtime.js";
import { bytesEqual } from "../storage/byte-order.js";
import { encodeItemKey, tableItemsPrefix } from "../storage/item-key.js";
import { namespacePrefix, Namespace } from "../storage/keyspace.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { PartitionRelease, releaseProgressKey, type PartitionReleaseOptions } from "./partition-release.js";
import { decodeAcceptorRecord, encodeAcceptorRecord } from "../paxos/acceptor-record.js";
import { ballotZero } from "../paxos/ballot.js";

const encoder = new TextEncoder();
const t0 = Date.UTC(2026, 0, 1);
const noTimers: Timers = {
  setTimeout: () => assert.fail("the unit tests drive step() themselves"),
  clearTimeout: () => undefined,
} as unknown as Timers;

function sibling(text: string, tombstone = false): Sibling {
  return { value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp: t0 * 1024, tombstone, expiresAtMs: null };
}

function fourRing(): RingState {
  const claimed = claimInitial(["a", "b", "c", "d"].map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

const owns = (ring: RingState, self: string, name: string) => preferenceList(ring, partitionOf(encoder.encode(name), ring.partitionCount), 3).includes(self);

/** Node "a"'s replica holding 40 keys of table 7 (n = 3; every other one a tombstone), 5 of table 8 (n unknown) and a hint. */
async function replicaOfA() {
  const storage = new MemoryStorageEngine();
  const clock = new ManualClock(t0);
  const hlc = new HybridLogicalClock(clock, 60_000);
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId: "a", storage, hints, siblingsMax: 100, clock, hlc });
  const names = Array.from({ length: 40 }, (_, i) => `k${i}`);
  for (const [i, name] of names.entries()) {
    const set = dvvset.update(dvvset.newValue(sibling(name, i % 2 === 1)), dvvset.empty(), "b");
    assert.ok((await replica.merge(encodeItemKey(7, encoder.encode(name)), set, { lww: false })).ok);
  }
  for (let i = 0; i < 5; i++) assert.ok((await replica.merge(encodeItemKey(8, encoder.encode(`other${i}`)), dvvset.update(dvvset.newValue(sibling("x")), dvvset.empty(), "b"), { lww: false })).ok);
  await hints.add({ target: "c", tableId: 7, key: encodeItemKey(7, encoder.encode("k0")), set: dvvset.update(dvvset.newValue(sibling("hinted")), dvvset.empty(), "b") });
  return { storage, replica, names };
}

function release(storage: MemoryStorageEngine, ring: () => RingState | undefined, extra: Partial<PartitionReleaseOptions> = {}): PartitionRelease {
  return new PartitionRelease({ self: "a", storage, timers: noTimers, ring, nOf: (tableId) => (tableId === 7 ? 3 : undefined), batchMax: 7, onError: (error) => assert.fail(String(error)), ...extra });
}

const count = (storage: MemoryStorageEngine, namespace: number) => [...storage.range({ prefix: namespacePrefix(namespace as 1) })].length;

test("a settled ring: the keys of partitions this node is no primary of go in batches, with their tombstone index entries; the rest, other tables and hints stay", async () => {
  const ring = fourRing();
  const { storage, replica, names } = await replicaOfA();
  const unowned = names.filter((name) => !owns(ring, "a", name));
  assert.ok(unowned.length > 0 && unowned.length < names.length, "the fixture has keys on both sides");
  const hintsBefore = count(storage, Namespace.hints);
  const released: number[] = [];
  const first = release(storage, () => ring, { onReleased: (n) => released.push(n) });
  assert.equal(await first.step(), true, "7 of 45 item keys examined, more left");
  const progress = first.progress();
  assert.equal(progress?.ringVersion, ring.version);
  assert.equal(progress?.done, false);
  // A crash here: a new instance over the same storage resumes at the stored cursor.
  const resumed = release(storage, () => ring, { onReleased: (n) => released.push(n) });
  assert.ok(bytesEqual(resumed.progress()!.after!, progress!.after!), "the restarted release sees the stored cursor");
  let steps = 1;
  while (await resumed.step()) steps++;
  steps++;
  assert.equal(steps, 7, "one pass of 45 keys by 7: six full steps and a last one of 3");
  for (const name of names) {
    const held = replica.fetch(encodeItemKey(7, encoder.encode(name))) !== undefined;
    assert.equal(held, owns(ring, "a", name), `${name}: kept exactly when "a" is one of its primaries`);
  }
  assert.equal(released.reduce((sum, n) => sum + n, 0), unowned.length);
  assert.equal([...storage.range({ prefix: tableItemsPrefix(8) })].length, 5, "a table whose n is unknown here is kept");
  assert.equal(count(storage, Namespace.hints), hintsBefore, "hints are not touched");
  const indexed = [...storage.range({ prefix: namespacePrefix(Namespace.tombstones) })].map((entry) => decodeTombstoneIndexKey(entry.key).itemKey);
  const expectedTombstones = names.filter((name, i) => i % 2 === 1 && owns(ring, "a", name));
  assert.equal(indexed.length, expectedTombstones.length, "tombstone index entries of released keys are gone");
  // Idempotent: the pass is done, a step does nothing; a restart does nothing either.
  assert.equal(await resumed.step(), false);
  assert.equal(await release(storage, () => ring).step(), false);
  assert.equal(first.stats.released + resumed.stats.released, unowned.length);
});

test("nothing is dropped until every new primary acknowledged the same settled ring (version and hash); each acknowledgement is asked once per ring", async () => {
  const ring = fourRing();
  const { storage, names } = await replicaOfA();
  const before = count(storage, Namespace.items);
  const asked: string[][] = [];
  let holding = new Set(["b", "c"]); // d still holds another ring of this version, or none
  const acknowledged = (r: RingState, nodes: readonly string[]) => {
    assert.equal(r, ring);
    asked.push([...nodes].sort());
    return Promise.resolve(new Set(nodes.filter((id) => holding.has(id))));
  };
  const worker = release(storage, () => ring, { batchMax: 64, acknowledged });
  assert.equal(await worker.step(), false, "the step waits (idle) for the acknowledgements");
  assert.equal(count(storage, Namespace.items), before, "nothing dropped while d has not acknowledged");
  assert.equal(worker.stats.waitedForAcknowledgement, 1);
  assert.equal(storage.get(releaseProgressKey), undefined, "the cursor did not move");
  assert.ok(asked[0]!.includes("d") && !asked[0]!.includes("a"), JSON.stringify(asked));
  holding = new Set(["b", "c", "d"]);
  while (await worker.step());
  assert.ok(count(storage, Namespace.items) < before, "released once every new owner acknowledged");
  assert.deepEqual(asked.slice(1), [["d"]], "b and c were not asked again for the same ring");
  for (const name of names) assert.equal(storage.get(encodeItemKey(7, encoder.encode(name))) !== undefined, owns(ring, "a", name), name);
});

test("nothing is released while the ring is in transition or unknown", async () => {
  const ring = fourRing();
  const { storage, names } = await replicaOfA();
  const before = count(storage, Namespace.items);
  const moving = ringState({ ...ring, version: ring.version + 1, previous: { owners: ring.owners, members: ring.members } });
  assert.equal(await release(storage, () => moving).step(), false);
  assert.equal(await release(storage, () => undefined).step(), false);
  assert.equal(count(storage, Namespace.items), before);
  assert.equal(storage.get(releaseProgressKey), undefined);
  assert.ok(names.length > 0, "the fixture holds keys");
});

test("a ring change during a pass starts a new pass from the first key under the new ring", async () => {
  const ring = fourRing();
  const { storage, replica, names } = await replicaOfA();
  let current: RingState = ring;
  const worker = release(storage, () => current);
  await worker.step();
  await worker.step();
  // The new ring gives "a" every partition "d" had and "d" those of "a" (swap): keys "a" skipped may now be unowned.
  current = ringState({ ...ring, version: ring.version + 1, owners: ring.owners.map((o) => (o === "a" ? "d" : o === "d" ? "a" : o)) });
  while (await worker.step());
  assert.equal(worker.progress()?.ringVersion, current.version);
  for (const name of names) {
    const held = replica.fetch(encodeItemKey(7, encoder.encode(name))) !== undefined;
    if (!owns(current, "a", name)) assert.equal(held, false, `${name} is no longer "a"'s and is gone`);
    else if (owns(ring, "a", name)) assert.equal(held, true, `${name} was and is "a"'s`);
  }
});

test("an out-of-range batch size is refused with the limit named", () => {
  assert.throws(() => release(new MemoryStorageEngine(), () => undefined, { batchMax: 0 }), /batchMax must be an integer in 1\.\.4096, got 0/);
});

test("a strong table's acceptor records are released like sibling records once the ring settled, and not while it is in transition", async () => {
  const ring = fourRing();
  const storage = new MemoryStorageEngine();
  const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
  const accepted = { ballot: ballotZero, value: undefined, acceptedAtMs: t0, origins: [], originsFloor: ballotZero };
  await storage.write(names.map((name, i) => ({ type: "put" as const, key: encodeItemKey(11, encoder.encode(name)), value: encodeAcceptorRecord({ promised: ballotZero, accepted: i % 2 === 0 ? accepted : undefined }) })), { durable: true });
  const strongN = (tableId: number) => (tableId === 11 ? 3 : undefined);
  const moving = ringState({ ...ring, version: ring.version + 1, previous: { owners: ring.owners, members: ring.members } });
  let current: RingState = moving;
  const worker = release(storage, () => current, { nOf: strongN });
  assert.equal(await worker.step(), false, "nothing to do in transition");
  assert.equal([...storage.range({ prefix: tableItemsPrefix(11) })].length, names.length, "every acceptor record stays while the ring moves");
  current = ringState({ ...ring, version: ring.version + 2 });
  while (await worker.step());
  const unowned = names.filter((name) => !owns(current, "a", name));
  assert.ok(unowned.length > 0 && unowned.length < names.length, "the fixture has keys on both sides");
  for (const name of names) {
    const bytes = storage.get(encodeItemKey(11, encoder.encode(name)));
    assert.equal(bytes !== undefined, owns(current, "a", name), `${name}: kept exactly when "a" is one of its acceptors`);
    if (bytes !== undefined) assert.equal(decodeAcceptorRecord(bytes).promised.counter, ballotZero.counter, "a kept record is intact");
  }
  assert.equal(worker.stats.released, unowned.length);
  assert.ok(worker.stats.partitionsReleased > 0 && worker.stats.partitionsReleased <= ring.partitionCount);
});

/** An item key of table 7 in the fixture that "a" does not serve under `ring`, with a live value (even index). */
function unownedLive(ring: RingState, names: string[]): Uint8Array {
  const name = names.find((n, i) => i % 2 === 0 && !owns(ring, "a", n))!;
  return encodeItemKey(7, encoder.encode(name));
}

const tombstoneIndexed = (storage: MemoryStorageEngine, key: Uint8Array) =>
  [...storage.range({ prefix: namespacePrefix(Namespace.tombstones) })].filter((entry) => bytesEqual(decodeTombstoneIndexKey(entry.key).itemKey, key)).length;

test("a merge that arrives while the release deletes a key waits for it: the released value does not come back", async () => {
  const ring = fourRing();
  const { storage, replica, names } = await replicaOfA();
  const key = unownedLive(ring, names);
  const old = replica.fetch(key)!;
  const worker = release(storage, () => ring, { batchMax: 64, locks: replica });
  // A concurrent value from c reaches "a" in the same turn as the step's delete.
  const concurrent = dvvset.update(dvvset.newValue(sibling("concurrent")), dvvset.empty(), "c");
  const [, merged] = await Promise.all([worker.step(), replica.merge(key, concurrent, { lww: false })]);
  assert.ok(merged.ok);
  const held = replica.fetch(key);
  const values = held === undefined ? [] : dvvset.values(held).map((s) => new TextDecoder().decode(s.value));
  assert.ok(!values.some((v) => dvvset.values(old).some((o) => new TextDecoder().decode(o.value) === v)), `the released value came back: ${JSON.stringify(values)}`);
});

test("a merge under way when the release reaches its key finishes first; the release then drops its result with its index entries", async () => {
  const ring = fourRing();
  const { storage, replica, names } = await replicaOfA();
  const key = unownedLive(ring, names);
  const old = replica.fetch(key)!;
  // A delete of the value from c: the key's set becomes tombstones only (indexed for GC).
  const deletion = dvvset.update(dvvset.newWithContext(dvvset.join(old), sibling("", true)), old, "c");
  const worker = release(storage, () => ring, { batchMax: 64, locks: replica });
  const merging = replica.merge(key, deletion, { lww: false });
  const [merged] = await Promise.all([merging, worker.step()]);
  assert.ok(merged.ok);
  assert.equal(replica.fetch(key), undefined, "the key is gone");
  assert.equal(tombstoneIndexed(storage, key), 0, "no tombstone index entry is left for a key that is gone");
});

test("a ring that changes while the release waits for its key locks stops the step; nothing is deleted under the old ring", async () => {
  const ring = fourRing();
  const { storage, replica, names } = await replicaOfA();
  const before = count(storage, Namespace.items);
  let current: RingState = ring;
  // The locks are granted only after the ring moved on (a transition).
  const locks = {
    underKeyLocks: async <R>(keys: readonly Uint8Array[], work: () => Promise<R>) => {
      current = ringState({ ...ring, version: ring.version + 1, previous: { owners: ring.owners, members: ring.members } });
      return replica.underKeyLocks(keys, work);
    },
  };
  const worker = release(storage, () => current, { batchMax: 64, locks });
  assert.equal(await worker.step(), true, "the step ends early and leaves the pass to the next ring");
  assert.equal(count(storage, Namespace.items), before, "nothing was deleted");
  assert.equal(worker.stats.ringChangedUnderLocks, 1);
  assert.ok(names.length > 0);
});

// --- On simulated nodes (NodeItems): the resurrection this closes. ---

const table: TableDefinition = { name: "rel", id: 9, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const blind: WriteOptions = { quorum: {}, condition: {} };
const four = ["n1", "n2", "n3", "n4"];

function ok<T>(result: StoreResult<T>): T {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

async function publish(c: SimItemsCluster, ring: RingState): Promise<void> {
  await c.node("n2").membership.handle("n2", { type: "membership.ring", ring, origin: "n2" });
  const result = await c.sim.runUntil(() => four.every((id) => c.node(id).membership.ring()?.version === ring.version), { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(result.reason, "predicate", "every node holds the published ring");
}

test("a key deleted and reaped while its old owner had lost the partition stays gone when a later ring gives it back", async () => {
  const c = await simItemsCluster(61, { ids: four });
  const r1 = c.ring;
  // A key n1 is a primary of and n4 is not; the second ring swaps n1 and n4, the third restores the first.
  const name = Array.from({ length: 500 }, (_, i) => `k${i}`).find((k) => {
    const list = preferenceList(r1, partitionOf(encoder.encode(k), r1.partitionCount), 3);
    return list.includes("n1") && !list.includes("n4");
  })!;
  const key = encodeItemKey(table.id, encoder.encode(name));
  ok(await c.sim.settle(c.node("n2").items.coordinator.put(table, { partitionKey: encoder.encode(name) }, { value: encoder.encode("old"), contentType: "text/plain", metadata: {}, expiresAtMs: null }, { ...blind, quorum: { w: 3 } })));
  assert.notEqual(c.node("n1").items.replicas.fetch(key), undefined);
  const r2 = ringState({ ...r1, version: r1.version + 1, owners: r1.owners.map((o) => (o === "n1" ? "n4" : o === "n4" ? "n1" : o)) });
  await publish(c, r2);
  // The settled ring no longer places n1: it drops its copy.
  const dropped = await c.sim.runUntil(() => c.node("n1").items.release.stats.released > 0 && c.node("n1").items.replicas.fetch(key) === undefined, { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(dropped.reason, "predicate", "n1 released the partition it lost");
  ok(await c.sim.settle(c.node("n2").items.coordinator.delete(table, { partitionKey: encoder.encode(name) }, { ...blind, quorum: { w: 3 } })));
  const reaped = await c.sim.runUntil(() => ["n2", "n3", "n4"].every((id) => c.node(id).items.replicas.fetch(key) === undefined), { deadlineMs: c.sim.now() + 15_000 });
  assert.equal(reaped.reason, "predicate", "the tombstone is reaped on the second ring's primaries");
  const r3 = ringState({ ...r1, version: r2.version + 1 });
  await publish(c, r3);
  await c.sim.runUntil(c.sim.now() + 3_000);
  for (const via of ["n1", "n2", "n3"]) {
    const read = ok(await c.sim.settle(c.node(via).items.coordinator.get(table, { partitionKey: encoder.encode(name) }, { quorum: { r: 3 } })));
    assert.equal(read.siblings.length, 0, `the deleted value is not read back through ${via}`);
  }
  for (const id of four) assert.equal(c.node(id).items.replicas.fetch(key), undefined, `${id} holds nothing of the key`);
});

test("after the release, a late hint or repair for a partition the node no longer serves is refused and re-routed: no orphan copy stays behind", async () => {
  const c = await simItemsCluster(62, { ids: four });
  const r1 = c.ring;
  const name = Array.from({ length: 500 }, (_, i) => `k${i}`).find((k) => {
    const list = preferenceList(r1, partitionOf(encoder.encode(k), r1.partitionCount), 3);
    return list.includes("n1") && !list.includes("n4");
  })!;
  const key = encodeItemKey(table.id, encoder.encode(name));
  ok(await c.sim.settle(c.node("n3").items.coordinator.put(table, { partitionKey: encoder.encode(name) }, { value: encoder.encode("v"), contentType: "text/plain", metadata: {}, expiresAtMs: null }, { ...blind, quorum: { w: 3 } })));
  const r2 = ringState({ ...r1, version: r1.version + 1, owners: r1.owners.map((o) => (o === "n1" ? "n4" : o === "n4" ? "n1" : o)) });
  await publish(c, r2);
  const dropped = await c.sim.runUntil(() => c.node("n1").items.release.stats.passes > 0 && c.node("n1").items.replicas.fetch(key) === undefined, { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(dropped.reason, "predicate", "n1 released the partition it lost");
  const late = c.node("n2").items.replicas.fetch(key) ?? c.node("n3").items.replicas.fetch(key)!;
  // A hint handed back (no ring version) and a repair merged locally: refused with the ring version.
  const reply = (await c.sim.settle(c.node("n1").items.replicas.handle("n2", { type: "replica.merge", key, set: late, hintFor: null, lww: false }))) as { ok: boolean; error?: string; ringVersion?: number };
  assert.deepEqual([reply.ok, reply.error, reply.ringVersion], [false, "ring", r2.version]);
  const repair = await c.sim.settle(c.node("n1").items.replicas.merge(key, late, { lww: false }));
  assert.equal(repair.ok, false);
  assert.equal(c.node("n1").items.replicas.fetch(key), undefined, "no orphan copy on the node that released the key");
  // n2 holds a hint for n1 (still a member) for that key: it goes to the key's current primaries, not to n1.
  assert.ok((await c.sim.settle(c.node("n2").items.hints.add({ target: "n1", tableId: table.id, key, set: late }, { durable: true }))).ok);
  const handed = await c.sim.runUntil(() => c.node("n2").items.hints.count("n1") === 0, { deadlineMs: c.sim.now() + 10_000 });
  assert.equal(handed.reason, "predicate", "the hint left n2");
  assert.equal(c.node("n1").items.replicas.fetch(key), undefined, "n1 did not take the hint");
  assert.ok(c.node("n4").items.replicas.fetch(key) !== undefined, "the key's new primary holds it");
});
