import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { Namespace } from "../storage/keyspace.js";
import { STORAGE_KEY_BYTES_MAX } from "../storage/write-ops.js";

/**
 * Where a hint lives in the node's key space (the hints namespace reserved in keyspace.ts):
 *
 *   [0x05 hints][target length u8][target node id UTF-8][table id u32 BE][raw item key]
 *
 * One entry per (target, table, key): a newer hint for the same key merges into the older one
 * (dvvset.sync) instead of piling up, so a hot key written a thousand times while its owner is
 * down costs one hint, and the per-target bound counts keys, not writes. The target comes
 * first, with its length, so one target's hints are one contiguous range ("target a" is not a
 * prefix of "target ab") and delivery scans them in key order. Changing this changes the
 * on-disk format.
 */
export interface HintKey {
  readonly target: NodeId;
  readonly tableId: number;
  /** The item's raw key bytes, as the coordinator names the item; opaque here. */
  readonly key: Uint8Array;
}

/** Node ids are short names; one byte holds the length. */
export const HINT_TARGET_BYTES_MAX = 255;
const TABLE_ID_BYTES = 4;
const TABLE_ID_MAX = 0xffff_ffff;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Every hint for `target` starts with these bytes. */
export function hintTargetPrefix(target: NodeId): Uint8Array {
  const targetBytes = utf8Encoder.encode(target);
  assert(targetBytes.length > 0 && targetBytes.length <= HINT_TARGET_BYTES_MAX, `hint key: target node id is ${targetBytes.length} bytes; ids are 1 to ${HINT_TARGET_BYTES_MAX}`);
  const prefix = new Uint8Array(2 + targetBytes.length);
  prefix[0] = Namespace.hints;
  prefix[1] = targetBytes.length;
  prefix.set(targetBytes, 2);
  return prefix;
}

export function encodeHintKey(hint: HintKey): Uint8Array {
  assert(Number.isInteger(hint.tableId) && hint.tableId >= 0 && hint.tableId <= TABLE_ID_MAX, `hint key: table id must be a u32, got ${hint.tableId}`);
  assert(hint.key.length > 0, "hint key: the item key must not be empty");
  const prefix = hintTargetPrefix(hint.target);
  const out = new Uint8Array(prefix.length + TABLE_ID_BYTES + hint.key.length);
  // One byte below the storage limit, so a listing can start at the key's successor (key + 0x00).
  assert(out.length < STORAGE_KEY_BYTES_MAX, `hint key: ${out.length} bytes; hint keys are below ${STORAGE_KEY_BYTES_MAX}`);
  out.set(prefix, 0);
  new DataView(out.buffer).setUint32(prefix.length, hint.tableId);
  out.set(hint.key, prefix.length + TABLE_ID_BYTES);
  return out;
}

export function decodeHintKey(bytes: Uint8Array): HintKey {
  assert(bytes.length > 2 && bytes[0] === Namespace.hints, "decodeHintKey: not a hint key");
  const targetLength = bytes[1]!;
  const tableIdAt = 2 + targetLength;
  assert(targetLength > 0 && bytes.length > tableIdAt + TABLE_ID_BYTES, "decodeHintKey: truncated hint key");
  const target = utf8Decoder.decode(bytes.subarray(2, tableIdAt));
  const tableId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(tableIdAt);
  return { target, tableId, key: bytes.slice(tableIdAt + TABLE_ID_BYTES) };
}
