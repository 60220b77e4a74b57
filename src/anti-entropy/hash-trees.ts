import { decodeSiblingRecordIfAny } from "../replica/sibling-record.js";
import { Namespace } from "../storage/keyspace.js";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";
import { contributionOf, MerkleTree, merkleLeafSegments, segmentOf } from "./merkle-tree.js";
import { indexKey, segmentPrefix, type TreeId } from "./segment-index.js";
import { versionHash } from "./version-hash.js";

/**
 * A replica's Merkle trees, one per (partition, n) it holds keys of, and the version-hash
 * index behind them (segment-index.ts). IndexedStorage calls `plan` for every write: the
 * index entries of the item keys it touches go into the same atomic write, so after a crash
 * the index and the items still agree.
 *
 * The trees follow each committed write by its delta (`settle`): the plan read the key's
 * committed entry (one point read) and knows the new hash, so the leaf and its path are
 * updated in place, O(1), and no reader has to rescan anything. Where the old hash is
 * uncertain (another write to the segment pending, the segment dirty already, a scan while
 * the write was pending: `plan`, `settle`), the write marks its leaf segment dirty instead (a
 * bit per segment, so the dirty set is bounded by the 1024 segments of each kept tree), and a
 * tree's dirty leaves are rehashed from their index ranges when its hashes are asked for
 * (`hashedTree`: an exchange, a root for /v1/internal or the simulator), as Riak's hashtree
 * does. A rescan is a range scan (about 19 us of CPU on LMDB against 3-4 us for the point
 * read and the delta), and under a write load the rounds rescanned about one segment per
 * replica write (session 9), so the delta is the cheaper way for the common case. Applying
 * after the commit keeps it exact: a rehash sees only committed entries, and a write that
 * commits after a rehash of its segment marks it dirty again. A failed write changes nothing.
 *
 * The trees themselves live only in memory and are rebuilt from the index at start, one leaf
 * segment at a time (TreeRebuild): a segment's hash is the XOR of one contiguous index range.
 */
export interface KeyChange {
  tree: TreeId;
  segment: number;
  /**
   * Set when the change can be applied to its leaf as a delta once committed (`settle`): the
   * item key, and its entry's version hash before (read from the index at plan time) and after
   * the write (undefined: no entry). Unset: the segment is marked dirty instead.
   */
  delta?: { itemKey: Uint8Array; before: Uint8Array | undefined; after: Uint8Array | undefined };
}

export interface WritePlan {
  /** The index ops to add to the write. */
  indexOps: WriteOp[];
  changes: KeyChange[];
}

export interface HashTreesOptions {
  /** The raw engine (reads only; writes go through IndexedStorage). */
  storage: StorageEngine;
  /** The key's tree, or undefined when anti-entropy does not cover it (a strong or unknown table). */
  placeOf: (itemKey: Uint8Array) => TreeId | undefined;
  /**
   * Trees kept in memory (partitions times distinct n values is enough; about 19 kB each). A
   * tree beyond it is not kept (counted in `treesRefused`): its keys stay indexed, and its
   * exchanges compare an empty tree, costly but safe, instead of failing committed writes.
   */
  treesMax: number;
  /** Clock ms, for when each leaf segment was last written (`youngSegments`, `deferYoung`); without it no segment counts as young. */
  nowMs?: () => number;
}

interface KeptTree {
  id: TreeId;
  tree: MerkleTree;
  /** 1 for a leaf segment written since it was last hashed. */
  dirty: Uint8Array;
  dirtyCount: number;
  /** Per leaf segment: clock ms of its last committed write here (0: none since start). */
  writtenAtMs: Float64Array;
  /** Per leaf segment: exchanges in a row that deferred it as young (`deferYoung`). */
  deferrals: Uint8Array;
}

/** What `deferYoung` leaves for an exchange to compare now, and how many segments it put off. */
export interface YoungSplit {
  compare: number[];
  deferred: number;
}

