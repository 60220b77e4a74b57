import type { StorageEngine } from "../storage/storage-engine.js";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import { Namespace } from "../storage/keyspace.js";
import type { HashTrees } from "./hash-trees.js";
import { contributionOf, merkleLeafSegments } from "./merkle-tree.js";
import { afterTree, decodeIndexKey, segmentPrefix, type TreeId } from "./segment-index.js";

/**
 * Rebuilds the in-memory Merkle trees from the version-hash index, in the background and
 * bounded: each step (one timer callback) recomputes whole leaf segments until about
 * `entriesPerStep` index entries were read, then yields for `stepIntervalMs`. A segment is
 * one contiguous index range, so recomputing it is exact. A write waiting to commit needs no
 * care here: a segment set while a write to it is pending makes that write mark the segment
 * dirty instead of applying its delta (hash-trees.ts), so it ends right either way.
 *
 * The first pass after start builds the trees (they are not persisted: the index is, in the
 * same atomic writes as the items, so rebuilding from it is cheap, 8 bytes a key, and never
 * stale); `loaded` turns true when it ends, and until then the replica answers no exchange.
 * Later passes, every `passIntervalMs`, heal any drift of the in-memory hashes.
 */
export interface TreeRebuildOptions {
  /** Index entries read per step, about (a segment is never split). */
  entriesPerStep: number;
  stepIntervalMs: number;
  /** Pause between the end of one pass and the start of the next. */
  passIntervalMs: number;
}

export const treeRebuildDefaults: Readonly<TreeRebuildOptions> = Object.freeze({ entriesPerStep: 2_000, stepIntervalMs: 10, passIntervalMs: 3_600_000 });

interface Cursor {
  /** Where the search for the next tree starts. */
  from: Uint8Array;
  tree: TreeId | undefined;
  segment: number;
}

export class TreeRebuild {
  private loadedValue = false;
  private cursor: Cursor = freshCursor();
  private timer: TimerHandle | undefined;
  private running = false;
  passes = 0;
  /** Index entries removed because their item was gone. */
  orphansRemoved = 0;

  constructor(
    private readonly storage: StorageEngine,
    private readonly trees: HashTrees,
    private readonly timers: Timers,
    private readonly options: TreeRebuildOptions = treeRebuildDefaults,
  ) {}

  /** True once the first pass has built every tree from the index. */
  get loaded(): boolean {
    return this.loadedValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One bounded step; true when it finished a pass. Exposed so tests can drive it without timers. */
  step(): boolean {
    let budget = this.options.entriesPerStep;
    while (budget > 0) {
      const tree = this.cursor.tree ?? this.nextTree();
      if (tree === undefined) return this.finishPass();
      budget -= 1 + this.rebuildSegment(tree, this.cursor.segment);
      if (++this.cursor.segment === merkleLeafSegments) this.cursor = { from: afterTree(tree), tree: undefined, segment: 0 };
    }
    return false;
  }

  private nextTree(): TreeId | undefined {
    const end = Uint8Array.of(Namespace.antiEntropy + 1);
    for (const entry of this.storage.range({ start: this.cursor.from, end, limit: 1 })) {
      this.cursor = { from: this.cursor.from, tree: decodeIndexKey(entry.key).tree, segment: 0 };
      return this.cursor.tree;
    }
    return undefined;
  }

  /**
   * Recomputes one leaf segment from the index and removes its orphans (entries whose item is
   * gone: deleted while its table was unknown here, or around IndexedStorage), which would
   * otherwise differ from every peer forever. Returns the entries read.
   */
  private rebuildSegment(tree: TreeId, segment: number): number {
    const prefix = segmentPrefix(tree, segment);
    let high = 0;
    let low = 0;
    let count = 0;
    const orphans: Uint8Array[] = [];
    for (const entry of this.storage.range({ prefix })) {
      const itemKey = entry.key.slice(prefix.length);
      const [h, l] = contributionOf(itemKey, entry.value);
      high = (high ^ h) >>> 0;
      low = (low ^ l) >>> 0;
      count++;
      if (this.isOrphan(tree, itemKey)) orphans.push(itemKey);
    }
    this.trees.setLeaf(tree, segment, high, low, count > 0);
    for (const orphan of orphans) this.trees.fixIndex(tree, orphan, undefined);
    this.orphansRemoved += orphans.length;
    return count;
  }

  /**
   * Only a missing item makes an orphan: a placement that says "unknown table" may just be a
   * catalog not caught up yet, and decoding every item would make the pass cost far more than
   * the 8 bytes a key it reads now.
   */
  private isOrphan(tree: TreeId, itemKey: Uint8Array): boolean {
    return !this.trees.isPending(tree, itemKey) && this.storage.get(itemKey) === undefined;
  }

  private finishPass(): true {
    this.passes++;
    this.loadedValue = true;
    this.cursor = freshCursor();
    return true;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      const done = this.step();
      this.schedule(done ? this.options.passIntervalMs : this.options.stepIntervalMs);
    }, delayMs);
  }
}

function freshCursor(): Cursor {
  return { from: Uint8Array.of(Namespace.antiEntropy), tree: undefined, segment: 0 };
}
