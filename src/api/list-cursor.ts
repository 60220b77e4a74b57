import type { ItemKeyParts } from "../coordinator/item-operations.js";
import { badRequest } from "../errors.js";

/**
 * The opaque list cursor: base64url of a format byte and the key the page ended at. The next
 * page starts strictly after that key, so following cursors over an unchanging table yields
 * every item exactly once. Two formats:
 *   1: [1][partition key]                                   (native tables: no sort key)
 *   2: [2][partition key length, u16 big-endian][partition key][sort key]
 * Format 2 keeps paging exact on tables whose items share a partition key (DynamoDB range
 * keys). Decoding is strict (canonical base64url, known format, each key part within
 * keyBytesMax, the partition key inside the requested prefix): anything else is 400
 * InvalidCursor.
 */
const PARTITION_ONLY = 1;
const WITH_SORT_KEY = 2;
const LENGTH_BYTES = 2;

export function encodeCursor(key: ItemKeyParts | Uint8Array): string {
  const parts = key instanceof Uint8Array ? { partitionKey: key } : key;
  const { partitionKey, sortKey } = parts;
  if (sortKey === undefined) {
    const bytes = Buffer.allocUnsafe(partitionKey.length + 1);
    bytes[0] = PARTITION_ONLY;
    bytes.set(partitionKey, 1);
    return bytes.toString("base64url");
  }
  const bytes = Buffer.allocUnsafe(1 + LENGTH_BYTES + partitionKey.length + sortKey.length);
  bytes[0] = WITH_SORT_KEY;
  bytes.writeUInt16BE(partitionKey.length, 1);
  bytes.set(partitionKey, 1 + LENGTH_BYTES);
  bytes.set(sortKey, 1 + LENGTH_BYTES + partitionKey.length);
  return bytes.toString("base64url");
}

export function decodeCursor(cursor: string, options: { keyBytesMax: number; prefix: Uint8Array }): ItemKeyParts {
  const invalid = (why: string) => badRequest("InvalidCursor", `cursor is not one this server issued: ${why}`);
  const bytesMax = 1 + LENGTH_BYTES + 2 * options.keyBytesMax;
  if (cursor.length > Math.ceil((bytesMax * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid("not base64url of the expected length");
  }
  const bytes = Buffer.from(cursor, "base64url");
  if (bytes.toString("base64url") !== cursor) throw invalid("not canonical base64url");
  const key = splitKey(bytes);
  if (typeof key === "string") throw invalid(key);
  const { partitionKey, sortKey } = key;
  if (partitionKey.length === 0 || partitionKey.length > options.keyBytesMax) throw invalid(`key of ${partitionKey.length} bytes`);
  if (sortKey !== undefined && (sortKey.length === 0 || sortKey.length > options.keyBytesMax)) throw invalid(`sort key of ${sortKey.length} bytes`);
  if (!startsWith(partitionKey, options.prefix)) throw invalid("it belongs to another prefix");
  return key;
}

/** The key parts of a decoded cursor, or why it is not one. */
function splitKey(bytes: Buffer): ItemKeyParts | string {
  const view = (from: number, to: number) => new Uint8Array(bytes.buffer, bytes.byteOffset + from, to - from);
  if (bytes[0] === PARTITION_ONLY) return { partitionKey: view(1, bytes.length) };
  if (bytes[0] !== WITH_SORT_KEY) return `unknown format ${bytes[0]}`;
  if (bytes.length < 1 + LENGTH_BYTES) return "truncated";
  const partitionEnd = 1 + LENGTH_BYTES + bytes.readUInt16BE(1);
  if (partitionEnd > bytes.length) return "truncated";
  return { partitionKey: view(1 + LENGTH_BYTES, partitionEnd), sortKey: view(partitionEnd, bytes.length) };
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
