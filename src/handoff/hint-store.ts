import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { namespacePrefix, Namespace } from "../storage/keyspace.js";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { decodeHintKey, encodeHintKey, hintTargetPrefix, type HintKey } from "./hint-key.js";

/**
 * Durable hints for hinted handoff (Dynamo paper, section 4.6): when a primary replica is down,
 * the write goes to a fallback, which keeps it "in a separate local database" with a hint
 * naming the intended owner, and hands it back when the owner recovers (hint-delivery.ts).
 *
 * A hint is (target node, table id, raw key) plus the dotted version vector set to hand back.
 * One entry per (target, table, key) (hint-key.ts): a newer hint for the same key merges into
 * the stored one with dvvset.sync, so hints never pile up and merging loses no version.
 *
 * Bounds: at most `hintsPerTargetMax` keys per target (limits.ts) and `targetsMax` targets; a
 * hint beyond them is refused with `hints-full`, which the coordinator counts as a failed
 * replica (the write gets one acknowledgement fewer, never a silent drop). Hints for a key
 * already held always merge: that costs no new entry.
 *
 * Concurrency: storage reads are synchronous but writes commit later, so two adds for one key
 * in the same turn would both read the old set and the second would overwrite the first. Every
 * mutation therefore reads through `pending`, the latest state of keys whose writes have not
 * committed yet; storage engines commit writes in the order issued, so the last pending state
 * is what ends up stored. `pending` holds only keys with a write in flight, so it is bounded
 * by the writes in flight (the coordinator's in-flight requests).
 *
 * Counts per target live in memory, rebuilt by `open` with one scan of the hints namespace
 * (bounded by targetsMax * hintsPerTargetMax entries; measured at about 0.3 to 1.5 s for 100,000
 * hints on a loaded 2-core machine). A write that fails (the engine closed under it) leaves the
 * counts off by its ops until the next open; the node is shutting down then anyway.
 */
export interface Hint<T> extends HintKey {
  readonly set: DottedVersionVectorSet<T>;
}

/** Where a listing stopped; pass it back as `after` to continue strictly after it. */
export type HintCursor = Uint8Array;

export interface ListedHint<T> extends Hint<T> {
  /** Stored bytes of the hint (for batch byte bounds). */
  readonly bytes: number;
  readonly cursor: HintCursor;
}

export interface HintListOptions {
  after?: HintCursor;
  /** Hints returned at most. */
  limit: number;
  /** Stored bytes returned at most; the first hint is returned even if larger, so a big one still moves. */
  bytesMax?: number;
}

export interface HintList<T> {
  hints: ListedHint<T>[];
  /** Continue after this cursor, or null when the target's hints ended. */
  resumeAfter: HintCursor | null;
}

export type HintAddResult = { ok: true } | { ok: false; error: "hints-full" };

export interface HintStoreOptions<T> {
  storage: StorageEngine;
  /** Checks each value decoded from disk (pair with dvvset.parse), e.g. versioning's isSibling. */
  isValue: (value: unknown) => value is T;
  /** Keys held for one target (limits.ts hintsPerTargetMax). */
  hintsPerTargetMax: number;
  /** Distinct targets held at once. */
  targetsMax?: number;
}

export const hintStoreDefaults = Object.freeze({ targetsMax: 1024 });

/** The on-disk value: [format, set]. A new format gets a new number; decode refuses unknown ones. */
export const HINT_FORMAT = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

interface HintState<T> {
  /** undefined: deleted (a delete in flight). */
  readonly set: DottedVersionVectorSet<T> | undefined;
  readonly bytes: number;
}

interface PendingState<T> extends HintState<T> {
  writes: number;
}

export class HintStore<T> {
  private readonly storage: StorageEngine;
  private readonly isValue: (value: unknown) => value is T;
  private readonly hintsPerTargetMax: number;
  private readonly targetsMax: number;
  private readonly counts = new Map<NodeId, number>();
  private readonly pending = new Map<string, PendingState<T>>();

  private constructor(options: HintStoreOptions<T>) {
    this.storage = options.storage;
    this.isValue = options.isValue;
    this.hintsPerTargetMax = options.hintsPerTargetMax;
    this.targetsMax = options.targetsMax ?? hintStoreDefaults.targetsMax;
    assert(Number.isSafeInteger(this.hintsPerTargetMax) && this.hintsPerTargetMax > 0, `hintsPerTargetMax must be a positive integer, got ${this.hintsPerTargetMax}`);
    assert(Number.isSafeInteger(this.targetsMax) && this.targetsMax > 0, `targetsMax must be a positive integer, got ${this.targetsMax}`);
  }

  /** Opens the store over `storage`, counting the hints a previous run left (one key scan). */
  static open<T>(options: HintStoreOptions<T>): HintStore<T> {
    const store = new HintStore(options);
    for (const { key } of options.storage.range({ prefix: namespacePrefix(Namespace.hints) })) {
      const { target } = decodeHintKey(key);
      store.counts.set(target, (store.counts.get(target) ?? 0) + 1);
    }
    return store;
  }

  /**
   * Keeps `hint` for its target, merged with any hint already held for the key. Resolves once
   * stored (durably with `durable`), or with `hints-full` when the target's bound is reached.
   */
  async add(hint: Hint<T>, options: { durable?: boolean } = {}): Promise<HintAddResult> {
    const storageKey = encodeHintKey(hint);
    const existing = this.state(storageKey)?.set;
    if (existing === undefined && !this.hasRoomFor(hint.target)) return { ok: false, error: "hints-full" };
    const set = existing === undefined ? hint.set : dvvset.sync(existing, hint.set);
    const value = encodeHintValue(set);
    if (existing === undefined) this.counts.set(hint.target, (this.counts.get(hint.target) ?? 0) + 1);
    await this.persist([{ type: "put", key: storageKey, value }], [{ set, bytes: value.length }], options.durable === true);
    return { ok: true };
  }

