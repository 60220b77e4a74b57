import type { Bytes, Entry, RangeOptions, StorageEngine, StorageStats, WriteOp, WriteOptions } from "../storage/storage-engine.js";
import type { HashTrees, WritePlan } from "./hash-trees.js";

/**
 * The StorageEngine the replica writes through when anti-entropy runs: every write that
 * touches an item key also writes that key's version-hash index entry, atomically in the same
 * batch, and updates its Merkle leaf once it has committed (hash-trees.ts: by the entry's
 * old and new hash, or by marking the segment dirty to rehash it when the tree is next read).
 * This is how the trees follow every write without the replica knowing about them: coordinated writes,
 * merges, read repair, handed-back hints, the expiry sweep, tombstone reaps and table purges
 * all write items through here. Reads, sync, stats and close pass straight through.
 */
export class IndexedStorage implements StorageEngine {
  constructor(
    private readonly inner: StorageEngine,
    private readonly trees: HashTrees,
  ) {}

  get kind(): StorageEngine["kind"] {
    return this.inner.kind;
  }

  get(key: Bytes): Bytes | undefined {
    return this.inner.get(key);
  }

  range(options: RangeOptions): Iterable<Entry> {
    return this.inner.range(options);
  }

  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void> {
    let plan: WritePlan;
    try {
      plan = this.trees.plan(ops);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (plan.changes.length === 0) return this.inner.write(ops, options);
    this.trees.begin(plan);
    // Without an async frame and its promises: this runs for every replica write.
    let written: Promise<void>;
    try {
      written = this.inner.write(ops.concat(plan.indexOps), options);
    } catch (error) {
      this.trees.settle(plan, false);
      return Promise.reject(error as Error);
    }
    return written.then(
      () => this.trees.settle(plan, true),
      (error: unknown) => {
        this.trees.settle(plan, false);
        throw error;
      },
    );
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  stats(): StorageStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
