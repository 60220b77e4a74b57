import assert from "node:assert/strict";
import type { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { Timers } from "../runtime/runtime.js";
import { HashTrees } from "./hash-trees.js";
import { IndexedStorage } from "./indexed-storage.js";
import { TreeRebuild } from "./tree-rebuild.js";
import type { TreeId } from "./segment-index.js";

/** One replica's trees over a memory engine, as hash-trees.test.ts and tree-rebuild.test.ts drive them. */
export const partitions = 4;
export const placeOf = (key: Uint8Array): TreeId => ({ partition: key[key.length - 3]! % partitions, n: 3 });
const noTimers: Timers = { setTimeout: () => assert.fail("the test drives steps itself"), clearTimeout: () => {} };

/** The trees, the storage that indexes writes into them, and a rebuild the test steps itself. */
export function replicaOn(engine: MemoryStorageEngine) {
  const trees = new HashTrees({ storage: engine, placeOf, treesMax: partitions });
  return { trees, storage: new IndexedStorage(engine, trees), rebuild: new TreeRebuild(engine, trees, noTimers, { entriesPerStep: 50, stepIntervalMs: 1, passIntervalMs: 1_000 }) };
}

/** Every partition's root as hex (zeros for a tree not kept). */
export function roots(trees: HashTrees): string[] {
  return Array.from({ length: partitions }, (_, partition) => Buffer.from(trees.hashedTree({ partition, n: 3 })?.root() ?? new Uint8Array(8)).toString("hex"));
}
