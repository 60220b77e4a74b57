import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { encodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { StorageEngine, WriteOp, WriteOptions } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { mergeBatchItemsMax } from "./merge-batch.js";
import { ReplicaService, type MergeItem } from "./replica-service.js";

// "replica.merges" on the replica (ReplicaService.mergeMany): the merges whose keys are free
// are written as one storage batch and answered once it is durable; each merge is answered
// what "replica.merge" would have answered, so one key's refusal or failure is its own.

const tableId = 7;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Version 6, n = 1: n1 owns partitions 0-3, n2 owns 4-7.
const ring: RingState = ringState({ version: 6, partitionCount: 8, owners: ["n1", "n1", "n1", "n1", "n2", "n2", "n2", "n2"], members: [{ id: "n1" }, { id: "n2" }] });

function keyOf(name: string): Uint8Array {
  return encodeItemKey(tableId, encoder.encode(name));
}

/** The first `count` keys whose primary (n = 1) is `owner`. */
function keysOf(owner: NodeId, count: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let i = 0; keys.length < count; i++) {
    if (preferenceList(ring, partitionOf(encoder.encode(`k${i}`), ring.partitionCount), 1)[0] === owner) keys.push(keyOf(`k${i}`));
  }
  return keys;
}

const sibling = (text: string, timestamp = 1): Sibling => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone: false, expiresAtMs: null });
const setOf = (text: string, actor = "n9") => dvvset.update(dvvset.newValue(sibling(text)), dvvset.empty<Sibling>(), actor);

function merge(key: Uint8Array, text: string, extra: Partial<MergeItem> = {}): MergeItem {
  return { key, set: setOf(text), hintFor: null, lww: false, ...extra };
}

/** A storage whose writes wait for the test: `release()` lets them through to a memory engine, `fail()` rejects them. */
class GatedStorage implements StorageEngine {
  readonly kind = "memory";
  readonly inner = new MemoryStorageEngine();
  readonly writes: WriteOp[][] = [];
  private gates: Array<{ open: () => void; fail: (error: Error) => void }> = [];
  held = true;

