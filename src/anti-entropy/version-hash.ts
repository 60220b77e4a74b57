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
  const entries = set.entries.map(([nodeId, counter, values]) => [nodeId, counter, values.length]);
  const anonymous = set.anonymous.map((s) => [s.value, s.contentType, s.metadata, s.timestamp, s.tombstone, s.expiresAtMs]);
  return hash64(packr.pack([entries, anonymous]));
}

/** 64 bits of `bytes` as 8 bytes, big-endian: two MurmurHash3 x86_32 under fixed seeds. */
export function hash64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(VERSION_HASH_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, murmurHash3(bytes, seedHigh));
  view.setUint32(4, murmurHash3(bytes, seedLow));
  return out;
}

export function versionHashesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  assert(a.length === VERSION_HASH_BYTES && b.length === VERSION_HASH_BYTES, "version hashes are 8 bytes");
  for (let i = 0; i < VERSION_HASH_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
