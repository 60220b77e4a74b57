import { decodeSiblingRecordIfAny } from "../replica/sibling-record.js";
import { Namespace } from "../storage/keyspace.js";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";
import { MerkleTree, segmentOf } from "./merkle-tree.js";
import { indexKey, segmentPrefix, treeName, type TreeId } from "./segment-index.js";
import { versionHash, versionHashesEqual } from "./version-hash.js";

/**
 * A replica's Merkle trees, one per (partition, n) it holds keys of, and the version-hash
 * index behind them (segment-index.ts). IndexedStorage calls `plan` for every write: the
 * index entries of the item keys it touches go into the same atomic write, so after a crash
 * the index and the items still agree; the in-memory trees take the change once the write has
 * committed (`settle`). A failed write leaves the trees as they were.
 *
 * The trees themselves live only in memory and are rebuilt from the index at start, one leaf
 * segment at a time (TreeRebuild): a segment's hash is the XOR of one contiguous index range.
 * A segment is only rebuilt while no planned write to it is waiting to commit (`busy`), so a
 * rebuild never counts a change twice or misses one.
 */
export interface KeyChange {
  tree: TreeId;
  itemKey: Uint8Array;
  before: Uint8Array | undefined;
  after: Uint8Array | undefined;
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
   * Trees kept in memory (partitions times distinct n values is enough; about 8.5 kB each). A
   * tree beyond it is not kept (counted in `treesRefused`): its keys stay indexed, and its
   * exchanges compare an empty tree, costly but safe, instead of failing committed writes.
   */
  treesMax: number;
}

interface PendingHash {
  hash: Uint8Array | undefined;
  writes: number;
}

export class HashTrees {
  private readonly trees = new Map<string, { id: TreeId; tree: MerkleTree }>();
  /** Item keys with a planned write not yet settled: their latest planned hash. */
  private readonly pending = new Map<string, PendingHash>();
  /** Planned writes not yet settled, per "tree:segment". */
  private readonly busySegments = new Map<string, number>();
  /** Trees not kept because treesMax were held already. */
  treesRefused = 0;

  constructor(private readonly options: HashTreesOptions) {}

  /** The index ops and tree changes of a write: one per item key whose version hash changes. */
  plan(ops: readonly WriteOp[]): WritePlan {
    const plan: WritePlan = { indexOps: [], changes: [] };
    const planned = new Map<string, Uint8Array | undefined>();
    for (const op of ops) {
      if (op.key[0] !== Namespace.items) continue;
      const tree = this.options.placeOf(op.key);
      if (tree === undefined) continue;
      const name = keyName(op.key);
      const before = planned.has(name) ? planned.get(name) : this.currentHash(tree, op.key);
      const after = op.type === "put" ? hashOfRecord(op.value) : undefined;
      planned.set(name, after);
      if (versionHashesEqual(before, after)) continue;
      const key = indexKey(tree, op.key);
      plan.indexOps.push(after === undefined ? { type: "delete", key } : { type: "put", key, value: after });
      plan.changes.push({ tree, itemKey: op.key, before, after });
    }
    return plan;
  }

  /** The plan's write was issued: its keys are pending until `settle`. */
  begin(plan: WritePlan): void {
    for (const change of plan.changes) {
      const name = keyName(change.itemKey);
      const pending = this.pending.get(name);
      this.pending.set(name, { hash: change.after, writes: (pending?.writes ?? 0) + 1 });
      const segment = segmentName(change.tree, segmentOf(change.itemKey));
      this.busySegments.set(segment, (this.busySegments.get(segment) ?? 0) + 1);
    }
  }

  /** The plan's write committed (`committed`) or failed: apply its changes or drop them. */
  settle(plan: WritePlan, committed: boolean): void {
    for (const change of plan.changes) {
      if (committed) this.treeOf(change.tree, true)?.update(change.itemKey, change.before, change.after);
      const name = keyName(change.itemKey);
      const pending = this.pending.get(name)!;
      if (--pending.writes === 0) this.pending.delete(name);
      const segment = segmentName(change.tree, segmentOf(change.itemKey));
      const busy = this.busySegments.get(segment)! - 1;
      if (busy === 0) this.busySegments.delete(segment);
      else this.busySegments.set(segment, busy);
    }
  }

  /**
   * Writes one index entry outside an item write (the background checks healing drift) and
   * moves the tree by the difference once committed. The caller has checked that no write to
   * the key is pending, in the same turn.
   */
  fixIndex(tree: TreeId, itemKey: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    const key = indexKey(tree, itemKey);
    const plan: WritePlan = { indexOps: [after === undefined ? { type: "delete", key } : { type: "put", key, value: after }], changes: [{ tree, itemKey, before, after }] };
    this.begin(plan);
    this.options.storage.write(plan.indexOps).then(
      () => this.settle(plan, true),
      () => this.settle(plan, false),
    );
  }

  /** Whether a planned write to this item key has not settled yet. */
  isPending(itemKey: Uint8Array): boolean {
    return this.pending.has(keyName(itemKey));
  }

  /** The key's tree (the node's placement). */
  placeOf(itemKey: Uint8Array): TreeId | undefined {
    return this.options.placeOf(itemKey);
  }

  /** The version hash the index holds for a key, counting planned writes not yet committed. */
  currentHash(tree: TreeId, itemKey: Uint8Array): Uint8Array | undefined {
    const pending = this.pending.get(keyName(itemKey));
    if (pending !== undefined) return pending.hash;
    return this.options.storage.get(indexKey(tree, itemKey));
  }

  /** The tree of `tree`, created empty when `create` (a write or a rebuild found keys for it). */
  treeOf(tree: TreeId, create = false): MerkleTree | undefined {
    const name = treeName(tree);
    const found = this.trees.get(name);
    if (found !== undefined || !create) return found?.tree;
    if (this.trees.size >= this.options.treesMax) {
      this.treesRefused++;
      return undefined;
    }
    const created = { id: { partition: tree.partition, n: tree.n }, tree: new MerkleTree() };
    this.trees.set(name, created);
    return created.tree;
  }

  /** Every tree this replica holds, in no particular order. */
  treeIds(): TreeId[] {
    return [...this.trees.values()].map((entry) => entry.id);
  }

  /** Whether a planned write to this segment waits to commit (a rebuild must not read it now). */
  isBusy(tree: TreeId, segment: number): boolean {
    return this.busySegments.has(segmentName(tree, segment));
  }

  /** One leaf segment's (item key, version hash) entries, in item-key order, at most `limit`. */
  listSegment(tree: TreeId, segment: number, limit: number): { itemKey: Uint8Array; hash: Uint8Array }[] {
    const prefix = segmentPrefix(tree, segment);
    const entries: { itemKey: Uint8Array; hash: Uint8Array }[] = [];
    for (const entry of this.options.storage.range({ prefix, limit })) entries.push({ itemKey: entry.key.slice(prefix.length), hash: entry.value });
    return entries;
  }
}

/** The version hash of a stored item record, or undefined for a record anti-entropy does not cover (a strong table's). */
export function hashOfRecord(bytes: Uint8Array): Uint8Array | undefined {
  const set = decodeSiblingRecordIfAny(bytes);
  return set === undefined ? undefined : versionHash(set);
}

function keyName(itemKey: Uint8Array): string {
  return Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
}

function segmentName(tree: TreeId, segment: number): string {
  return `${treeName(tree)}:${segment}`;
}
