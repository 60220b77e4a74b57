import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import { Namespace } from "../storage/keyspace.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { testKey, written } from "./anti-entropy-cluster.test-support.js";
import { HashTrees } from "./hash-trees.js";
import { IndexedStorage } from "./indexed-storage.js";
import { placeOf, replicaOn, roots } from "./hash-trees.test-support.js";

// The trees are kept only in memory; the version-hash index is written with the items. These
// tests check that a rebuild from the index gives exactly the trees the writes kept, in bounded
// steps, and never counts a write that is still on its way to the disk twice; and that writes
// after the load reach the trees (hash-trees.test.ts: as deltas, or through dirty segments).

/** Writes k0..k(count-1), each as coordinated by `coordinator` (another coordinator: another version). */
async function writeKeys(storage: IndexedStorage, count: number, coordinator: string): Promise<void> {
  const ops = Array.from({ length: count }, (_, i) => ({ type: "put" as const, key: testKey(`k${i}`), value: encodeSiblingRecord(written(`v${i}`, coordinator)) }));
  await storage.write(ops);
}

test("trees rebuilt from the index in bounded steps equal the trees the writes kept", async () => {
  const engine = new MemoryStorageEngine();
  const live = replicaOn(engine);
  live.rebuild.step();
  await writeKeys(live.storage, 400, "n1");
  await writeKeys(live.storage, 100, "n2");
  await live.storage.write([{ type: "delete", key: testKey("k7") }, { type: "delete", key: testKey("k8") }]);
  const restarted = replicaOn(engine);
  let steps = 0;
  while (!restarted.rebuild.step()) steps++;
  assert.ok(steps > 400 / 50, `a rebuild of 398 keys took only ${steps} steps of 50 entries`);
  assert.ok(restarted.rebuild.loaded);
  assert.deepEqual(roots(restarted.trees), roots(live.trees));
  assert.notDeepEqual(roots(live.trees), roots(replicaOn(new MemoryStorageEngine()).trees));
});

test("every item write carries its index entry; deletes and records of strong tables leave none", async () => {
  const engine = new MemoryStorageEngine();
  const { storage } = replicaOn(engine);
  await writeKeys(storage, 10, "n1");
  const indexEntries = () => [...engine.range({ prefix: Uint8Array.of(Namespace.antiEntropy) })].length;
  assert.equal(indexEntries(), 10);
  await storage.write([{ type: "delete", key: testKey("k0") }, { type: "put", key: testKey("k1"), value: Uint8Array.of(0x92, 0x01, 0xc0) }]);
  assert.equal(indexEntries(), 8);
});

class FailingEngine extends MemoryStorageEngine {
  failWrites = false;
  override write(...args: Parameters<MemoryStorageEngine["write"]>): Promise<void> {
    return this.failWrites ? Promise.reject(new Error("disk full")) : super.write(...args);
  }
}

test("a failed write changes neither the index nor the trees", async () => {
  const engine = new FailingEngine();
  const { storage, trees } = replicaOn(engine);
  await writeKeys(storage, 5, "n1");
  const before = roots(trees);
  const hashBefore = trees.currentHash(placeOf(testKey("k0")), testKey("k0"));
  engine.failWrites = true;
  await assert.rejects(writeKeys(storage, 5, "n2"), /disk full/);
  assert.deepEqual(roots(trees), before);
  assert.deepEqual(trees.currentHash(placeOf(testKey("k0")), testKey("k0")), hashBefore);
});

/** Commits at once but acknowledges only when released, as LMDB's commit thread can. */
class SlowAckEngine extends MemoryStorageEngine {
  private gate: Promise<void> | undefined;
  release: () => void = () => {};
  holdAcks(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  override async write(...args: Parameters<MemoryStorageEngine["write"]>): Promise<void> {
    await super.write(...args);
    await this.gate;
  }
}

test("a rebuild pass while a write is committed but not yet acknowledged still ends with exact trees", async () => {
  const engine = new SlowAckEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  rebuild.step();
  await writeKeys(storage, 50, "n1");
  engine.holdAcks();
  const pending = writeKeys(storage, 1, "n2");
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.notEqual(engine.get(testKey("k0")), undefined);
  // The rebuild reads the committed entry; the acknowledgement must not count it a second time.
  while (!rebuild.step());
  engine.release();
  await pending;
  const reference = replicaOn(engine);
  while (!reference.rebuild.step());
  assert.deepEqual(roots(trees), roots(reference.trees));
});

test("a write after the trees loaded reaches them: its leaf is updated in place when it settles", async () => {
  const engine = new MemoryStorageEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await writeKeys(storage, 40, "n1");
  while (!rebuild.step());
  const loaded = roots(trees);
  await writeKeys(storage, 3, "n2");
  await storage.write([{ type: "delete", key: testKey("k20") }]);
  assert.equal(trees.dirtySegments, 0, "writes to 4 keys left segments to rescan");
  const reference = replicaOn(engine);
  while (!reference.rebuild.step());
  assert.deepEqual(roots(trees), roots(reference.trees));
  assert.notDeepEqual(roots(trees), loaded);
  assert.equal(trees.dirtySegments, 0);
});

test("a rebuild pass removes index entries whose item was deleted around the index", async () => {
  const engine = new MemoryStorageEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await writeKeys(storage, 30, "n1");
  await engine.write([{ type: "delete", key: testKey("k3") }, { type: "delete", key: testKey("k4") }]);
  while (!rebuild.step());
  assert.equal(rebuild.orphansRemoved, 2);
  await engine.sync();
  await Promise.resolve();
  const reference = replicaOn(new MemoryStorageEngine());
  await writeKeys(reference.storage, 30, "n1");
  await reference.storage.write([{ type: "delete", key: testKey("k3") }, { type: "delete", key: testKey("k4") }]);
  assert.deepEqual(roots(trees), roots(reference.trees));
  assert.equal([...engine.range({ prefix: Uint8Array.of(Namespace.antiEntropy) })].length, 28);
});

test("writes to more trees than treesMax still commit; the extra trees are counted, not kept", async () => {
  const engine = new MemoryStorageEngine();
  const trees = new HashTrees({ storage: engine, placeOf, treesMax: 1 });
  const storage = new IndexedStorage(engine, trees);
  await writeKeys(storage, 40, "n1");
  assert.equal(trees.treeIds().length, 1);
  assert.ok(trees.treesRefused > 0);
  assert.equal([...engine.range({ prefix: Uint8Array.of(Namespace.antiEntropy) })].length, 40);
});