  get(key: Uint8Array): Uint8Array | undefined {
    return this.inner.get(key);
  }
  range(options: Parameters<StorageEngine["range"]>[0]): ReturnType<StorageEngine["range"]> {
    return this.inner.range(options);
  }
  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void> {
    this.writes.push([...ops]);
    if (!this.held) return this.inner.write(ops, options);
    return new Promise<void>((resolve, reject) => {
      this.gates.push({ open: () => resolve(this.inner.write(ops, options)), fail: reject });
    });
  }
  release(): void {
    this.held = false;
    for (const gate of this.gates.splice(0)) gate.open();
  }
  fail(message: string): void {
    for (const gate of this.gates.splice(0)) gate.fail(new Error(message));
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
  stats(): ReturnType<StorageEngine["stats"]> {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function replicaOn(nodeId: NodeId, storage: StorageEngine, fenced = true): { replica: ReplicaService; hints: HintStore<Sibling> } {
  const hints = HintStore.open({ storage: new MemoryStorageEngine(), isValue: isSibling, hintsPerTargetMax: 10 });
  const ringFence = { ring: () => ring, nOf: (id: number) => (id === tableId ? 1 : undefined) };
  return { replica: new ReplicaService({ nodeId, storage, hints, siblingsMax: 10, ...(fenced ? { ringFence } : {}), isTableDropped: (id) => id === 99 }), hints };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function texts(replica: ReplicaService, key: Uint8Array): string[] {
  const set = replica.fetch(key);
  return set === undefined ? [] : dvvset.values(set).map((s) => decoder.decode(s.value)).sort();
}

test("merges of free keys are written as ONE storage batch and answered only once it is durable", async () => {
  const storage = new GatedStorage();
  const { replica } = replicaOn("n1", storage);
  const keys = keysOf("n1", 5);
  let answered: unknown;
  const done = replica.mergeMany(keys.map((key, i) => merge(key, `v${i}`, { ringVersion: 6, n: 1 }))).then((replies) => (answered = replies));
  await turn();
  assert.equal(storage.writes.length, 1, "one storage write for the five merges");
  assert.equal(storage.writes[0]!.filter((op) => op.type === "put" && keys.some((key) => Buffer.from(key).equals(op.key))).length, 5);
  assert.equal(answered, undefined, "nothing is answered before the batch is durable");
  assert.deepEqual(texts(replica, keys[0]!), [], "a crash now (the write not committed) leaves nothing and answered nothing");
  storage.release();
  await done;
  assert.deepEqual(answered, keys.map(() => ({ ok: true, durable: true })));
  keys.forEach((key, i) => assert.deepEqual(texts(replica, key), [`v${i}`]));
});

test("mixed outcomes: a malformed merge, a ring refusal, a hint, a dropped table and good merges each get their own answer", async () => {
  const storage = new GatedStorage();
  storage.held = false;
  const { replica, hints } = replicaOn("n2", storage);
  const [mine1, mine2] = keysOf("n2", 2);
  const [notMine] = keysOf("n1", 1);
  const replies = await replica.mergeMany([
    merge(mine1!, "a", { ringVersion: 6, n: 1 }),
    { ...merge(mine1!, "x"), set: { not: "a set" } as never },
    merge(notMine!, "refused", { ringVersion: 5, n: 1 }),
    merge(notMine!, "hinted", { hintFor: "n1", ringVersion: 6, n: 1 }),
    merge(encodeItemKey(99, encoder.encode("gone")), "dropped"),
    merge(mine2!, "b", { ringVersion: 6, n: 1 }),
  ]);
  assert.deepEqual(replies[0], { ok: true, durable: true });
  assert.equal((replies[1] as { ok: boolean }).ok, false);
  assert.match((replies[1] as { error: string }).error, /^merge: /);
  assert.deepEqual({ ...(replies[2] as object), message: undefined }, { ok: false, error: "ring", ringVersion: 6, message: undefined });
  assert.deepEqual(replies[3], { ok: true, durable: true });
  assert.deepEqual(replies[4], { ok: true, durable: true });
  assert.deepEqual(replies[5], { ok: true, durable: true });
  assert.deepEqual(texts(replica, mine1!), ["a"]);
  assert.deepEqual(texts(replica, mine2!), ["b"]);
  assert.deepEqual(texts(replica, notMine!), [], "the refused merge stored nothing");
  assert.ok(hints.get({ target: "n1", tableId, key: notMine! }) !== undefined, "the hinted merge is kept as a hint");
  assert.equal(storage.writes.length, 1, "the two good merges shared one write");
});

test("a merge placed without a ring version on a key this node does not own is refused under its lock, alone", async () => {
  const storage = new MemoryStorageEngine();
  const { replica } = replicaOn("n2", storage);
  const [mine] = keysOf("n2", 1);
  const [notMine] = keysOf("n1", 1);
  const replies = await replica.mergeMany([merge(notMine!, "stray"), merge(mine!, "kept")]);
  assert.equal((replies[0] as { error?: string }).error, "ring");
  assert.deepEqual(replies[1], { ok: true, durable: true });
  assert.deepEqual(texts(replica, notMine!), []);
  assert.deepEqual(texts(replica, mine!), ["kept"]);
});

test("a failed batch write fails the merges it carried and only those; their keys are free again", async () => {
  const storage = new GatedStorage();
  const { replica } = replicaOn("n1", storage);
  const [a, b, c] = keysOf("n1", 3);
  const done = replica.mergeMany([merge(a!, "a"), merge(b!, "b"), { ...merge(c!, "c"), key: "not bytes" as never }]);
  await turn();
  storage.fail("disk full");
  const replies = await done;
  assert.deepEqual(replies, [
    { ok: false, error: "merge: disk full" },
    { ok: false, error: "merge: disk full" },
    { ok: false, error: "merge: key is not bytes" },
  ]);
  storage.release();
  assert.deepEqual(await replica.mergeMany([merge(a!, "again")]), [{ ok: true, durable: true }], "the lock was released");
  assert.deepEqual(texts(replica, a!), ["again"]);
});

test("a key held by a write in flight, or twice in one batch, waits for its lock and loses nothing", async () => {
  const storage = new GatedStorage();
  const { replica } = replicaOn("n1", storage);
  const [a, b] = keysOf("n1", 2);
  // A coordinated write of `a` holds its lock until its write is durable.
  const coordinated = replica.coordinateWrite(a!, sibling("local"), undefined, { lww: false });
  await turn();
  const done = replica.mergeMany([merge(a!, "remote"), merge(b!, "b1"), { ...merge(b!, "b2"), set: setOf("b2", "n8") }]);
  await turn();
  assert.equal(storage.writes.length, 2, "the coordinated write, then one batch with b1 only");
  storage.release();
  const replies = await done;
  assert.ok((await coordinated).ok);
  assert.deepEqual(replies, [
    { ok: true, durable: true },
    { ok: true, durable: true },
    { ok: true, durable: true },
  ]);
  assert.deepEqual(texts(replica, a!), ["local", "remote"]);
  assert.deepEqual(texts(replica, b!), ["b1", "b2"]);
});

test("a replica.merges message is bounded and checked: too many, none, or not objects is refused whole, storing nothing", async () => {
  const storage = new MemoryStorageEngine();
  const { replica } = replicaOn("n1", storage, false);
  const [a] = keysOf("n1", 1);
  const tooMany = Array.from({ length: mergeBatchItemsMax + 1 }, (_, i) => merge(keyOf(`many${i}`), "x"));
  assert.deepEqual(await replica.handle("n2", { type: "replica.merges", merges: tooMany }), { ok: false, error: `merges: expected 1 to ${mergeBatchItemsMax} merges, got ${mergeBatchItemsMax + 1}` });
  assert.deepEqual(await replica.handle("n2", { type: "replica.merges", merges: [] }), { ok: false, error: `merges: expected 1 to ${mergeBatchItemsMax} merges, got 0` });
  assert.deepEqual(await replica.handle("n2", { type: "replica.merges", merges: "no" }), { ok: false, error: `merges: expected 1 to ${mergeBatchItemsMax} merges, got string` });
  assert.deepEqual(await replica.handle("n2", { type: "replica.merges", merges: [merge(a!, "x"), null] }), { ok: false, error: "merges: a merge is not an object" });
  assert.deepEqual([...storage.range({})], []);
  assert.deepEqual(await replica.handle("n2", { type: "replica.merges", merges: [merge(a!, "x")] }), { ok: true, replies: [{ ok: true, durable: true }] });
});

test("drainWrites waits for a batch in flight", async () => {
  const storage = new GatedStorage();
  const { replica } = replicaOn("n1", storage);
  const keys = keysOf("n1", 2);
  const done = replica.mergeMany(keys.map((key) => merge(key, "v")));
  let drained = false;
  const drain = replica.drainWrites().then(() => (drained = true));
  await turn();
  assert.equal(drained, false);
  storage.release();
  await Promise.all([done, drain]);
  assert.equal(drained, true);
});