  /** The set held for one key, or undefined (a fallback answers reads for its hinted keys from it). */
  get(key: HintKey): DottedVersionVectorSet<T> | undefined {
    return this.state(encodeHintKey(key))?.set;
  }

  /** One target's hints in key order, strictly after `after`, bounded by count and bytes. */
  listForTarget(target: NodeId, options: HintListOptions): HintList<T> {
    assert(Number.isSafeInteger(options.limit) && options.limit > 0, `listForTarget: limit must be a positive integer, got ${options.limit}`);
    const bytesMax = options.bytesMax ?? Infinity;
    const prefix = hintTargetPrefix(target);
    const start = options.after === undefined ? prefix : successor(options.after);
    const hints: ListedHint<T>[] = [];
    let bytes = 0;
    // Entries whose delete is in flight are skipped, so read up to that many more.
    for (const entry of this.storage.range({ prefix, start, limit: options.limit + this.pending.size })) {
      const state = this.pending.get(mapKey(entry.key)) ?? { set: this.decode(entry.value), bytes: entry.value.length };
      if (state.set === undefined) continue;
      if (hints.length > 0 && bytes + state.bytes > bytesMax) return { hints, resumeAfter: hints.at(-1)!.cursor };
      hints.push({ ...decodeHintKey(entry.key), set: state.set, bytes: state.bytes, cursor: entry.key });
      bytes += state.bytes;
      if (hints.length === options.limit) return { hints, resumeAfter: entry.key };
    }
    return { hints, resumeAfter: null };
  }

  /**
   * Compare-and-delete after a handoff: removes each hint whose stored set still equals the
   * one handed back. A hint that merged a newer write since it was listed stays, to be handed
   * back again. Resolves with the number removed, once the removal is committed.
   */
  async remove(hints: readonly Hint<T>[], options: { durable?: boolean } = {}): Promise<number> {
    const ops: WriteOp[] = [];
    const states: HintState<T>[] = [];
    for (const hint of hints) {
      const storageKey = encodeHintKey(hint);
      const current = this.state(storageKey)?.set;
      if (current === undefined || !dvvset.equal(current, hint.set)) continue;
      ops.push({ type: "delete", key: storageKey });
      states.push({ set: undefined, bytes: 0 });
      this.decrement(hint.target);
    }
    if (ops.length > 0) await this.persist(ops, states, options.durable === true);
    return ops.length;
  }

  /** Hints held per target (targets with none are absent). */
  countByTarget(): ReadonlyMap<NodeId, number> {
    return this.counts;
  }

  /** Hints held for one target. */
  count(target: NodeId): number {
    return this.counts.get(target) ?? 0;
  }

  private hasRoomFor(target: NodeId): boolean {
    const count = this.counts.get(target) ?? 0;
    if (count >= this.hintsPerTargetMax) return false;
    return count > 0 || this.counts.size < this.targetsMax;
  }

  private decrement(target: NodeId): void {
    const count = this.counts.get(target) ?? 0;
    assert(count > 0, `hint store: removing a hint for ${target}, which holds none`);
    if (count === 1) this.counts.delete(target);
    else this.counts.set(target, count - 1);
  }

  /** The latest state of a key: its in-flight write if any, else what is stored. */
  private state(storageKey: Uint8Array): HintState<T> | undefined {
    const pending = this.pending.get(mapKey(storageKey));
    if (pending !== undefined) return pending;
    const stored = this.storage.get(storageKey);
    return stored === undefined ? undefined : { set: this.decode(stored), bytes: stored.length };
  }

  /** Writes `ops` with each key's new state visible to later mutations until the write commits. */
  private async persist(ops: readonly WriteOp[], states: readonly HintState<T>[], durable: boolean): Promise<void> {
    const keys = ops.map((op) => mapKey(op.key));
    keys.forEach((key, i) => {
      const writes = (this.pending.get(key)?.writes ?? 0) + 1;
      this.pending.set(key, { ...states[i]!, writes });
    });
    try {
      await this.storage.write(ops, { durable });
    } finally {
      for (const key of keys) {
        const entry = this.pending.get(key)!;
        if (--entry.writes === 0) this.pending.delete(key);
      }
    }
  }

  private decode(bytes: Uint8Array): DottedVersionVectorSet<T> {
    const fields: unknown = packr.unpack(bytes);
    assert(Array.isArray(fields) && fields.length === 2, "hint store: stored hint is not [format, set]");
    assert(fields[0] === HINT_FORMAT, `hint store: unknown hint format ${String(fields[0])}; this node reads format ${HINT_FORMAT}`);
    const parsed = dvvset.parse(fields[1], this.isValue);
    assert(parsed.ok, `hint store: stored hint holds no valid set: ${parsed.ok ? "" : parsed.error}`);
    return parsed.set;
  }
}

function encodeHintValue<T>(set: DottedVersionVectorSet<T>): Uint8Array {
  assert(Array.isArray(set.entries) && Array.isArray(set.anonymous) && dvvset.size(set) > 0, "hint store: a hint holds a set with at least one value");
  return packr.pack([HINT_FORMAT, set]);
}

/** The smallest key strictly greater than `key` in byte order: `key` followed by 0x00. */
function successor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key, 0);
  return next;
}

/** A string naming the key bytes one to one (one char per byte), for the pending map. */
function mapKey(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}
