import type { TimerHandle, Timers } from "../runtime/runtime.js";
import { Namespace } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { hashOfRecord, type HashTrees } from "./hash-trees.js";
import { versionHashesEqual } from "./version-hash.js";

/**
 * Heals drift between the items and their version-hash index, in the background and bounded
 * (`keysPerStep` items per timer step, a pass every `passIntervalMs`). IndexedStorage keeps
 * them in step on every write, but an item can still miss its entry: written while its
 * table was unknown to this node (placeOf said undefined, so it was not indexed), or written
 * around IndexedStorage. The pass recomputes each item's version hash and, where the index
 * disagrees, writes only the index entry (its tree segment is rehashed when next read).
 *
 * It never rewrites an item (that could put an old value back over a write in flight), and it
 * skips a key while a write to its leaf segment is planned but not yet settled (that write
 * may be to the key and will index it; the next pass sees the key again).
 * Entries whose item is gone are found from the other side, by the tree rebuild's pass over
 * the index (tree-rebuild.ts).
 */
export interface IndexVerifyOptions {
  keysPerStep: number;
  stepIntervalMs: number;
  /** After start, before the first pass (let the trees load first). */
  firstDelayMs: number;
  passIntervalMs: number;
}

export const indexVerifyDefaults: Readonly<IndexVerifyOptions> = Object.freeze({ keysPerStep: 500, stepIntervalMs: 20, firstDelayMs: 60_000, passIntervalMs: 3_600_000 });

export class IndexVerify {
  /** Index entries fixed since start. */
  fixed = 0;
  passes = 0;
  private from: Uint8Array = Uint8Array.of(Namespace.items);
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly storage: StorageEngine,
    private readonly trees: HashTrees,
    private readonly timers: Timers,
    private readonly options: IndexVerifyOptions = indexVerifyDefaults,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.options.firstDelayMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One bounded step; true when it finished a pass. */
  step(): boolean {
    const end = Uint8Array.of(Namespace.items + 1);
    let seen = 0;
    for (const entry of this.storage.range({ start: this.from, end, limit: this.options.keysPerStep })) {
      seen++;
      this.from = successor(entry.key);
      this.verify(entry.key, entry.value);
    }
    if (seen === this.options.keysPerStep) return false;
    this.from = Uint8Array.of(Namespace.items);
    this.passes++;
    return true;
  }

  private verify(itemKey: Uint8Array, value: Uint8Array): void {
    const tree = this.trees.placeOf(itemKey);
    if (tree === undefined || this.trees.isPending(tree, itemKey)) return;
    const expected = hashOfRecord(value);
    const indexed = this.trees.currentHash(tree, itemKey);
    if (versionHashesEqual(expected, indexed)) return;
    this.trees.fixIndex(tree, itemKey, expected);
    this.fixed++;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.schedule(this.step() ? this.options.passIntervalMs : this.options.stepIntervalMs);
    }, delayMs);
  }
}

/** The least key greater than `key` (key + 0x00). */
function successor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key, 0);
  return next;
}