export class HashTrees {
  /** Keyed by `treeKey` (partition and n in one number). */
  private readonly trees = new Map<number, KeptTree>();
  /**
   * Planned writes not yet settled, per leaf segment (`segmentKey`): the background checks
   * leave a key alone while a write to its segment is on its way (a number per segment is
   * cheaper to keep on every write than a string per item key, and only makes them skip more).
   */
  private readonly pendingSegments = new Map<number, number>();
  /** Trees not kept because treesMax were held already. */
  treesRefused = 0;
  /** Leaf segments rehashed because writes had marked them dirty. */
  segmentsRehashed = 0;
  /** Committed writes applied to their leaf as a delta (no rehash needed). */
  deltasApplied = 0;
  /**
   * Segments (`segmentKey`) set from an index scan (a rehash or the rebuild) while a write to
   * them was pending: that scan may or may not have seen the write, so its delta must not be
   * applied; it marks the segment dirty instead. A subset of pendingSegments' keys.
   */
  private readonly scannedWhilePending = new Set<number>();

  constructor(private readonly options: HashTreesOptions) {}

  /**
   * The index ops and tree changes of a write: one per item key of a covered table. The entry
   * is written whatever it held before (an unchanged hash rewrites the same 8 bytes; the
   * replica writes an item only when its set changed).
   *
   * Where it is exact, the change carries a delta (`KeyChange.delta`): the entry's committed
   * hash, read here with one point read, and the new one, so `settle` updates the leaf in place
   * and no reader has to rescan the segment (a range scan costs several point reads). It is
   * exact when the segment has no write pending (`begin` without `settle`: the committed entry
   * is then what the leaf holds) and is not dirty (a dirty leaf is rescanned anyway), for the
   * first change of a segment in this write; any other change marks its segment dirty.
   */
  plan(ops: readonly WriteOp[]): WritePlan {
    const plan: WritePlan = { indexOps: [], changes: [] };
    let planned: Set<number> | undefined;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.key[0] !== Namespace.items) continue;
      const tree = this.options.placeOf(op.key);
      if (tree === undefined) continue;
      const after = op.type === "put" ? hashOfRecord(op.value) : undefined;
      const segment = segmentOf(op.key);
      const key = indexKey(tree, op.key, segment);
      plan.indexOps.push(after === undefined ? { type: "delete", key } : { type: "put", key, value: after });
      const at = segmentKey(tree, segment);
      const kept = this.trees.get(treeKey(tree));
      const exact = !this.pendingSegments.has(at) && !(planned?.has(at) ?? false) && kept?.dirty[segment] !== 1;
      if (ops.length > 1) (planned ??= new Set()).add(at);
      plan.changes.push(exact ? { tree, segment, delta: { itemKey: op.key, before: this.options.storage.get(key), after } } : { tree, segment });
    }
    return plan;
  }

  /** The plan's write was issued: its segments are pending until `settle`. */
  begin(plan: WritePlan): void {
    for (let i = 0; i < plan.changes.length; i++) {
      const change = plan.changes[i]!;
      const key = segmentKey(change.tree, change.segment);
      this.pendingSegments.set(key, (this.pendingSegments.get(key) ?? 0) + 1);
    }
  }

  /**
   * The plan's write committed (`committed`: each change's delta is applied to its leaf, or its
   * segment marked dirty when it has none or a scan set the leaf while it was pending) or
   * failed (nothing changed).
   */
  settle(plan: WritePlan, committed: boolean): void {
    for (let i = 0; i < plan.changes.length; i++) {
      const change = plan.changes[i]!;
      const key = segmentKey(change.tree, change.segment);
      if (committed) {
        const delta = change.delta;
        if (delta === undefined || this.scannedWhilePending.has(key)) this.markDirty(change.tree, change.segment);
        else this.applyDelta(change.tree, change.segment, delta);
      }
      const writes = this.pendingSegments.get(key)! - 1;
      if (writes === 0) {
        this.pendingSegments.delete(key);
        this.scannedWhilePending.delete(key);
      } else this.pendingSegments.set(key, writes);
    }
  }

  /**
   * Writes one index entry outside an item write (the background checks healing drift); its
   * segment is marked dirty once committed. The caller has checked that no write to the key is
   * pending, in the same turn.
   */
  fixIndex(tree: TreeId, itemKey: Uint8Array, after: Uint8Array | undefined): void {
    const segment = segmentOf(itemKey);
    const key = indexKey(tree, itemKey, segment);
    const plan: WritePlan = { indexOps: [after === undefined ? { type: "delete", key } : { type: "put", key, value: after }], changes: [{ tree, segment }] };
    this.begin(plan);
    this.options.storage.write(plan.indexOps).then(
      () => this.settle(plan, true),
      () => this.settle(plan, false),
    );
  }

  /** Whether a planned write to this item key's leaf segment has not settled yet (so perhaps to the key). */
  isPending(tree: TreeId, itemKey: Uint8Array): boolean {
    return this.pendingSegments.has(segmentKey(tree, segmentOf(itemKey)));
  }

  /** The key's tree (the node's placement). */
  placeOf(itemKey: Uint8Array): TreeId | undefined {
    return this.options.placeOf(itemKey);
  }

  /** The version hash the index holds for a key (callers first check that no write to it is pending: `isPending`). */
  currentHash(tree: TreeId, itemKey: Uint8Array): Uint8Array | undefined {
    return this.options.storage.get(indexKey(tree, itemKey));
  }

  /**
   * The tree of `tree` as it is kept, dirty leaves not rehashed (the rebuild, which sets
   * leaves itself), created empty when `create` (a write or a rebuild found keys for it).
   * Readers of its hashes use `hashedTree`.
   */
  treeOf(tree: TreeId, create = false): MerkleTree | undefined {
    return this.kept(tree, create)?.tree;
  }

  /**
   * The tree of `tree` with every dirty leaf rehashed from the index first: what an exchange
   * and a root compare. Costs one index range scan per dirty segment (at most the tree's
   * 1024), so at most one per segment written since the last call.
   */
  hashedTree(tree: TreeId): MerkleTree | undefined {
    const kept = this.kept(tree, false);
    if (kept === undefined) return undefined;
    if (kept.dirtyCount > 0) {
      for (let segment = 0; segment < merkleLeafSegments; segment++) {
        if (kept.dirty[segment] === 0) continue;
        const [high, low] = this.segmentHash(tree, segment);
        this.setSegment(kept, segment, high, low);
        this.segmentsRehashed++;
      }
    }
    return kept.tree;
  }

  /** A leaf segment's hash as the rebuild computed it from the index (`create`: it found entries): set, and no longer dirty. */
  setLeaf(tree: TreeId, segment: number, high: number, low: number, create: boolean): void {
    const kept = this.kept(tree, create);
    if (kept !== undefined) this.setSegment(kept, segment, high, low);
  }

  /** The XOR of the contributions of one leaf segment's index entries. */
  segmentHash(tree: TreeId, segment: number): [high: number, low: number] {
    const prefix = segmentPrefix(tree, segment);
    let high = 0;
    let low = 0;
    for (const entry of this.options.storage.range({ prefix })) {
      const [h, l] = contributionOf(entry.key.subarray(prefix.length), entry.value);
      high = (high ^ h) >>> 0;
      low = (low ^ l) >>> 0;
    }
    return [high, low];
  }

  /** Leaf segments written since they were last hashed, over every kept tree. */
  get dirtySegments(): number {
    let count = 0;
    for (const kept of this.trees.values()) count += kept.dirtyCount;
    return count;
  }

  /** Every tree this replica holds, in no particular order. */
  treeIds(): TreeId[] {
    return [...this.trees.values()].map((entry) => entry.id);
  }

  /** One leaf segment's (item key, version hash) entries, in item-key order, at most `limit`. */
  listSegment(tree: TreeId, segment: number, limit: number): { itemKey: Uint8Array; hash: Uint8Array }[] {
    const prefix = segmentPrefix(tree, segment);
    const entries: { itemKey: Uint8Array; hash: Uint8Array }[] = [];
    for (const entry of this.options.storage.range({ prefix, limit })) entries.push({ itemKey: entry.key.slice(prefix.length), hash: entry.value });
    return entries;
  }

  /**
   * Splits an exchange's differing leaf segments: one written here within `youngMs` is put off
   * (a write still landing on the replicas differs for a moment and normal replication fixes
   * it; an exchange would only list and "repair" its keys a moment early), unless it was put
   * off `deferralsMax` exchanges in a row already, so a segment written all the time is still
   * compared. A segment compared resets its count. A real difference in an idle segment (a
   * replica that was down or lost its data) is never young here, so it is compared at once.
   */
  deferYoung(tree: TreeId, segments: readonly number[], youngMs: number, deferralsMax: number, youngOnPeer: ReadonlySet<number> = new Set()): YoungSplit {
    // Kept (created empty if need be) so its deferral counts are too, when only the peer wrote it.
    const kept = this.kept(tree, youngOnPeer.size > 0);
    const nowMs = this.options.nowMs;
    if (kept === undefined || nowMs === undefined || youngMs <= 0) return { compare: [...segments], deferred: 0 };
    const now = nowMs();
    const compare: number[] = [];
    let deferred = 0;
    for (const segment of segments) {
      const written = kept.writtenAtMs[segment]!;
      const young = youngOnPeer.has(segment) || (written > 0 && now - written < youngMs);
      if (young && kept.deferrals[segment]! < deferralsMax) {
        kept.deferrals[segment]!++;
        deferred++;
      } else {
        kept.deferrals[segment] = 0;
        compare.push(segment);
      }
    }
    return { compare, deferred };
  }

  /**
   * For each of `segments`, 1 when this replica wrote it within `youngMs` (a peer's exchange
   * asks, so a write that reached this replica but not the initiator yet is put off too).
   */
  youngSegments(tree: TreeId, segments: readonly number[], youngMs: number): Uint8Array {
    const flags = new Uint8Array(segments.length);
    const kept = this.kept(tree, false);
    const nowMs = this.options.nowMs;
    if (kept === undefined || nowMs === undefined || youngMs <= 0) return flags;
    const now = nowMs();
    segments.forEach((segment, i) => {
      const written = kept.writtenAtMs[segment]!;
      if (written > 0 && now - written < youngMs) flags[i] = 1;
    });
    return flags;
  }

  /**
   * An exchange's repair wrote this key (merged here): its segment does not count as young
   * for it, or the next exchange with another replica would put off the very difference it is
   * spreading (a heal would slow to one segment per deferralsMax rounds).
   */
  forgetWrite(tree: TreeId, itemKey: Uint8Array): void {
    const kept = this.kept(tree, false);
    if (kept !== undefined) kept.writtenAtMs[segmentOf(itemKey)] = 0;
  }

  private markDirty(tree: TreeId, segment: number): void {
    const kept = this.kept(tree, true);
    if (kept !== undefined && this.options.nowMs !== undefined) kept.writtenAtMs[segment] = Math.max(1, this.options.nowMs());
    if (kept === undefined || kept.dirty[segment] === 1) return;
    kept.dirty[segment] = 1;
    kept.dirtyCount++;
  }

  /** A committed write's exact delta: its leaf (and the path above it) updated in place, O(1). */
  private applyDelta(tree: TreeId, segment: number, delta: NonNullable<KeyChange["delta"]>): void {
    const kept = this.kept(tree, true);
    if (kept === undefined) return;
    if (this.options.nowMs !== undefined) kept.writtenAtMs[segment] = Math.max(1, this.options.nowMs());
    kept.tree.updateIn(segment, delta.itemKey, delta.before, delta.after);
    this.deltasApplied++;
  }

  private setSegment(kept: KeptTree, segment: number, high: number, low: number): void {
    const key = segmentKey(kept.id, segment);
    if (this.pendingSegments.has(key)) this.scannedWhilePending.add(key);
    kept.tree.setLeaf(segment, high, low);
    if (kept.dirty[segment] === 1) {
      kept.dirty[segment] = 0;
      kept.dirtyCount--;
    }
  }

  private kept(tree: TreeId, create: boolean): KeptTree | undefined {
    const key = treeKey(tree);
    const found = this.trees.get(key);
    if (found !== undefined || !create) return found;
    if (this.trees.size >= this.options.treesMax) {
      this.treesRefused++;
      return undefined;
    }
    const created: KeptTree = {
      id: { partition: tree.partition, n: tree.n },
      tree: new MerkleTree(),
      dirty: new Uint8Array(merkleLeafSegments),
      dirtyCount: 0,
      writtenAtMs: new Float64Array(merkleLeafSegments),
      deferrals: new Uint8Array(merkleLeafSegments),
    };
    this.trees.set(key, created);
    return created;
  }
}

/** The version hash of a stored item record, or undefined for a record anti-entropy does not cover (a strong table's). */
export function hashOfRecord(bytes: Uint8Array): Uint8Array | undefined {
  const set = decodeSiblingRecordIfAny(bytes);
  return set === undefined ? undefined : versionHash(set);
}

/** One number per (tree, leaf segment): below 2^50, so a safe integer. */
function segmentKey(tree: TreeId, segment: number): number {
  return treeKey(tree) * merkleLeafSegments + segment;
}

/** One number per (partition, n): partition < 2^32 and n < 2^8, so it stays a safe integer. */
function treeKey(tree: TreeId): number {
  return tree.partition * 256 + tree.n;
}
