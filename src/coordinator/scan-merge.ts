import { compareBytes } from "../storage/byte-order.js";
import type { Bytes } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { compareSiblingsForLww, type Sibling } from "../versioning/sibling.js";
import type { ItemVersion } from "./item-operations.js";
import { itemVersionsOf } from "./item-version.js";

/**
 * Merging the pages several replicas returned for one scan (list: every up member; query: a
 * partition key's replicas) into one page, like a get merges fetches: the sets of one key are
 * synced (dvvset.sync), and a key whose merged set shows nothing live (tombstones, expired)
 * is dropped.
 *
 * Completeness: a replica that stopped on a bound (not exhausted) has said nothing about keys
 * past its last one, so only keys up to the least advanced such last key (the frontier, in the
 * scan's direction) are known completely; later keys wait for the next page. The page ends at
 * `limit` live keys or at the frontier, and resumes after its last key (or the frontier when
 * the page came back short). With every replica exhausted and no more keys, it ends (null).
 */
export interface ReplicaScanReply {
  entries: readonly { key: Bytes; set: DottedVersionVectorSet<Sibling> }[];
  exhausted: boolean;
}

export interface MergedScanItem {
  key: Bytes;
  siblings: ItemVersion[];
}

export interface MergedScanPage {
  items: MergedScanItem[];
  /** Resume strictly after this key (in the scan's direction), or null at the end. */
  resumeAfter: Bytes | null;
}

export interface ScanMergeOptions {
  reverse: boolean;
  limit: number;
  nowMs: number;
  lww: boolean;
}

export function mergeScanReplies(replies: readonly ReplicaScanReply[], options: ScanMergeOptions): MergedScanPage {
  const order = (a: Bytes, b: Bytes): number => (options.reverse ? compareBytes(b, a) : compareBytes(a, b));
  const frontier = frontierOf(replies, order);
  const merged = new Map<string, { key: Bytes; set: DottedVersionVectorSet<Sibling> }>();
  for (const reply of replies) {
    for (const entry of reply.entries) {
      if (frontier !== undefined && order(entry.key, frontier) > 0) continue;
      const name = Buffer.from(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength).toString("latin1");
      const known = merged.get(name);
      merged.set(name, { key: entry.key, set: known === undefined ? entry.set : dvvset.sync(known.set, entry.set) });
    }
  }
  const keys = [...merged.values()].sort((a, b) => order(a.key, b.key));
  const items: MergedScanItem[] = [];
  for (let i = 0; i < keys.length; i++) {
    const { key, set } = keys[i]!;
    const siblings = itemVersionsOf(options.lww ? dvvset.lww(set, compareSiblingsForLww) : set, options.nowMs);
    if (siblings.length === 0) continue;
    items.push({ key, siblings });
    if (items.length === options.limit) {
      const more = i < keys.length - 1 || frontier !== undefined;
      return { items, resumeAfter: more ? key : null };
    }
  }
  return { items, resumeAfter: frontier ?? null };
}

/** The least advanced last key among replicas that stopped on a bound; undefined when all are exhausted. */
export function frontierOf(replies: readonly { entries: readonly { key: Bytes }[]; exhausted: boolean }[], order: (a: Bytes, b: Bytes) => number): Bytes | undefined {
  let frontier: Bytes | undefined;
  for (const reply of replies) {
    if (reply.exhausted || reply.entries.length === 0) continue;
    const last = reply.entries[reply.entries.length - 1]!.key;
    if (frontier === undefined || order(last, frontier) < 0) frontier = last;
  }
  return frontier;
}
