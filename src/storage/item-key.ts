import { assert } from "../assert.js";
import { EXPIRY_HEADER_BYTES, Namespace } from "./keyspace.js";
import { STORAGE_KEY_BYTES_MAX } from "./write-ops.js";

/**
 * The order-preserving encoding of an item's key (DESIGN.md, "Data model"):
 *
 *   [0x01 items][table id u32 BE][escaped partition key][0x00 0x01][escaped sort key]
 *
 * Escaping maps each 0x00 byte to 0x00 0xFF, and the partition key ends with 0x00 0x01. A
 * terminator sorts below every escaped byte that can follow it (0x00 0xFF and 0x01..0xFF), so a
 * partition key sorts before every longer key it is a prefix of, and memcmp order of encoded
 * keys equals the order of (table id, partition key, sort key) tuples compared bytewise. One
 * partition's items are therefore contiguous and sorted by sort key (a Query is a range scan),
 * and the escaped form of a raw partition-key prefix is a byte prefix of every key starting
 * with it (list-by-prefix is a prefix scan).
 *
 * The sort key comes last and needs no terminator; it is escaped anyway so a stray 0x00 in a
 * stored key is caught on decode. An empty sort key encodes like an absent one: the edges
 * refuse empty key attributes, and decode returns `sortKey: undefined` for both.
 */
export interface ItemKey {
  tableId: number;
  partitionKey: Uint8Array;
  sortKey?: Uint8Array;
}

const HEADER_BYTES = 1 + 4;

/**
 * The longest encoded item key the engines can store together with its expiry index entry.
 * Escaping doubles every 0x00 byte, so a key within limits.ts keyBytesMax can still be too long
 * encoded (1024 NUL bytes encode to 2055); the edge checks `encodedItemKeyLength` against this
 * and refuses the request instead of tripping the storage engine's key assertion.
 */
export const ITEM_KEY_ENCODED_BYTES_MAX = STORAGE_KEY_BYTES_MAX - EXPIRY_HEADER_BYTES;

/** The length `encodeItemKey` would produce, without encoding. */
export function encodedItemKeyLength(partitionKey: Uint8Array, sortKey?: Uint8Array): number {
  return HEADER_BYTES + escapedLength(partitionKey) + 2 + (sortKey === undefined ? 0 : escapedLength(sortKey));
}
const ESCAPE = 0x00;
const ESCAPED_ZERO = 0xff;
const TERMINATOR = 0x01;
const TABLE_ID_MAX = 0xffff_ffff;

export function encodeItemKey(tableId: number, partitionKey: Uint8Array, sortKey?: Uint8Array): Uint8Array {
  const sortBytes = sortKey ?? EMPTY;
  const length = HEADER_BYTES + escapedLength(partitionKey) + 2 + escapedLength(sortBytes);
  const out = new Uint8Array(length);
  let offset = writeHeader(out, tableId);
  offset = writeEscaped(out, offset, partitionKey);
  out[offset++] = ESCAPE;
  out[offset++] = TERMINATOR;
  offset = writeEscaped(out, offset, sortBytes);
  assert(offset === length, "encodeItemKey: length mismatch");
  return out;
}

export function decodeItemKey(bytes: Uint8Array): ItemKey {
  assert(bytes.length >= HEADER_BYTES + 2 && bytes[0] === Namespace.items, "decodeItemKey: not an item key");
  const tableId = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  const partition = readEscaped(bytes, HEADER_BYTES, true);
  assert(partition.next >= 0, "decodeItemKey: partition key has no terminator");
  const sort = readEscaped(bytes, partition.next, false);
  const key: ItemKey = { tableId, partitionKey: partition.bytes };
  if (sort.bytes.length > 0) key.sortKey = sort.bytes;
  return key;
}

/**
 * The table id of an encoded item key, without decoding the rest (the write path asks it of
 * every replica write: whether the table was dropped, which tree indexes the key).
 */
