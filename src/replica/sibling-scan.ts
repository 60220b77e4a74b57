import { assert } from "../assert.js";
import { compareBytes } from "../storage/byte-order.js";
import type { Bytes, StorageEngine } from "../storage/storage-engine.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { decodeSiblingRecordIfAny } from "./sibling-record.js";

/**
 * A bounded range scan of one replica's stored sibling sets, for list (a table or key prefix)
 * and query (one partition key's sort keys). The coordinator encodes the range in item-key
 * bytes; the replica only compares bytes. Tombstone-only sets are returned too: a tombstone on
 * one replica must supersede a stale live value on another when the coordinator merges.
 *
 * Bounds: at most `limit` entries (the caller's page, at most `scanEntriesMax`) and about
 * `bytesMax` stored bytes (the first entry always goes, so a big item still moves). A page that
 * stopped on a bound is not `exhausted`; its last key is where the caller's view of this
 * replica ends.
 */
export interface ScanBound {
  key: Bytes;
  inclusive: boolean;
}

export interface ScanRange {
  /** Only keys starting with these bytes. */
  prefix: Bytes;
  low?: ScanBound;
  high?: ScanBound;
  reverse: boolean;
  limit: number;
}

export interface ScannedSet {
  key: Bytes;
  set: DottedVersionVectorSet<Sibling>;
}

export interface ScanPage {
  entries: ScannedSet[];
  /** True when the range holds nothing beyond the last entry. */
  exhausted: boolean;
}

export const scanEntriesMax = 1000;
export const scanBytesMaxDefault = 8 * 1024 * 1024;

export function scanSets(storage: StorageEngine, range: ScanRange, bytesMax = scanBytesMaxDefault): ScanPage {
  const page = scanRecords(storage, range, (bytes) => decodeSiblingRecordIfAny(bytes), bytesMax);
  return { entries: page.entries.map(({ key, record }) => ({ key, set: record })), exhausted: page.exhausted };
}

/**
 * The same bounded scan over any record kind: `decode` turns a stored value into a record, or
 * undefined for a value of another kind (skipped, but counted toward the page's bounds).
 */
export function scanRecords<R>(storage: StorageEngine, range: ScanRange, decode: (bytes: Uint8Array) => R | undefined, bytesMax = scanBytesMaxDefault): { entries: { key: Bytes; record: R }[]; exhausted: boolean } {
  assert(range.limit >= 1 && range.limit <= scanEntriesMax, `scan limit ${range.limit} is outside 1..${scanEntriesMax}`);
  const entries: { key: Bytes; record: R }[] = [];
  let taken = 0;
  let bytes = 0;
  // One entry more than the page, to tell a full page from an exhausted range; one more again
  // for an exclusive start bound, which the engine's inclusive start may return.
  const iterable = storage.range({ prefix: range.prefix, limit: range.limit + 2, reverse: range.reverse, ...startOf(range) });
  for (const entry of iterable) {
    if (!withinStart(entry.key, range)) continue;
    if (!withinEnd(entry.key, range)) return { entries, exhausted: true };
    if (taken === range.limit || (taken > 0 && bytes + entry.value.length > bytesMax)) return { entries, exhausted: false };
    bytes += entry.value.length;
    taken++;
    const record = decode(entry.value);
    if (record !== undefined) entries.push({ key: entry.key, record });
  }
  return { entries, exhausted: true };
}

/** Whether `key` is inside the range's bounds (both ends). */
export function inScanRange(key: Bytes, range: Pick<ScanRange, "low" | "high">): boolean {
  if (range.low !== undefined) {
    const c = compareBytes(key, range.low.key);
    if (c < 0 || (c === 0 && !range.low.inclusive)) return false;
  }
  if (range.high !== undefined) {
    const c = compareBytes(key, range.high.key);
    if (c > 0 || (c === 0 && !range.high.inclusive)) return false;
  }
  return true;
}

/** The engine's inclusive start: the low bound going forwards, the high bound going backwards. */
function startOf(range: ScanRange): { start?: Bytes } {
  const bound = range.reverse ? range.high : range.low;
  return bound === undefined ? {} : { start: bound.key };
}

function withinStart(key: Bytes, range: ScanRange): boolean {
  const bound = range.reverse ? range.high : range.low;
  return bound === undefined || bound.inclusive || compareBytes(key, bound.key) !== 0;
}

function withinEnd(key: Bytes, range: ScanRange): boolean {
  return range.reverse ? inScanRange(key, { ...(range.low ? { low: range.low } : {}) }) : inScanRange(key, { ...(range.high ? { high: range.high } : {}) });
}
