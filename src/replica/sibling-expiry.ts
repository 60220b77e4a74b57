import { expiryIndexKey } from "../storage/keyspace.js";
import type { Bytes, WriteOp } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * Expiry on the eventual path: each sibling carries its own expiry. A sibling whose expiry has
 * passed reads as absent at once (`liveSiblingsAt`); the expiry index (keyspace.ts, one entry
 * per distinct expiry time of a key's siblings) lets the sweeper find such keys without
 * scanning the table, and `expiryIndexOps` keeps that index equal to what the stored set needs
 * whenever a set is replaced.
 */
export function isExpiredAt(sibling: Sibling, nowMs: number): boolean {
  return sibling.expiresAtMs !== null && sibling.expiresAtMs <= nowMs;
}

/** The siblings a read shows at `nowMs`: no tombstones, none expired. */
export function liveSiblingsAt(set: DottedVersionVectorSet<Sibling>, nowMs: number): Sibling[] {
  return dvvset.values(set).filter((sibling) => !sibling.tombstone && !isExpiredAt(sibling, nowMs));
}

/** Distinct expiry times of a set's siblings. */
export function expiriesOf(set: DottedVersionVectorSet<Sibling> | undefined): Set<number> {
  const times = new Set<number>();
  if (set === undefined) return times;
  // A negative expiry (long past) needs no index entry: reads hide it already.
  for (const sibling of dvvset.values(set)) if (sibling.expiresAtMs !== null && sibling.expiresAtMs >= 0) times.add(sibling.expiresAtMs);
  return times;
}

/** The index changes that replacing `before` by `after` (undefined: removed) at `itemKey` needs. */
export function expiryIndexOps(itemKey: Bytes, before: DottedVersionVectorSet<Sibling> | undefined, after: DottedVersionVectorSet<Sibling> | undefined): WriteOp[] {
  // Most sets never expire: then there is nothing to index, and no sets or lists to build (every replica write asks).
  if (!hasExpiry(before) && !hasExpiry(after)) return [];
  const old = expiriesOf(before);
  const now = expiriesOf(after);
  const ops: WriteOp[] = [];
  for (const time of old) if (!now.has(time)) ops.push({ type: "delete", key: expiryIndexKey(time, itemKey) });
  for (const time of now) if (!old.has(time)) ops.push({ type: "put", key: expiryIndexKey(time, itemKey), value: noBytes });
  return ops;
}

/** Whether any sibling of the set carries an expiry (`expiriesOf` would not be empty), without allocating. */
function hasExpiry(set: DottedVersionVectorSet<Sibling> | undefined): boolean {
  if (set === undefined) return false;
  const entries = set.entries;
  for (let i = 0; i < entries.length; i++) {
    const values = entries[i]![2];
    for (let j = 0; j < values.length; j++) if (expires(values[j]!)) return true;
  }
  for (let i = 0; i < set.anonymous.length; i++) if (expires(set.anonymous[i]!)) return true;
  return false;
}

function expires(sibling: Sibling): boolean {
  return sibling.expiresAtMs !== null && sibling.expiresAtMs >= 0;
}

const noBytes = new Uint8Array(0);
