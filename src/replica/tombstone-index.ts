import { assert } from "../assert.js";
import { Namespace } from "../storage/keyspace.js";
import type { Bytes, WriteOp } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * The tombstone index (keyspace.ts namespace 0x07): one entry per item key whose stored set
 * holds only tombstones (a delete, or an expired value the sweep turned into a tombstone), at
 * the physical time (ms) of the newest tombstone's HLC timestamp. Tombstone GC
 * (coordinator/tombstone-reaper.ts) walks it in time order to find tombstones older than the
 * grace, so it needs no scan of the tables and survives restarts. The entry is derived from
 * the set alone, so `tombstoneIndexOps` keeps it exact in the same atomic write as every
 * replacement of a set, like the expiry index.
 */
export const TOMBSTONE_HEADER_BYTES = 1 + 8;
const TWO_POW_32 = 2 ** 32;

/** When the set's newest tombstone was written (ms), or undefined when it is empty or holds a live sibling. */
export function tombstoneTimeOf(set: DottedVersionVectorSet<Sibling> | undefined): number | undefined {
  if (set === undefined || !onlyTombstones(set)) return undefined;
  const values = dvvset.values(set);
  if (values.length === 0 || !values.every((sibling) => sibling.tombstone)) return undefined;
  return Math.max(0, ...values.map((sibling) => hlcPhysicalMs(sibling.timestamp)));
}

/** True when the set has values and every one is a tombstone; walks it in place (every replica write asks, and most sets hold a live value). */
function onlyTombstones(set: DottedVersionVectorSet<Sibling>): boolean {
  let any = false;
  const entries = set.entries;
  for (let i = 0; i < entries.length; i++) {
    const values = entries[i]![2];
    for (let j = 0; j < values.length; j++) {
      if (!values[j]!.tombstone) return false;
      any = true;
    }
  }
  for (let i = 0; i < set.anonymous.length; i++) {
    if (!set.anonymous[i]!.tombstone) return false;
    any = true;
  }
  return any;
}

export function tombstoneIndexKey(timeMs: number, itemKey: Bytes): Uint8Array {
  assert(Number.isSafeInteger(timeMs) && timeMs >= 0, `tombstoneIndexKey: time must be a non-negative safe integer, got ${timeMs}`);
  assert(itemKey.length > 0, "tombstoneIndexKey: item key must not be empty");
  const key = new Uint8Array(TOMBSTONE_HEADER_BYTES + itemKey.length);
  key[0] = Namespace.tombstones;
  const view = new DataView(key.buffer);
  view.setUint32(1, Math.floor(timeMs / TWO_POW_32));
  view.setUint32(5, timeMs % TWO_POW_32);
  key.set(itemKey, TOMBSTONE_HEADER_BYTES);
  return key;
}

/** Every index key of a tombstone written strictly before `timeMs` sorts below this. */
export function tombstoneIndexBound(timeMs: number): Uint8Array {
  return tombstoneIndexKey(Math.max(0, timeMs), Uint8Array.of(0)).slice(0, TOMBSTONE_HEADER_BYTES);
}

export function decodeTombstoneIndexKey(key: Bytes): { timeMs: number; itemKey: Uint8Array } {
  assert(key.length > TOMBSTONE_HEADER_BYTES && key[0] === Namespace.tombstones, "decodeTombstoneIndexKey: not a tombstone index key");
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const timeMs = view.getUint32(1) * TWO_POW_32 + view.getUint32(5);
  return { timeMs, itemKey: key.slice(TOMBSTONE_HEADER_BYTES) };
}

/** The index changes that replacing `before` by `after` (undefined: removed) at `itemKey` needs. */
export function tombstoneIndexOps(itemKey: Bytes, before: DottedVersionVectorSet<Sibling> | undefined, after: DottedVersionVectorSet<Sibling> | undefined): WriteOp[] {
  const old = tombstoneTimeOf(before);
  const now = tombstoneTimeOf(after);
  if (old === now) return [];
  const ops: WriteOp[] = [];
  if (old !== undefined) ops.push({ type: "delete", key: tombstoneIndexKey(old, itemKey) });
  if (now !== undefined) ops.push({ type: "put", key: tombstoneIndexKey(now, itemKey), value: noBytes });
  return ops;
}

const noBytes = new Uint8Array(0);
