import { assert } from "../assert.js";
import { concatBytes } from "./byte-order.js";

/**
 * The layout of the node's one ordered key space. Every key's first byte names its namespace,
 * so each namespace is one contiguous range a scan can walk without touching the others:
 *
 *   0x01 items      [0x01][table id u32 BE][escaped partition key][0x00 0x01][escaped sort key]
 *                   (item-key.ts)
 *   0x02 catalog    [0x02][table name UTF-8]                       table definitions
 *   0x03 expiry     [0x03][expires at, ms since epoch, u64 BE][item key]
 *                   scanned in time order by the expiry sweep
 *   0x04 meta       [0x04][name UTF-8]                             node metadata (node id, ring,
 *                   clock floor)
 *   0x05 hints      reserved for hinted handoff (Dynamo section 4.6)
 *   0x06 anti-entropy  reserved for Merkle tree state (Dynamo section 4.7)
 *   0x07 tombstones [0x07][newest tombstone, ms, u64 BE][item key]  keys whose stored set is
 *                   only tombstones, scanned in time order by tombstone GC (replica/tombstone-index.ts)
 *
 * 0x00 and 0xFF are never used as namespaces, so "before every key" and "after every key"
 * stay free for sentinels. Changing a byte here changes the on-disk format.
 */
export const Namespace = Object.freeze({
  items: 0x01,
  catalog: 0x02,
  expiry: 0x03,
  meta: 0x04,
  hints: 0x05,
  antiEntropy: 0x06,
  tombstones: 0x07,
} as const);

export type NamespaceByte = (typeof Namespace)[keyof typeof Namespace];

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** The one-byte prefix every key of a namespace starts with. */
export function namespacePrefix(namespace: NamespaceByte): Uint8Array {
  return Uint8Array.of(namespace);
}

/** Where the catalog keeps the definition of table `name`. */
export function catalogKey(name: string): Uint8Array {
  assert(name.length > 0, "catalogKey: table name must not be empty");
  return concatBytes([namespacePrefix(Namespace.catalog), utf8Encoder.encode(name)]);
}

export function decodeCatalogKey(key: Uint8Array): string {
  assert(key.length > 1 && key[0] === Namespace.catalog, "decodeCatalogKey: not a catalog key");
  return utf8Decoder.decode(key.subarray(1));
}

/** Where the node keeps metadata entry `name` (its id, the ring, the clock floor). */
export function metaKey(name: string): Uint8Array {
  assert(name.length > 0, "metaKey: name must not be empty");
  return concatBytes([namespacePrefix(Namespace.meta), utf8Encoder.encode(name)]);
}

export function decodeMetaKey(key: Uint8Array): string {
  assert(key.length > 1 && key[0] === Namespace.meta, "decodeMetaKey: not a meta key");
  return utf8Decoder.decode(key.subarray(1));
}

/** Bytes an expiry index key adds in front of the item key (namespace and time). */
export const EXPIRY_HEADER_BYTES = 1 + 8;
const TWO_POW_32 = 2 ** 32;

/**
 * The expiry index entry for an item: the time comes first, big-endian, so a forward scan of
 * the expiry namespace visits items in the order they expire and can stop at the first entry
 * still in the future. The item key follows so two items expiring in the same millisecond get
 * distinct entries.
 */
export function expiryIndexKey(expiresAtMs: number, itemKey: Uint8Array): Uint8Array {
  assert(Number.isSafeInteger(expiresAtMs) && expiresAtMs >= 0, `expiryIndexKey: expiresAtMs must be a non-negative safe integer, got ${expiresAtMs}`);
  assert(itemKey.length > 0, "expiryIndexKey: item key must not be empty");
  const key = new Uint8Array(EXPIRY_HEADER_BYTES + itemKey.length);
  writeUint64(key, 1, expiresAtMs);
  key[0] = Namespace.expiry;
  key.set(itemKey, EXPIRY_HEADER_BYTES);
  return key;
}

/** Every expiry index key for items expiring strictly before `expiresAtMs` sorts below this. */
export function expiryIndexBound(expiresAtMs: number): Uint8Array {
  assert(Number.isSafeInteger(expiresAtMs) && expiresAtMs >= 0, `expiryIndexBound: expiresAtMs must be a non-negative safe integer, got ${expiresAtMs}`);
  const key = new Uint8Array(EXPIRY_HEADER_BYTES);
  key[0] = Namespace.expiry;
  writeUint64(key, 1, expiresAtMs);
  return key;
}

export function decodeExpiryIndexKey(key: Uint8Array): { expiresAtMs: number; itemKey: Uint8Array } {
  assert(key.length > EXPIRY_HEADER_BYTES && key[0] === Namespace.expiry, "decodeExpiryIndexKey: not an expiry index key");
  const expiresAtMs = readUint64(key, 1);
  assert(Number.isSafeInteger(expiresAtMs), `decodeExpiryIndexKey: time ${expiresAtMs} is not a safe integer`);
  return { expiresAtMs, itemKey: key.slice(EXPIRY_HEADER_BYTES) };
}

function writeUint64(bytes: Uint8Array, offset: number, value: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(offset, Math.floor(value / TWO_POW_32));
  view.setUint32(offset + 4, value % TWO_POW_32);
}

function readUint64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(offset) * TWO_POW_32 + view.getUint32(offset + 4);
}
