import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { testKey, written } from "./anti-entropy-cluster.test-support.js";
import { IndexedStorage } from "./indexed-storage.js";
import { replicaOn, roots } from "./hash-trees.test-support.js";

// A committed write updates its Merkle leaf in place from the entry's old and new version hash
// (one point read at plan time), so readers of the trees rarely rescan a segment: a range scan
// per written segment was most of what the exchange rounds cost under a write load. Where the
// old hash is not known for sure (another write to the segment pending, the segment dirty, a
// scan while pending) the segment is marked dirty and rescanned as before. Either way a tree's
// hashes must equal a rebuild from the index.

function rebuiltRoots(engine: MemoryStorageEngine): string[] {
  const reference = replicaOn(engine);
  while (!reference.rebuild.step());
  return roots(reference.trees);
}

function put(storage: IndexedStorage, name: string, text: string, coordinator: string): Promise<void> {
  return storage.write([{ type: "put", key: testKey(name), value: encodeSiblingRecord(written(text, coordinator)) }]);
}

/** Makes writes wait (neither committed nor visible) until released. */
class GatedEngine extends MemoryStorageEngine {
  private gate: Promise<void> | undefined;
  release: () => void = () => {};
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  override async write(...args: Parameters<MemoryStorageEngine["write"]>): Promise<void> {
    await this.gate;
    return super.write(...args);
  }
}

/** Writes k1 twice, both planned before either committed (the second one's index read still sees the old entry). */
async function twoPendingWrites(engine: GatedEngine, storage: IndexedStorage): Promise<void> {
  engine.hold();
  const first = put(storage, "k1", "v2", "n2");
  const second = put(storage, "k1", "v3", "n3");
  engine.release();
  await Promise.all([first, second]);
}

test("a settled write updates its leaf in place: nothing is left to rescan and the roots equal a rebuild's", async () => {
  const engine = new MemoryStorageEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await storage.write(Array.from({ length: 40 }, (_, i) => ({ type: "put" as const, key: testKey(`k${i}`), value: encodeSiblingRecord(written(`v${i}`, "n1")) })));
  while (!rebuild.step());
  roots(trees);
  const rehashedBefore = trees.segmentsRehashed;
  const deltasBefore = trees.deltasApplied;
  const loaded = roots(trees);
  // One write at a time, as a replica stores a version: an overwrite, a new key, a delete.
  await put(storage, "k3", "again", "n2");
  await put(storage, "new", "fresh", "n1");
  await storage.write([{ type: "delete", key: testKey("k20") }]);
  assert.equal(trees.dirtySegments, 0, "a settled write left its segment to be rescanned");
  assert.equal(trees.deltasApplied - deltasBefore, 3);
  assert.notDeepEqual(roots(trees), loaded);
  assert.deepEqual(roots(trees), rebuiltRoots(engine));
  assert.equal(trees.segmentsRehashed, rehashedBefore, "reading the roots rescanned segments");
});

test("a write planned while another write to its segment is pending is rescanned instead, and the trees end exact", async () => {
  const engine = new GatedEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await put(storage, "k1", "v1", "n1");
  while (!rebuild.step());
  await twoPendingWrites(engine, storage);
  assert.equal(trees.dirtySegments, 1);
  assert.deepEqual(roots(trees), rebuiltRoots(engine));
  assert.equal(trees.dirtySegments, 0);
});

test("two writes to one segment in one batch: the first is a delta, the second is rescanned, and the trees end exact", async () => {
  const engine = new MemoryStorageEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await put(storage, "k1", "v1", "n1");
  while (!rebuild.step());
  const key = testKey("k1");
  await storage.write([
    { type: "put", key, value: encodeSiblingRecord(written("v2", "n2")) },
    { type: "put", key, value: encodeSiblingRecord(written("v3", "n3")) },
  ]);
  assert.equal(trees.dirtySegments, 1);
  assert.deepEqual(roots(trees), rebuiltRoots(engine));
});

test("a write to a dirty segment is not applied as a delta (the segment is rescanned anyway)", async () => {
  const engine = new GatedEngine();
  const { storage, trees, rebuild } = replicaOn(engine);
  await put(storage, "k1", "v1", "n1");
  while (!rebuild.step());
  await twoPendingWrites(engine, storage);
  const deltas = trees.deltasApplied;
  await put(storage, "k1", "v4", "n1");
  assert.equal(trees.deltasApplied, deltas);
  assert.deepEqual(roots(trees), rebuiltRoots(engine));
});
