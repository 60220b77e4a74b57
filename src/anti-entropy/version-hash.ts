import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * The version hash of one key's stored set: what a Merkle exchange compares instead of the
 * set itself (Dynamo paper, section 4.7; Riak's hashtree hashes each object's vclock). Two
 * replicas' hashes are equal exactly when `dvvset.equal` holds for their sets, up to a 64-bit
 * collision, so the hash covers what `equal` covers and nothing else:
 *
 * - each entry's node id, counter and number of live dotted values: within one history a dot
 *   names one value, so the value bytes add nothing (and cost a hash of every value);
 * - every anonymous value in full (no dot names it), as an array with a fixed field order, so
 *   two decodings whose objects list fields in different orders hash alike.
 *
 * Entries are sorted by node id and anonymous values canonically in every set (the dvvset
 * invariant), so the MessagePack of this form is canonical. The 64 bits are two MurmurHash3
 * x86_32 of those bytes under two seeds (no node:crypto in the core).
 */
export const VERSION_HASH_BYTES = 8;

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

const seedHigh = 0x5eed_a11e;
const seedLow = 0x0c0f_fee5;

export function versionHash(set: DottedVersionVectorSet<Sibling>): Uint8Array {
  const length = set.anonymous.length === 0 ? packEntriesOnly(set.entries) : -1;
  if (length >= 0) return hash64(scratch.subarray(0, length));
  const entries = set.entries.map(([nodeId, counter, values]) => [nodeId, counter, values.length]);
  const anonymous = set.anonymous.map((s) => [s.value, s.contentType, s.metadata, s.timestamp, s.tombstone, s.expiresAtMs]);
  return hash64(packr.pack([entries, anonymous]));
}

/**
 * Hashed on every replica write. Most sets have no anonymous value and a few entries whose node
 * ids are short ASCII strings and whose counters fit 32 bits: for those, the same MessagePack
 * bytes as `packr.pack([entries, []])` are written straight into a reused buffer (no arrays to
 * build, no encoder run), so the hash and the stored index stay what they were. The bytes
 * equal packr's (version-hash.test.ts compares them); anything else returns -1 and goes
 * through packr.
 */
const scratch = new Uint8Array(1024);
const scratchView = new DataView(scratch.buffer);
const fixStrMax = 31;
const fixArrayMax = 15;
/** Bytes one entry can take here: fixarray, fixstr header and 31 bytes, two uint32. */
const entryBytesMax = 1 + 1 + fixStrMax + 9 + 5;

function packEntriesOnly(entries: DottedVersionVectorSet<Sibling>["entries"]): number {
  if (entries.length > fixArrayMax || 3 + entries.length * entryBytesMax > scratch.length) return -1;
  let at = 0;
  scratch[at++] = 0x92;
  scratch[at++] = 0x90 | entries.length;
  for (const [nodeId, counter, values] of entries) {
    scratch[at++] = 0x93;
    if (nodeId.length > fixStrMax) return -1;
    scratch[at++] = 0xa0 | nodeId.length;
    for (let i = 0; i < nodeId.length; i++) {
      const code = nodeId.charCodeAt(i);
      if (code >= 0x80) return -1;
      scratch[at++] = code;
    }
    at = packUint(counter, at);
    if (at < 0) return -1;
    at = packUint(values.length, at);
    if (at < 0) return -1;
  }
  scratch[at++] = 0x90;
  return at;
}

/**
 * A non-negative safe integer as packr writes it: MessagePack's shortest uint form below 2^32,
 * a float64 (0xcb) from there (counters of keys first written above the fresh-counter base,
 * node-items.ts, are ~2^44); -1 otherwise.
 */
function packUint(value: number, at: number): number {
  if (!Number.isSafeInteger(value) || value < 0) return -1;
  if (value > 0xffff_ffff) {
    scratch[at] = 0xcb;
    scratchView.setFloat64(at + 1, value);
    return at + 9;
  }
  if (value < 0x80) {
    scratch[at] = value;
    return at + 1;
  }
  if (value < 0x100) {
    scratch[at] = 0xcc;
    scratch[at + 1] = value;
    return at + 2;
  }
  if (value < 0x1_0000) {
    scratch[at] = 0xcd;
    scratch[at + 1] = value >>> 8;
    scratch[at + 2] = value & 0xff;
    return at + 3;
  }
  scratch[at] = 0xce;
  scratch[at + 1] = value >>> 24;
  scratch[at + 2] = (value >>> 16) & 0xff;
  scratch[at + 3] = (value >>> 8) & 0xff;
  scratch[at + 4] = value & 0xff;
  return at + 5;
}

/** 64 bits of `bytes` as 8 bytes, big-endian: two MurmurHash3 x86_32 under fixed seeds. */
export function hash64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(VERSION_HASH_BYTES);
  // Big-endian by hand: a DataView per hash is an allocation on every replica write.
  const high = murmurHash3(bytes, seedHigh);
  const low = murmurHash3(bytes, seedLow);
  out[0] = high >>> 24;
  out[1] = (high >>> 16) & 0xff;
  out[2] = (high >>> 8) & 0xff;
  out[3] = high & 0xff;
  out[4] = low >>> 24;
  out[5] = (low >>> 16) & 0xff;
  out[6] = (low >>> 8) & 0xff;
  out[7] = low & 0xff;
  return out;
}

export function versionHashesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  assert(a.length === VERSION_HASH_BYTES && b.length === VERSION_HASH_BYTES, "version hashes are 8 bytes");
  for (let i = 0; i < VERSION_HASH_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
