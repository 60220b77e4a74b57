import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import type { Timers } from "../runtime/runtime.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { testKey, written } from "./anti-entropy-cluster.test-support.js";
import { HashTrees } from "./hash-trees.js";
import { IndexVerify } from "./index-verify.js";
import { IndexedStorage } from "./indexed-storage.js";
import type { TreeId } from "./segment-index.js";

// Items that missed their index entry (written while their table was unknown here) are found
// by the background check and indexed, and the trees end as if they had been indexed at once.

const noTimers: Timers = { setTimeout: () => assert.fail("the test drives steps itself"), clearTimeout: () => {} };
const tree: TreeId = { partition: 0, n: 3 };

function replica(known: () => boolean) {
  const engine = new MemoryStorageEngine();
  const trees = new HashTrees({ storage: engine, placeOf: () => (known() ? tree : undefined), treesMax: 1 });
  const verify = new IndexVerify(engine, trees, noTimers, { keysPerStep: 7, stepIntervalMs: 1, firstDelayMs: 1, passIntervalMs: 1_000 });
  return { engine, trees, storage: new IndexedStorage(engine, trees), verify };
}

const items = Array.from({ length: 40 }, (_, i) => ({ type: "put" as const, key: testKey(`k${i}`), value: encodeSiblingRecord(written(`v${i}`, i % 2 === 0 ? "n1" : "n2")) }));

test("items written while their table was unknown are indexed by the background check", async () => {
  let known = false;
  const late = replica(() => known);
  await late.storage.write(items);
  assert.equal(late.trees.treeOf(tree), undefined);
  known = true;
  let steps = 1;
  while (!late.verify.step()) steps++;
  assert.ok(steps >= 40 / 7, `a pass over 40 items took ${steps} steps of 7`);
  await late.engine.sync();
  await Promise.resolve();
  assert.equal(late.verify.fixed, 40);
  const prompt = replica(() => true);
  await prompt.storage.write(items);
  assert.deepEqual(late.trees.hashedTree(tree)!.root(), prompt.trees.hashedTree(tree)!.root());
  assert.notDeepEqual(prompt.trees.hashedTree(tree)!.root(), new Uint8Array(8));
  assert.deepEqual([...late.engine.range({ prefix: Uint8Array.of(0x06) })].length, 40);
  while (!late.verify.step());
  assert.equal(late.verify.fixed, 40, "a second pass finds nothing to fix");
});
