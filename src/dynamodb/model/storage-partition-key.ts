import { createHash } from "node:crypto";
import { encodedItemKeyLength } from "../../storage/item-key.js";

/**
 * The partition key bytes the store sees for a DynamoDB partition key (its key-bytes.ts
 * encoding). DynamoDB takes partition keys of 2048 bytes and sort keys of 1024, more than one
 * storage key holds (storage/item-key.ts: 1969 encoded bytes for both), so a long partition key
 * is stored as a fixed-length digest: [0xFF][SHA-256 of the key bytes] (33 bytes). The item's
 * attributes hold the key attributes, so answers and LastEvaluatedKey still carry the original.
 *
 * Which keys: those whose escaped bytes exceed `storedPartitionKeyBytesMax` (896: with the
 * header, the terminator and a 1024-byte sort key with up to 42 NUL bytes, still one storage
 * key), and every key whose first byte is 0xFF. No S key (UTF-8 never starts with 0xFF) and no N
 * key (key-bytes.ts starts numbers with 0x01..0x03) can begin with 0xFF; a B key that does is
 * digested too, so a stored partition key starting with 0xFF is always a digest and a short key
 * can never equal a long key's digest. The choice depends on the partition key alone, so every
 * item of one partition key shares one storage partition key and Query still orders by sort key.
 * Partition keys are not ordered in DynamoDB (Scan order is unspecified), so the digest changes
 * nothing a client can see; Scan segments hash the stored bytes and still partition the table.
 */
export const digestMarker = 0xff;
export const storedPartitionKeyBytesMax = 896;
export const digestPartitionKeyBytes = 33;

/** Header (namespace byte, table id) plus the partition key's terminator in an encoded item key. */
const itemKeyOverheadBytes = encodedItemKeyLength(new Uint8Array(0));

export function storagePartitionKey(keyBytes: Uint8Array): Uint8Array {
  const escaped = encodedItemKeyLength(keyBytes) - itemKeyOverheadBytes;
  if (escaped <= storedPartitionKeyBytesMax && keyBytes[0] !== digestMarker) return keyBytes;
  const out = new Uint8Array(digestPartitionKeyBytes);
  out[0] = digestMarker;
  out.set(createHash("sha256").update(keyBytes).digest(), 1);
  return out;
}

/** Whether stored partition key bytes are a digest (the original is only in the item). */
export function isDigestPartitionKey(bytes: Uint8Array): boolean {
  return bytes.length === digestPartitionKeyBytes && bytes[0] === digestMarker;
}