export function itemKeyTableId(bytes: Uint8Array): number {
  if (!(bytes.length >= HEADER_BYTES + 2 && bytes[0] === Namespace.items)) assert(false, "itemKeyTableId: not an item key");
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
}

/**
 * The raw partition key of an encoded item key, as `decodeItemKey` would return it. When it
 * holds no 0x00 byte (nothing escaped, the usual case) it is a view into `bytes`, not a copy,
 * so callers must not write to it; placement only hashes it.
 */
export function itemPartitionKey(bytes: Uint8Array): Uint8Array {
  if (!(bytes.length >= HEADER_BYTES + 2 && bytes[0] === Namespace.items)) assert(false, "itemPartitionKey: not an item key");
  const end = bytes.indexOf(ESCAPE, HEADER_BYTES);
  // A 0x00 that starts the terminator (0x00 0x01) ends a key with nothing escaped; any other needs the full decode.
  if (end >= 0 && bytes[end + 1] === TERMINATOR) return bytes.subarray(HEADER_BYTES, end);
  return decodeItemKey(bytes).partitionKey;
}

/** Every item of one table starts with these bytes (scan it to drop or list a table). */
export function tableItemsPrefix(tableId: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeHeader(out, tableId);
  return out;
}

/**
 * Every item of `tableId` whose partition key starts with the raw bytes `partitionKeyPrefix`
 * starts with these bytes ("keys starting with"). An empty prefix is the whole table.
 */
export function itemKeyPrefix(tableId: number, partitionKeyPrefix: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + escapedLength(partitionKeyPrefix));
  writeEscaped(out, writeHeader(out, tableId), partitionKeyPrefix);
  return out;
}

/** Every item of exactly one partition key (all its sort keys) starts with these bytes. */
export function partitionItemsPrefix(tableId: number, partitionKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + escapedLength(partitionKey) + 2);
  const offset = writeEscaped(out, writeHeader(out, tableId), partitionKey);
  out[offset] = ESCAPE;
  out[offset + 1] = TERMINATOR;
  return out;
}

const EMPTY = new Uint8Array(0);

function writeHeader(out: Uint8Array, tableId: number): number {
  // The message is built only on failure: this runs for every item request.
  if (!(Number.isInteger(tableId) && tableId >= 0 && tableId <= TABLE_ID_MAX)) assert(false, `item key: table id must be a u32, got ${tableId}`);
  out[0] = Namespace.items;
  out[1] = tableId >>> 24;
  out[2] = (tableId >>> 16) & 0xff;
  out[3] = (tableId >>> 8) & 0xff;
  out[4] = tableId & 0xff;
  return HEADER_BYTES;
}

function escapedLength(raw: Uint8Array): number {
  let length = raw.length;
  for (const byte of raw) if (byte === ESCAPE) length++;
  return length;
}

function writeEscaped(out: Uint8Array, start: number, raw: Uint8Array): number {
  let offset = start;
  for (const byte of raw) {
    out[offset++] = byte;
    if (byte === ESCAPE) out[offset++] = ESCAPED_ZERO;
  }
  return offset;
}

/**
 * Unescapes from `start`. With `terminated`, stops after the 0x00 0x01 terminator and returns
 * the offset after it in `next` (-1 if none); otherwise reads to the end.
 */
function readEscaped(bytes: Uint8Array, start: number, terminated: boolean): { bytes: Uint8Array; next: number } {
  const out = new Uint8Array(bytes.length - start);
  let length = 0;
  let offset = start;
  while (offset < bytes.length) {
    const byte = bytes[offset++]!;
    if (byte !== ESCAPE) {
      out[length++] = byte;
      continue;
    }
    const marker = bytes[offset++];
    if (marker === ESCAPED_ZERO) {
      out[length++] = ESCAPE;
      continue;
    }
    assert(terminated && marker === TERMINATOR, `decodeItemKey: bad escape 0x00 0x${(marker ?? 0).toString(16)} at byte ${offset - 2}`);
    return { bytes: out.slice(0, length), next: offset };
  }
  return { bytes: out.slice(0, length), next: terminated ? -1 : offset };
}
